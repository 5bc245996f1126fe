// The dashboard (web/dashboard.html, served at GET /@emulator/) in headless Chromium at a 1200 px
// wide window: its Routes table never breaks a route key or an integration name (`$disconnec|t`);
// a table too wide for its column scrolls sideways instead of widening the page; the Tables panel
// shows the items integrations write; and the "Try a
// message" box's placeholder is a message one of the API's own routes takes:
//   - the lab API (config/websocket-lab.json): {"action":"sendmessage"};
//   - dashboard-api.json: {"action":"echo"};
//   - long-names-api.json (a nested selection path, long route key and integration names):
//     {"data":{"type":"join-a-room-with-…"}}, the table scrolls.
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test dashboard-routes.test.js
//
// Environment:
//   APIGW_EMULATOR       the emulator binary (default ../../build/emulator/apigw-ws-emulator).
//   CHROMIUM             the browser (default /usr/bin/chromium, Debian's chromium package).
//   APIGW_BROWSER_DASHBOARD  a file to serve at /@emulator/ instead of the emulator's embedded copy,
//                        through a small proxy in front of the emulator (to try edits of
//                        web/dashboard.html without rebuilding).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { chromium } = require('playwright-core');
const {
  CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT, startEmulator, stopEmulator, startPageProxy, waitInPage,
  children, guardProcess,
} = require('./helpers');

const PAGE_FILE = process.env.APIGW_BROWSER_DASHBOARD || '';
const CONFIG = path.resolve(__dirname, '../../config');
const TEST_TIMEOUT = 90000;   // the whole file, browser start included (each test: 20 s)
const VIEWPORT = { width: 1200, height: 900 };

// ---- the dashboard -----------------------------------------------------------------------------

// Opens the dashboard of an emulator started with args (behind the page proxy when PAGE_FILE is
// set), waits for its route table of `routes` rows, runs body(page) and stops the emulator.
async function withDashboard(ctx, args, routes, body) {
  const emu = await startEmulator(args);
  children.add(emu.child);
  ctx.emu = emu;
  let proxy = null, exitStatus = null;
  try {
    let origin = `http://127.0.0.1:${emu.port}`;
    if (PAGE_FILE) {
      proxy = await startPageProxy({ '/@emulator/': path.resolve(PAGE_FILE) }, emu.port);
      origin = `http://127.0.0.1:${proxy.port}`;
    }
    const page = ctx.page;
    await page.goto(`${origin}/@emulator/`, { timeout: STEP_TIMEOUT });
    await waitInPage(page, `showing ${routes} routes`, (n) =>
      document.querySelectorAll('#routes > [data-testid="route"]').length === n, routes, ctx);
    await body(page);
  } finally {
    if (proxy) await proxy.close();
    exitStatus = await stopEmulator(emu);
  }
  assert.equal(exitStatus, 0, `the emulator should exit 0 on SIGTERM; stderr: ${emu.err.slice(-2000)}`);
}

// Each route row's key and integration: the text, how many line boxes it takes, its height and the
// height of one line of it; and whether the table scrolls sideways, and the page's width.
function routeLayout(page) {
  return page.evaluate(() => {
    const lines = (node) => {
      const range = document.createRange();
      range.selectNodeContents(node);
      const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
      return new Set(rects.map((r) => Math.round(r.top))).size;
    };
    const rows = Array.from(document.querySelectorAll('#routes > [data-testid="route"]'), (tr) => {
      const code = tr.querySelector('[data-testid="route-key"]') || tr.querySelector('code');
      const integration = tr.querySelector('[data-testid="route-integration"]') || tr.children[1];
      const style = getComputedStyle(code);
      return {
        key: code.textContent, keyLines: lines(code), keyRects: code.getClientRects().length,
        keyHeight: code.getBoundingClientRect().height, lineHeight: parseFloat(style.lineHeight) ||
          parseFloat(style.fontSize) * 1.45,
        integration: integration.textContent, integrationLines: lines(integration),
      };
    });
    const table = document.querySelector('#routes').closest('table');
    const headers = Array.from(table.querySelectorAll('th'), (th) => ({ text: th.textContent, lines: lines(th) }));
    const scroller = table.parentElement;
    return {
      rows, headers,
      tableWidth: table.getBoundingClientRect().width,
      scrolls: scroller.scrollWidth > scroller.clientWidth && getComputedStyle(scroller).overflowX !== 'visible',
      pageWidth: document.documentElement.scrollWidth,
      windowWidth: window.innerWidth,
    };
  });
}

function assertOneLineEach(layout) {
  for (const r of layout.rows) {
    assert.equal(r.keyRects, 1, `route key ${r.key} is broken over ${r.keyRects} lines: ${JSON.stringify(r)}`);
    assert.equal(r.keyLines, 1, `route key ${r.key} takes ${r.keyLines} lines: ${JSON.stringify(r)}`);
    assert.ok(r.keyHeight < 1.5 * r.lineHeight, `route key ${r.key} is taller than one line: ${JSON.stringify(r)}`);
    assert.equal(r.integrationLines, 1,
      `integration ${r.integration} takes ${r.integrationLines} lines: ${JSON.stringify(r)}`);
  }
  for (const h of layout.headers) {
    assert.equal(h.lines, 1, `the column heading ${h.text} takes ${h.lines} lines: ${JSON.stringify(layout.headers)}`);
  }
  assert.ok(layout.pageWidth <= layout.windowWidth,
    `the page is wider (${layout.pageWidth} px) than the window (${layout.windowWidth} px)`);
}

