// The chat page (web/index.html, served at GET /) in headless Chromium: the endpoint it shows and
// connects to is the stage URL as wscat would use it, and a refused handshake shows its HTTP status
// and reason, which the page reads from the routing trace (/@emulator/trace) since the browser's
// WebSocket reports only close code 1006:
//   - the lab API: the page shows and uses ws://HOST:PORT/Prod;
//   - config/lab-auth.json (a token authorizer on $connect): no token is 401 "identity source
//     missing or empty: route.request.querystring.token", an unknown token 401 "Unauthorized", a
//     revoked one 403 (the authorizer's Deny), alice-token connects (endpoint …/Prod?token=alice-token);
//   - throttled-api.json (one handshake in all): the second page is refused with 429, throttled;
//   - config/lab-auth.json with --no-admin: no trace to read, the page says what it said before
//     (close code 1006, "the emulator's log says why").
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test chat-handshake.test.js
//
// Environment:
//   APIGW_EMULATOR      the emulator binary (default ../../build/emulator/apigw-ws-emulator).
//   CHROMIUM            the browser (default /usr/bin/chromium, Debian's chromium package).
//   APIGW_BROWSER_PAGE  a file to serve as the page instead of the emulator's embedded copy, through
//                       a small proxy in front of the emulator (to try edits of web/index.html
//                       without rebuilding).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');
const {
  CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT, CONNECTION_ID, startEmulator, stopEmulator, startPageProxy,
  waitInPage, children, guardProcess,
} = require('./helpers');

const PAGE_FILE = process.env.APIGW_BROWSER_PAGE || '';
const CONFIG = path.resolve(__dirname, '../../config');
const TEST_TIMEOUT = 60000;   // the whole file, browser start included (each test: 20 s)

// ---- page helpers ------------------------------------------------------------------------------

async function describePage(page) {
  try {
    return await page.evaluate(() => {
      const text = (id) => document.getElementById(id)?.textContent.trim();
      const entries = Array.from(document.querySelectorAll('[data-testid="message"]'),
        (li) => `${li.dataset.kind}: ${li.querySelector('[data-testid="message-text"]').textContent}`);
      return `state=${text('state')} ${text('close-info')} endpoint=${text('endpoint')} ` +
        `id=${text('connection-id')} messages=${JSON.stringify(entries)}`;
    });
  } catch (e) {
    return `(page not readable: ${e.message})`;
  }
}

// Opens the chat page at origin + suffix in the test's one browser page (a new page costs a
// second; a navigation, a fraction of it); records the WebSocket URLs the page opens.
async function openChat(ctx, suffix, label) {
  if (!ctx.page) {
    const page = await (await ctx.browser.newContext()).newPage();
    page.describe = () => describePage(page);
    page.on('websocket', (ws) => page.sockets.push(ws.url()));
    page.on('pageerror', (e) => ctx.pageErrors.push(`${page.label}: ${e.message}`));
    ctx.page = page;
  }
  const page = ctx.page;
  page.label = label;
  page.sockets = [];
  await page.goto(ctx.origin + suffix, { timeout: STEP_TIMEOUT });
  return page;
}

const text = (page, testid) => page.locator(`[data-testid="${testid}"]`).textContent();

// The refusal the page shows, once it shows one: {status, info, entry, detail}.
function waitForRefusal(page, ctx) {
  return waitInPage(page, 'showing a refused handshake', () => {
    const info = document.querySelector('[data-testid="close-info"]');
    const state = document.querySelector('[data-testid="connection-state"]').dataset.state;
    if (state !== 'closed' || !info.dataset.refusalStatus) return null;
    const entry = document.querySelector('[data-testid="message"][data-kind="error"]');
    return {
      status: info.dataset.refusalStatus, info: info.textContent,
      entry: entry ? entry.querySelector('[data-testid="message-text"]').textContent : null,
      detail: entry ? entry.querySelector('.detail')?.textContent : null,
    };
  }, undefined, ctx);
}

function waitForConnectionId(page, ctx) {
  return waitInPage(page, 'showing its connection id', (re) => {
    const t = document.querySelector('[data-testid="connection-id"]')?.textContent.trim();
    return new RegExp(re).test(t || '') ? t : null;
  }, CONNECTION_ID.source, ctx);
}

// Runs body(ctx) with an emulator started with args (behind the page proxy when PAGE_FILE is set).
async function withEmulator(ctx, args, body) {
  ctx.emu = await startEmulator(args);
  children.add(ctx.emu.child);
  let proxy = null;
  try {
    ctx.origin = `http://127.0.0.1:${ctx.emu.port}`;
    if (PAGE_FILE) {
      proxy = await startPageProxy({ '/': path.resolve(PAGE_FILE) }, ctx.emu.port);
      ctx.origin = `http://127.0.0.1:${proxy.port}`;
    }
    ctx.host = new URL(ctx.origin).host;
    await body();
  } finally {
    if (proxy) await proxy.close();
    ctx.exitStatus = await stopEmulator(ctx.emu);
  }
  assert.equal(ctx.exitStatus, 0, `the emulator should exit 0 on SIGTERM; stderr: ${ctx.emu.err.slice(-2000)}`);
}

// ---- the scenarios: one browser for all ---------------------------------------------------------

