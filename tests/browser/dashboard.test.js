// The emulator's dashboard (web/dashboard.html, served at GET /@emulator/) driven in headless
// Chromium against dashboard-api.json (a two-way echo route and a $default route): a WebSocket
// client (the browser's own WebSocket, in a second page) connects and is listed, its messages
// appear in the feed of routing decisions with the route and why, the explain box explains a
// message, and the dashboard posts to the client and disconnects it (close 1000, gone from the list).
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test dashboard.test.js
//
// Environment:
//   APIGW_EMULATOR       the emulator binary (default ../../build/emulator/apigw-ws-emulator).
//   CHROMIUM             the browser (default /usr/bin/chromium, Debian's chromium package).
//   APIGW_BROWSER_DASHBOARD  a file to serve at /@emulator/ instead of the emulator's embedded copy,
//                        through a small proxy in front of the emulator (to try edits of
//                        web/dashboard.html without rebuilding).
//   APIGW_BROWSER_SCREENSHOTS=DIR  save a screenshot of the dashboard there at the end.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const {
  CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, STEP_TIMEOUT, CONNECTION_ID, startEmulator, stopEmulator,
  httpGet, startPageProxy, waitInPage, children, guardProcess,
} = require('./helpers');

const PAGE_FILE = process.env.APIGW_BROWSER_DASHBOARD || '';
const TEST_TIMEOUT = 50000;   // the whole scenario, browser start included

// ---- the dashboard -----------------------------------------------------------------------------

// What the dashboard shows, for failure messages.
function describeDashboard(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const conns = Array.from(document.querySelectorAll('[data-testid="connection"]'), (li) =>
      `${li.dataset.connectionId} ${li.querySelector('[data-testid="connection-result"]').textContent}`);
    const decisions = Array.from(document.querySelectorAll('[data-testid="decision"]'), (li) =>
      `${li.dataset.eventType} ${li.dataset.connectionId} ${li.dataset.routeKey} (${li.dataset.why}) ` +
      `${li.querySelector('[data-testid="decision-outcome"]').textContent}`).slice(0, 8);
    const result = q('#explain-result');
    return `feed=${q('#feed-state').dataset.state} connections(${q('#connection-count').textContent})=` +
      `${JSON.stringify(conns)} decisions=${JSON.stringify(decisions)} ` +
      `explain=${result.hidden ? '-' : JSON.stringify(result.textContent.replace(/\s+/g, ' ').trim())}`;
  });
}

// The newest decision (the top of the feed) for this connection and event type, as data.
function newestDecision(page, connectionId, eventType, ctx) {
  return waitInPage(page, `showing a ${eventType} decision of ${connectionId}`, ([id, type]) => {
    const li = document.querySelector(
      `#feed > [data-testid="decision"][data-connection-id="${id}"][data-event-type="${type}"]`);
    return li && {
      routeKey: li.dataset.routeKey, why: li.dataset.why,
      route: li.querySelector('[data-testid="decision-route"]').textContent,
      whyText: li.querySelector('[data-testid="decision-why"]').textContent,
      outcome: li.querySelector('[data-testid="decision-outcome"]').textContent,
    };
  }, [connectionId, eventType], ctx);
}

function decisionCount(page, connectionId, eventType) {
  return page.$$eval(`#feed > [data-testid="decision"][data-connection-id="${connectionId}"]` +
    `[data-event-type="${eventType}"]`, (els) => els.length);
}

async function explain(page, message, ctx) {
  await page.locator('[data-testid="explain-input"]').fill(message);
  await page.locator('[data-testid="explain-button"]').click();
  return waitInPage(page, `explaining ${JSON.stringify(message)}`, (m) => {
    const result = document.querySelector('[data-testid="explain-result"]');
    // The answer for this message: the page shows the message's parts once the answer is in.
    if (result.hidden || result.dataset.message !== m) return null;
    const text = (t) => document.querySelector(`[data-testid="${t}"]`).textContent;
    return {
      outcome: result.dataset.outcome, routeKey: result.dataset.routeKey,
      verdict: text('explain-verdict'), selection: text('explain-selection'), route: text('explain-route'),
      why: text('explain-why'), integration: text('explain-integration'), clientGets: text('explain-client-gets'),
      parts: Array.from(document.querySelectorAll('[data-testid="explain-part"]'), (tr) => ({
        kind: tr.dataset.kind, found: tr.dataset.found,
        source: tr.querySelector('[data-testid="explain-part-source"]').textContent,
        foundText: tr.querySelector('[data-testid="explain-part-found"]').textContent,
        value: tr.querySelector('[data-testid="explain-part-value"]').textContent,
      })),
    };
  }, message, ctx);
}

// ---- the WebSocket client: the browser's WebSocket in a page of its own --------------------------

