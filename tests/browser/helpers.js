// What the browser tests (chat.test.js, dashboard.test.js) share: the emulator as a child process,
// a plain HTTP GET, a proxy that serves page files in front of the emulator, Chromium's launch
// options and a wait for a condition in a page that fails with what the page shows.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const EMULATOR = process.env.APIGW_EMULATOR ||
  path.resolve(__dirname, '../../build/emulator/apigw-ws-emulator');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = process.env.APIGW_BROWSER_SCREENSHOTS || '';

// Chromium as root on a machine without network: these flags, or it hangs.
// playwright adds --headless and a fresh --user-data-dir of its own.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const STEP_TIMEOUT = 10000;   // each wait for a condition on a page
const CONNECTION_ID = /^[A-Za-z0-9_-]{15}=$/;

// ---- the emulator ------------------------------------------------------------------------------

// Resolves with {child, out, err, port, stage} once it prints "listening on ws://HOST:PORT/STAGE".
function startEmulator(args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(EMULATOR, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const emu = { child, out: '', err: '', port: 0, stage: '' };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start within 10 s; stderr: ${emu.err}`));
    }, 10000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.stderr.on('data', (d) => { emu.err += d; });
    child.stdout.on('data', (d) => {
      emu.out += d;
      const m = /listening on ws:\/\/[^/\s]+:(\d+)\/(\S+)/.exec(emu.out);
      if (m && !emu.port) {
        clearTimeout(timer);
        emu.port = Number(m[1]);
        emu.stage = m[2];
        resolve(emu);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited (${signal || code}) before listening; stderr: ${emu.err}`));
    });
  });
}

// SIGTERM, then SIGKILL if it is still there after 10 s. Resolves with the exit code or signal.
function stopEmulator(emu) {
  return new Promise((resolve) => {
    if (emu.child.exitCode !== null || emu.child.signalCode !== null) {
      resolve(emu.child.exitCode ?? emu.child.signalCode);
      return;
    }
    const timer = setTimeout(() => emu.child.kill('SIGKILL'), 10000);
    emu.child.once('exit', (code, signal) => { clearTimeout(timer); resolve(signal || code); });
    emu.child.kill('SIGTERM');
  });
}

function httpRequest(method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

const httpGet = (url) => httpRequest('GET', url);

// ---- serving page files in front of the emulator -----------------------------------------------

// pages maps a request path ("/", "/@emulator/") to a file answered for GET, whatever the query
// ("/?token=…" too); every other request, WebSocket upgrades included, goes to the emulator
// unchanged, so the pages' WebSocket and /@emulator/ requests work as on the emulator.
function startPageProxy(pages, emulatorPort) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const pathname = req.url.split('?')[0];
    if (req.method === 'GET' && Object.hasOwn(pages, pathname)) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(fs.readFileSync(pages[pathname]));
      return;
    }
    const up = http.request({ host: '127.0.0.1', port: emulatorPort, method: req.method,
      path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      res.flushHeaders();  // a server-sent event stream opens before its first event
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(emulatorPort, '127.0.0.1', () => {
      let lines = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      }
      up.write(lines + '\r\n');
      if (head.length) up.write(head);
      socket.pipe(up).pipe(socket);
    });
    for (const s of [up, socket]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => { up.destroy(); socket.destroy(); });
    }
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      close: () => new Promise((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
    }));
  });
}

// ---- pages -------------------------------------------------------------------------------------

// Waits until fn(arg) is truthy in the page and returns its value. On timeout it fails with
// page.label, what page.describe() (if set) says the page shows, and the emulator's output.
async function waitInPage(page, what, fn, arg, ctx) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout: STEP_TIMEOUT, polling: 50 })).jsonValue();
  } catch (e) {
    let shows = '';
    if (page.describe) {
      try { shows = await page.describe(); } catch (d) { shows = `(page not readable: ${d.message})`; }
    }
    throw new Error(`${page.label}: ${what} did not happen within ${STEP_TIMEOUT} ms ` +
      `(${e.message.split('\n')[0]})\n  page: ${shows}\n` +
      `  emulator stdout: ${ctx.emu.out.slice(-2000)}\n  emulator stderr: ${ctx.emu.err.slice(-2000)}`);
  }
}

// ---- the process -------------------------------------------------------------------------------

// Whatever happens, the emulators do not outlive this process, and this process does not outlive
// the test by much (node:test's timeout fails the test but cannot stop a wait in progress).
const children = new Set();
let guarded = false;
function guardProcess(testTimeout) {
  if (guarded) return;
  guarded = true;
  process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
  setTimeout(() => {
    console.error(`browser test: still running ${testTimeout + 15000} ms after its start; giving up`);
    process.exit(1);
  }, testTimeout + 15000).unref();
}

module.exports = {
  EMULATOR, CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, STEP_TIMEOUT, CONNECTION_ID,
  startEmulator, stopEmulator, httpRequest, httpGet, startPageProxy, waitInPage,
  children, guardProcess,
};