const placeholder = (page) => page.locator('[data-testid="explain-input"]').getAttribute('placeholder');

// ---- the scenarios: one browser for all ---------------------------------------------------------

guardProcess(TEST_TIMEOUT);

const ctx = { emu: null, browser: null, page: null, pageErrors: [] };
before(async () => {
  ctx.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    timeout: 20000 });
  ctx.page = await (await ctx.browser.newContext({ viewport: VIEWPORT })).newPage();
  ctx.page.label = 'dashboard';
  ctx.page.describe = () => ctx.page.evaluate(() =>
    `routes=${document.querySelector('#routes').textContent.replace(/\s+/g, ' ')} ` +
    `placeholder=${document.querySelector('#explain-input').placeholder}`);
  ctx.page.on('pageerror', (e) => ctx.pageErrors.push(e.message));
});
after(async () => {
  if (ctx.browser) await ctx.browser.close().catch(() => {});
  assert.deepEqual(ctx.pageErrors, [], 'script errors in the dashboard');
});

test('the Routes table at 1200 px breaks no route key or integration name', { timeout: 20000 }, async (t) => {
  if (PAGE_FILE) t.diagnostic(`dashboard served from ${PAGE_FILE} through a proxy`);
  await withDashboard(ctx, ['--config', path.join(CONFIG, 'websocket-lab.json')], 3, async (page) => {
    const layout = await routeLayout(page);
    assert.deepEqual(layout.rows.map((r) => r.key), ['$connect', '$disconnect', 'sendmessage']);
    assertOneLineEach(layout);
  });
  await withDashboard(ctx, ['--config', path.join(__dirname, 'dashboard-api.json')], 5, async (page) => {
    assertOneLineEach(await routeLayout(page));
  });
  // Names too long for the column: the table scrolls sideways, the page keeps its width.
  await withDashboard(ctx, ['--config', path.join(__dirname, 'long-names-api.json')], 4, async (page) => {
    const layout = await routeLayout(page);
    assertOneLineEach(layout);
    assert.ok(layout.scrolls, `the route table should scroll sideways: ${JSON.stringify(layout)}`);
  });
});

test('the "Try a message" placeholder is a message one of the API\'s routes takes', { timeout: 20000 }, async () => {
  await withDashboard(ctx, ['--config', path.join(CONFIG, 'websocket-lab.json')], 3, async (page) => {
    assert.equal(await placeholder(page), '{"action":"sendmessage"}');
  });
  await withDashboard(ctx, ['--config', path.join(__dirname, 'dashboard-api.json')], 5, async (page) => {
    assert.equal(await placeholder(page), '{"action":"echo"}');
  });
  // A nested selection path ($request.body.data.type): the key goes where the path reads it, and
  // the explain box routes the placeholder to that route.
  await withDashboard(ctx, ['--config', path.join(__dirname, 'long-names-api.json')], 4, async (page) => {
    const key = 'join-a-room-with-a-rather-long-route-key-for-the-routes-table';
    assert.equal(await placeholder(page), JSON.stringify({ data: { type: key } }));
    await page.locator('[data-testid="explain-input"]').fill(await placeholder(page));
    await page.locator('[data-testid="explain-button"]').click();
    await waitInPage(page, 'explaining the placeholder', (k) => {
      const result = document.querySelector('[data-testid="explain-result"]');
      return !result.hidden && result.dataset.outcome === 'exact match' && result.dataset.routeKey === k;
    }, key, ctx);
  });
});

// The Tables panel: the lab's table, a row per item. A client that joins appears (its $connect put
// the item), and leaves the table when it disconnects; an API without tables shows no panel.
test('the Tables panel shows the items the integrations write', { timeout: 20000 }, async () => {
  await withDashboard(ctx, ['--config', path.join(CONFIG, 'websocket-lab.json')], 3, async (page) => {
    await waitInPage(page, 'the lab\'s table chosen', () =>
      document.querySelector('#table-select').value === 'simplechat_connections' &&
      !document.querySelector('#tables-section').hidden, undefined, ctx);
    const ws = await page.evaluateHandle((port) => new Promise((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}/Prod`);
      s.onopen = () => resolve(s);
      s.onerror = () => reject(new Error('the WebSocket did not open'));
    }), ctx.emu.port);
    await waitInPage(page, 'one item in the table', () =>
      document.querySelectorAll('#items > [data-testid="item"]').length === 1 &&
      document.querySelector('#item-count').textContent === '1', undefined, ctx);
    const head = await page.locator('#items-head th').allTextContents();
    assert.deepEqual(head, ['connectionId']);
    await page.evaluate((s) => s.close(1000), ws);
    await waitInPage(page, 'the item gone', () =>
      document.querySelectorAll('#items > [data-testid="item"]').length === 0 &&
      !document.querySelector('#items-empty').hidden, undefined, ctx);
  });
  await withDashboard(ctx, ['--config', path.join(__dirname, 'dashboard-api.json')], 5, async (page) => {
    assert.equal(await page.locator('#tables-section').isHidden(), true);
  });
});