async function openClient(browser, url) {
  const page = await (await browser.newContext()).newPage();
  page.label = 'client';
  page.describe = () => page.evaluate(() => JSON.stringify(window.client));
  await page.evaluate((u) => {
    const client = { state: 'connecting', received: [], closeCode: null, closeReason: null };
    window.client = client;
    const ws = new WebSocket(u);
    window.clientSocket = ws;
    ws.onopen = () => { client.state = 'open'; };
    ws.onmessage = (ev) => { client.received.push(String(ev.data)); };
    ws.onclose = (ev) => { client.state = 'closed'; client.closeCode = ev.code; client.closeReason = ev.reason; };
  }, url);
  return page;
}

function clientSend(page, text) {
  return page.evaluate((t) => window.clientSocket.send(t), text);
}

function waitForReceived(page, text, ctx) {
  return waitInPage(page, `receiving ${JSON.stringify(text)}`,
    (t) => window.client.received.includes(t), text, ctx);
}

// ---- the scenario ------------------------------------------------------------------------------

guardProcess(TEST_TIMEOUT);

test('the dashboard lists a client, shows its routing decisions, explains, posts and disconnects',
  { timeout: TEST_TIMEOUT }, async (t) => {
    const ctx = { emu: null, proxy: null, browser: null };
    const pageErrors = [];
    let exitStatus = null;
    try {
      ctx.emu = await startEmulator(['--config', path.join(__dirname, 'dashboard-api.json')]);
      children.add(ctx.emu.child);
      const emuOrigin = `http://127.0.0.1:${ctx.emu.port}`;
      let origin = emuOrigin;
      if (PAGE_FILE) {
        ctx.proxy = await startPageProxy({ '/@emulator/': path.resolve(PAGE_FILE) }, ctx.emu.port);
        origin = `http://127.0.0.1:${ctx.proxy.port}`;
        t.diagnostic(`dashboard served from ${PAGE_FILE} through a proxy at ${origin}`);
      }

      // The page itself, before any browser: a clear message if the emulator does not serve it.
      const index = await httpGet(`${origin}/@emulator/`);
      assert.equal(index.status, 200,
        `GET ${origin}/@emulator/ should serve the dashboard; got ${index.status} ${index.body.slice(0, 200)}`);
      assert.match(String(index.headers['content-type']), /^text\/html/);
      assert.match(index.body, /data-testid="feed"/, 'the page at /@emulator/ is not web/dashboard.html');

      ctx.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
        timeout: 20000 });
      const dash = await (await ctx.browser.newContext()).newPage();
      dash.label = 'dashboard';
      dash.describe = () => describeDashboard(dash);
      dash.on('pageerror', (e) => pageErrors.push(`dashboard: ${e.message}`));
      let listFetches = 0;   // GET /@emulator/connections by the dashboard: no polling
      dash.on('request', (r) => { if (new URL(r.url()).pathname === '/@emulator/connections') listFetches++; });
      await dash.goto(`${origin}/@emulator/`, { timeout: STEP_TIMEOUT });

      // The feed is live (server-sent events) and the route table is shown.
      await waitInPage(dash, 'the feed going live', () =>
        document.querySelector('[data-testid="feed-state"]').dataset.state === 'live', undefined, ctx);
      await waitInPage(dash, 'showing the route table', () =>
        document.querySelectorAll('[data-testid="route"]').length === 5, undefined, ctx);
      assert.equal(await dash.locator('[data-testid="explain-expression"]').textContent(), '$request.body.action');
      assert.equal(await dash.locator('[data-testid="connection-count"]').textContent(), '0');

      // A client connects to the stage; the dashboard lists it without being told to.
      const nonce = crypto.randomBytes(8).toString('hex');
      const client = await openClient(ctx.browser, `ws://${new URL(origin).host}/${ctx.emu.stage}?client=${nonce}`);
      client.on('pageerror', (e) => pageErrors.push(`client: ${e.message}`));
      await waitInPage(client, 'opening', () => window.client.state === 'open', undefined, ctx);
      const listed = JSON.parse((await httpGet(`${emuOrigin}/@emulator/connections`)).body);
      const mine = listed.connections.find((c) => c.query.split('&').includes(`client=${nonce}`));
      assert.ok(mine, `the emulator lists the client: ${JSON.stringify(listed)}`);
      const id = mine.connectionId;
      assert.match(id, CONNECTION_ID);
      await waitInPage(dash, `listing ${id}`, (i) =>
        !!document.querySelector(`#connections > [data-testid="connection"][data-connection-id="${i}"]`), id, ctx);
      assert.equal(await dash.locator('[data-testid="connection-count"]').textContent(), '1');
      const connect = await newestDecision(dash, id, 'CONNECT', ctx);
      assert.equal(connect.routeKey, '$connect');

      // The client's messages appear in the feed, newest on top, with the route and why.
      await clientSend(client, JSON.stringify({ action: 'echo', data: 'ping' }));
      await waitForReceived(client, JSON.stringify({ action: 'echo', data: 'ping' }), ctx);  // two-way echo
      const echo = await newestDecision(dash, id, 'MESSAGE', ctx);
      assert.equal(echo.routeKey, 'echo');
      assert.equal(echo.why, 'exact match');
      assert.equal(echo.route, 'echo');
      assert.match(echo.whyText, /selection "echo" matched route echo/);
      assert.match(echo.outcome, /integration echo/);

      // A Lambda function's invocations say whether they started cold.
      for (const [n, start] of [[2, /cold start/], [3, /warm/]]) {
        await clientSend(client, JSON.stringify({ action: 'shout', data: 'hey' + n }));
        await waitForReceived(client, 'HEY' + n, ctx);
        await waitInPage(dash, `showing message ${n}`, ([i, count]) => document.querySelectorAll(
          `#feed > [data-testid="decision"][data-connection-id="${i}"][data-event-type="MESSAGE"]`).length === count,
        [id, n], ctx);
        const shout = await newestDecision(dash, id, 'MESSAGE', ctx);
        assert.equal(shout.routeKey, 'shout');
        assert.match(shout.outcome, /integration shout/);
        assert.match(shout.outcome, start);
      }

      await clientSend(client, JSON.stringify({ action: 'nosuchroute' }));
      await waitInPage(dash, 'showing the second message on top', (i) => {
        const top = document.querySelector(`#feed > [data-testid="decision"][data-connection-id="${i}"][data-event-type="MESSAGE"]`);
        return top && top.dataset.routeKey === '$default';
      }, id, ctx);
      const fallback = await newestDecision(dash, id, 'MESSAGE', ctx);
      assert.equal(fallback.why, 'fell back to $default');
      assert.match(fallback.whyText, /selection "nosuchroute" matched no route: fell back to \$default/);
      assert.equal(await decisionCount(dash, id, 'MESSAGE'), 4, 'each message is one decision');

      // The explain box: a misspelt action falls back to $default, with the route it probably meant;
      // a message that is not JSON falls back too.
      const x1 = await explain(dash, '{"action":"ecko","data":"hi"}', ctx);
      assert.equal(x1.outcome, 'fell back to $default');
      assert.equal(x1.routeKey, '$default');
      assert.equal(x1.selection, '"ecko"');
      assert.deepEqual(x1.parts, [{ kind: 'path', found: 'true', source: '$request.body.action',
        foundText: 'found', value: 'ecko' }]);
      assert.equal(x1.why, 'fell back to $default: no route has the key "ecko"; did you mean "echo"?');
      assert.match(x1.integration, /fallback \(handler mock\)/);
      const xCase = await explain(dash, '{"action":"Echo"}', ctx);
      assert.equal(xCase.why,
        'fell back to $default: no route has the key "Echo"; route keys are case-sensitive; did you mean "echo"?');
      const x2 = await explain(dash, 'hello', ctx);
      assert.equal(x2.outcome, 'fell back to $default');
      assert.equal(x2.parts[0].found, 'false');
      assert.equal(x2.parts[0].foundText, 'message is not JSON');
      assert.match(x2.selection, /not JSON/);
      const x3 = await explain(dash, '{"action":"echo"}', ctx);
      assert.equal(x3.outcome, 'exact match');
      assert.equal(x3.route, 'echo');
      assert.match(x3.verdict, /Route echo \(exact match\)/);

      // Post to the client from the dashboard: the client receives exactly that.
      const row = dash.locator(`#connections > [data-testid="connection"][data-connection-id="${id}"]`);
      await row.locator('[data-testid="post-input"]').fill('hello from the dashboard');
      await row.locator('[data-testid="post-button"]').click();
      await waitForReceived(client, 'hello from the dashboard', ctx);
      await waitInPage(dash, 'confirming the post', (i) => document.querySelector(
        `[data-connection-id="${i}"] [data-testid="connection-result"]`).dataset.result === 'ok', id, ctx);

      if (SCREENSHOTS) {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        await dash.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-connected.png'), fullPage: true });
      }

      // Disconnect it from the dashboard: the client is closed with 1000 and leaves the list.
      await row.locator('[data-testid="disconnect-button"]').click();
      await waitInPage(client, 'closing with 1000', () =>
        window.client.state === 'closed' && window.client.closeCode === 1000, undefined, ctx);
      await waitInPage(dash, `dropping ${id} from the list`, (i) =>
        !document.querySelector(`[data-testid="connection"][data-connection-id="${i}"]`) &&
        document.querySelector('[data-testid="connection-count"]').textContent === '0', id, ctx);
      const disconnect = await newestDecision(dash, id, 'DISCONNECT', ctx);
      assert.equal(disconnect.routeKey, '$disconnect');

      t.diagnostic(`the dashboard fetched /@emulator/connections ${listFetches} times`);
      assert.ok(listFetches <= 20, `the dashboard fetched the connection list ${listFetches} times`);
      assert.deepEqual(pageErrors, [], 'script errors in the pages');
      if (SCREENSHOTS) {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        await dash.screenshot({ path: path.join(SCREENSHOTS, 'dashboard-disconnected.png'), fullPage: true });
      }
    } finally {
      if (ctx.browser) await ctx.browser.close().catch(() => {});
      if (ctx.proxy) await ctx.proxy.close();
      if (ctx.emu) exitStatus = await stopEmulator(ctx.emu);
    }
    assert.equal(exitStatus, 0, `the emulator should exit 0 on SIGTERM; stderr: ${ctx.emu.err.slice(-2000)}`);
  });