guardProcess(TEST_TIMEOUT);

const ctx = { emu: null, browser: null, page: null, origin: '', host: '', pageErrors: [] };
before(async () => {
  ctx.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    timeout: 20000 });
});
after(async () => {
  if (ctx.browser) await ctx.browser.close().catch(() => {});
  assert.deepEqual(ctx.pageErrors, [], 'script errors in the pages');
});

test('the endpoint is the stage URL, as wscat takes it, and the page connects there', { timeout: 20000 }, async (t) => {
  if (PAGE_FILE) t.diagnostic(`page served from ${PAGE_FILE} through a proxy`);
  await withEmulator(ctx, ['--config', path.join(CONFIG, 'websocket-lab.json')], async () => {
    assert.equal(ctx.emu.stage, 'Prod');
    const page = await openChat(ctx, '/', 'lab page');
    await waitForConnectionId(page, ctx);
    assert.equal(await text(page, 'endpoint'), `ws://${ctx.host}/Prod`);
    assert.equal(page.sockets.length, 1, `one WebSocket: ${JSON.stringify(page.sockets)}`);
    assert.equal(new URL(page.sockets[0]).pathname, '/Prod', `the page connects to the stage: ${page.sockets[0]}`);
  });
  // The page's own query goes along, and is part of the endpoint shown (the page's nonce is not).
  await withEmulator(ctx, ['--config', path.join(CONFIG, 'lab-auth.json')], async () => {
    const alice = await openChat(ctx, '/?token=alice-token', 'alice');
    await waitForConnectionId(alice, ctx);
    assert.equal(await text(alice, 'endpoint'), `ws://${ctx.host}/Prod?token=alice-token`);
    assert.equal(await alice.locator('[data-testid="close-info"]').getAttribute('data-refusal-status'), null);
  });
});

test('a handshake the authorizer refuses shows its status and reason', { timeout: 20000 }, async () => {
  await withEmulator(ctx, ['--config', path.join(CONFIG, 'lab-auth.json')], async () => {
    const none = await openChat(ctx, '/', 'no token');
    const r401 = await waitForRefusal(none, ctx);
    assert.equal(r401.status, '401');
    assert.match(r401.info, /401 Unauthorized/);
    assert.match(r401.info, /identity source missing or empty: route\.request\.querystring\.token/);
    assert.doesNotMatch(r401.info, /1006/, 'the refusal replaces the close code');
    assert.equal(r401.entry,
      'Handshake refused with 401 Unauthorized: identity source missing or empty: route.request.querystring.token');
    assert.match(r401.detail, /request [A-Za-z0-9_-]{15}= in the routing trace/);

    const mallory = await openChat(ctx, '/?token=mallory-token', 'unknown token');
    const unknown = await waitForRefusal(mallory, ctx);
    assert.equal(unknown.status, '401');
    assert.equal(unknown.entry, 'Handshake refused with 401 Unauthorized: the authorizer failed with "Unauthorized"');

    const revoked = await openChat(ctx, '/?token=revoked-token', 'revoked token');
    const r403 = await waitForRefusal(revoked, ctx);
    assert.equal(r403.status, '403');
    assert.match(r403.info, /403 Forbidden · the authorizer's policy denies execute-api:Invoke/);

    // Connect again: the second attempt is refused again, and shown once more.
    await revoked.locator('[data-testid="connect-button"]').click();
    await waitInPage(revoked, 'showing the second refusal', () =>
      document.querySelectorAll('[data-testid="message"][data-kind="error"]').length === 2 &&
      document.querySelector('[data-testid="connection-state"]').dataset.state === 'closed' &&
      document.querySelector('[data-testid="close-info"]').dataset.refusalStatus === '403', undefined, ctx);
  });
});

test('a throttled handshake shows 429', { timeout: 20000 }, async () => {
  // Stage throttling with one handshake in all: the page's second load is throttled.
  await withEmulator(ctx, ['--config', path.join(__dirname, 'throttled-api.json')], async () => {
    const first = await openChat(ctx, '/', 'first load');
    await waitForConnectionId(first, ctx);
    const second = await openChat(ctx, '/', 'second load');
    const r429 = await waitForRefusal(second, ctx);
    assert.equal(r429.status, '429');
    assert.match(r429.entry, /^Handshake refused with 429 Too Many Requests: throttled/);
  });
});

test('without the admin endpoints the page shows the close code, as before', { timeout: 20000 }, async () => {
  await withEmulator(ctx, ['--config', path.join(CONFIG, 'lab-auth.json'), '--no-admin'], async () => {
    const page = await openChat(ctx, '/', 'no admin');
    await waitInPage(page, 'showing the close code', () =>
      document.querySelector('[data-testid="connection-state"]').dataset.state === 'closed' &&
      /code 1006/.test(document.querySelector('[data-testid="close-info"]').textContent), undefined, ctx);
    assert.equal(await text(page, 'close-info'), '(code 1006 · closed abnormally · the handshake was refused or ' +
      'the connection dropped; the emulator\'s log says why)');
    assert.equal(await page.locator('[data-testid="close-info"]').getAttribute('data-refusal-status'), null);
    // No stage to learn: the root path, which takes WebSockets too.
    assert.equal(await text(page, 'endpoint'), `ws://${ctx.host}/`);
  });
});
