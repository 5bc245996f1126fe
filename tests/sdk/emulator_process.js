// The emulator binary as a child process for the SDK tests: started on a free port of
// 127.0.0.1 from a config file, stopped with SIGTERM (SIGKILL after 10 s).
// The binary is $APIGW_EMULATOR, or ../../build/emulator/apigw-ws-emulator from this folder.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

const EMULATOR = process.env.APIGW_EMULATOR ||
  path.resolve(__dirname, '../../build/emulator/apigw-ws-emulator');

// Resolves to { child, host, port, stage, endpoint, stderr() } once the ready line is printed.
function startEmulator(config, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(EMULATOR, ['--config', config, '--port', '0', ...extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`emulator did not start within 10 s; stderr: ${err}`));
    }, 10000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on ws:\/\/([^/\s]+):(\d+)\/(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[2]);
        resolve({ child, host: m[1], port, stage: m[3], endpoint: `http://127.0.0.1:${port}`, stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with ${code} before listening; stderr: ${err}`));
    });
  });
}

// Resolves to the exit code (or the signal's name) once the process is gone.
function stopEmulator(emu) {
  return new Promise((resolve) => {
    if (emu.child.exitCode !== null) { resolve(emu.child.exitCode); return; }
    const timer = setTimeout(() => emu.child.kill('SIGKILL'), 10000);
    emu.child.on('exit', (code, signal) => { clearTimeout(timer); resolve(signal || code); });
    emu.child.kill('SIGTERM');
  });
}

module.exports = { startEmulator, stopEmulator };
