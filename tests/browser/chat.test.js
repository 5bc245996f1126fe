// The emulator's chat page (web/index.html, served at GET /) driven in headless Chromium: two pages
// connect to the Websocket-Lab API (the emulator's default API), show their connection ids, chat,
// and a raw frame without a route shows the gateway's Forbidden error.
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test chat.test.js
//
// Environment:
//   APIGW_EMULATOR      the emulator binary (default ../../build/emulator/apigw-ws-emulator).
//   CHROMIUM            the browser (default /usr/bin/chromium, Debian's chromium package).
//   APIGW_BROWSER_PAGE  a file to serve as the page instead of the emulator's embedded copy, through
//                       a small proxy in front of the emulator (to try edits of web/index.html
//                       without rebuilding).
//   APIGW_BROWSER_SCREENSHOTS=DIR  save a screenshot of each page there at the end.
//   APIGW_BROWSER_STANDIN_API=1  run with standin-api.json (mock handlers, no broadcast) instead of
//                       the default API; the message-delivery check is then skipped.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const {
  CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, STEP_TIMEOUT, CONNECTION_ID, startEmulator, stopEmulator,
  httpGet, startPageProxy, waitInPage, children, guardProcess,
} = require('./helpers');

const PAGE_FILE = process.env.APIGW_BROWSER_PAGE || '';
const STANDIN_API = process.env.APIGW_BROWSER_STANDIN_API === '1';

const TEST_TIMEOUT = 50000;   // the whole scenario, browser start included

// ---- page helpers ------------------------------------------------------------------------------

// What a page shows, for failure messages.
async function describePage(page) {
  try {
    return await page.evaluate(() => {
      const text = (id) => document.getElementById(id)?.textContent.trim();
      const entries = Array.from(document.querySelectorAll('[data-testid="message"]'),
        (li) => `${li.dataset.kind}: ${li.querySelector('[data-testid="message-text"]').textContent}`);
      return `state=${text('state')} ${text('close-info')} id=${text('connection-id')} ` +
        `messages=${JSON.stringify(entries)}`;
    });
  } catch (e) {
    return `(page not readable: ${e.message})`;
  }
}

// The connection id the page shows, once it looks like one.
function waitForConnectionId(page, ctx) {
  return waitInPage(page, 'showing its connection id', (re) => {
    const t = document.querySelector('[data-testid="connection-id"]')?.textContent.trim();
    return new RegExp(re).test(t || '') ? t : null;
  }, CONNECTION_ID.source, ctx);
}

// An entry of the message list of this kind with exactly this text.
function waitForEntry(page, kind, text, ctx) {
  return waitInPage(page, `showing the ${kind} message ${JSON.stringify(text)}`, ([k, t]) =>
    Array.from(document.querySelectorAll(`[data-testid="message"][data-kind="${k}"]`)).some(
      (li) => li.querySelector('[data-testid="message-text"]').textContent === t),
  [kind, text], ctx);
}

function entries(page, kind) {
  return page.$$eval(`[data-testid="message"][data-kind="${kind}"] [data-testid="message-text"]`,
    (els) => els.map((e) => e.textContent));
}

async function send(page, text, { raw }) {
  const box = page.locator('[data-testid="raw-checkbox"]');
  if ((await box.isChecked()) !== raw) await box.setChecked(raw);
  const input = page.locator('[data-testid="message-input"]');
  await input.fill(text);
  await input.press('Enter');
}

// ---- the scenario ------------------------------------------------------------------------------

guardProcess(TEST_TIMEOUT);

test('two browser pages chat through the emulator\'s chat page', { timeout: TEST_TIMEOUT }, async (t) => {
  const ctx = { emu: null, proxy: null, browser: null };
  const pageErrors = [];
  let exitStatus = null;
  try {
    ctx.emu = await startEmulator(STANDIN_API ? ['--config', path.join(__dirname, 'standin-api.json')] : []);
    children.add(ctx.emu.child);
    let origin = `http://127.0.0.1:${ctx.emu.port}`;
    if (PAGE_FILE) {
      ctx.proxy = await startPageProxy({ '/': path.resolve(PAGE_FILE) }, ctx.emu.port);
      origin = `http://127.0.0.1:${ctx.proxy.port}`;
      t.diagnostic(`page served from ${PAGE_FILE} through a proxy at ${origin}`);
    }
    if (STANDIN_API) t.diagnostic('stand-in API (mock handlers): message delivery is not checked');

    // The page itself, before any browser: a clear message if the emulator does not serve it.
    const index = await httpGet(`${origin}/`);
    assert.equal(index.status, 200,
      `GET ${origin}/ should serve the chat page; got ${index.status} ${index.body.slice(0, 200)}`);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    assert.match(index.body, /data-testid="connection-id"/, 'the page at / is not web/index.html');

    ctx.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
      timeout: 20000 });
    const pages = [];
    for (const label of ['page 1', 'page 2']) {
      const context = await ctx.browser.newContext();
      const page = await context.newPage();
      page.label = label;
      page.describe = () => describePage(page);
      page.on('pageerror', (e) => pageErrors.push(`${label}: ${e.message}`));
      await page.goto(`${origin}/`, { timeout: STEP_TIMEOUT });
      pages.push(page);
    }
    const [p1, p2] = pages;

    // Both connect and learn their own, distinct connection ids.
    const ids = await Promise.all(pages.map((p) => waitForConnectionId(p, ctx)));
    assert.notEqual(ids[0], ids[1], 'the two pages show the same connection id');
    for (const p of pages) {
      assert.equal(await p.locator('[data-testid="connection-state"]').getAttribute('data-state'), 'open');
    }
    const listed = JSON.parse((await httpGet(`http://127.0.0.1:${ctx.emu.port}/@emulator/connections`)).body);
    assert.deepEqual(listed.connections.map((c) => c.connectionId).filter((id) => ids.includes(id)).sort(),
      [...ids].sort(), 'both ids are open connections of the emulator');

    // Page 1 says hello: the frame goes out as the lab's sendmessage action...
    await send(p1, 'hello', { raw: false });
    await waitForEntry(p1, 'sent', JSON.stringify({ action: 'sendmessage', data: 'hello' }), ctx);
    // ...and the chat delivers it to everyone, the sender included, as the plain text.
    if (!STANDIN_API) {
      await Promise.all(pages.map((p) => waitForEntry(p, 'received', 'hello', ctx)));
    }

    // A raw frame with no route: the gateway's Forbidden error, shown as an error, to the sender only.
    await send(p1, '{"action":"nosuchroute"}', { raw: true });
    await waitForEntry(p1, 'error', 'Forbidden', ctx);
    assert.deepEqual(await entries(p2, 'error'), [], 'page 2 got an error it did not cause');
    const detail = await p1.locator('[data-testid="message"][data-kind="error"]').first().textContent();
    assert.ok(detail.includes(ids[0]), `the error entry names the sender's connection id: ${detail}`);

    // Page 2 disconnects: its state says closed, with the code 1000 the emulator echoes.
    await p2.locator('[data-testid="connect-button"]').click();
    await waitInPage(p2, 'showing closed with code 1000', () =>
      document.querySelector('[data-testid="connection-state"]').dataset.state === 'closed' &&
      /\b1000\b/.test(document.querySelector('[data-testid="close-info"]').textContent), undefined, ctx);

    if (!STANDIN_API) {
      // The chat goes on for page 1 alone.
      await send(p1, 'anyone there?', { raw: false });
      await waitForEntry(p1, 'received', 'anyone there?', ctx);
      assert.deepEqual(await entries(p2, 'received'), ['hello'], 'a closed page received a message');
    }

    assert.deepEqual(pageErrors, [], 'script errors in the page');
    if (SCREENSHOTS) {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      for (const [i, p] of pages.entries()) {
        await p.screenshot({ path: path.join(SCREENSHOTS, `chat-page-${i + 1}.png`), fullPage: true });
      }
    }
  } finally {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    if (ctx.proxy) await ctx.proxy.close();
    if (ctx.emu) {
      exitStatus = await stopEmulator(ctx.emu);
    }
  }
  assert.equal(exitStatus, 0, `the emulator should exit 0 on SIGTERM; stderr: ${ctx.emu.err.slice(-2000)}`);
});
