// The AWS SDK for JavaScript v3 (@aws-sdk/client-apigatewaymanagementapi) against a running
// emulator: PostToConnection, GetConnection, DeleteConnection, GoneException and
// PayloadTooLargeException, with the endpoint given with and without the stage.
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test management-api.test.js
//
// The emulator binary defaults to ../../build/emulator/apigw-ws-emulator (relative to this file).
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startEmulator, stopEmulator } = require('./emulator_process');
const { Readable } = require('node:stream');
const WebSocket = require('ws');
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
  GetConnectionCommand,
  DeleteConnectionCommand,
  GoneException,
  PayloadTooLargeException,
} = require('@aws-sdk/client-apigatewaymanagementapi');

const CONFIG = path.join(__dirname, 'config.json');
const USER_AGENT = 'sdk-test-client/1.0';
const TEST_TIMEOUT = 20000;
const ISO_MILLIS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// ---- WebSocket clients ---------------------------------------------------------------------

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { 'User-Agent': USER_AGENT }, handshakeTimeout: 5000 });
    const client = { ws, queue: [], waiters: [] };
    client.closed = new Promise((r) => {
      ws.on('close', (code, reason) => r({ code, reason: reason.toString('utf8') }));
    });
    ws.on('message', (data, isBinary) => {
      const msg = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data), isBinary };
      const waiter = client.waiters.shift();
      if (waiter) waiter(msg); else client.queue.push(msg);
    });
    ws.once('open', () => resolve(client));
    ws.once('error', reject);
  });
}

function nextMessage(client, timeoutMs = 5000) {
  if (client.queue.length) return Promise.resolve(client.queue.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.waiters.splice(client.waiters.indexOf(waiter), 1);
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    const waiter = (msg) => { clearTimeout(timer); resolve(msg); };
    client.waiters.push(waiter);
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: timed out`)), ms); }),
  ]);
}

async function whoami(client) {
  client.ws.send(JSON.stringify({ action: 'whoami' }));
  const msg = await nextMessage(client);
  return JSON.parse(msg.data.toString('utf8')).requestContext;
}

// ---- the SDK client, with a record of every raw HTTP exchange -------------------------------

function sdkClient(endpoint) {
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  });
  // Innermost middleware: sees the request as sent and the response as received, before the
  // SDK parses it. The body is read and handed on unchanged.
  const exchanges = [];
  client.middlewareStack.add((next) => async (args) => {
    const result = await next(args);
    const res = result.response;
    let body = Buffer.alloc(0);
    if (res.body) {
      const chunks = [];
      for await (const chunk of res.body) chunks.push(Buffer.from(chunk));
      body = Buffer.concat(chunks);
      res.body = Readable.from([body]);
    }
    exchanges.push({
      method: args.request.method,
      path: args.request.path,
      requestHeaders: args.request.headers,
      status: res.statusCode,
      headers: res.headers,
      body: body.toString('utf8'),
    });
    return result;
  }, { step: 'deserialize', priority: 'low', name: 'recordRawExchange' });
  client.exchanges = exchanges;
  client.last = () => exchanges[exchanges.length - 1];
  return client;
}

// Deterministic printable ASCII of n bytes.
function payload(n, seed = 1) {
  const buf = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = 0x21 + ((x >>> 16) % 94);
  }
  return buf;
}

function assertGone(err) {
  assert.equal(err.name, 'GoneException');
  assert.ok(err instanceof GoneException, 'instanceof GoneException');
  assert.equal(err.$metadata.httpStatusCode, 410);
  return true;
}

// ---- the tests -----------------------------------------------------------------------------

let emu;

before(async () => { emu = await startEmulator(CONFIG); });

after(async () => {
  if (!emu) return;
  const result = await stopEmulator(emu);
  assert.equal(result, 0, `emulator exit on SIGTERM; stderr: ${emu.stderr()}`);
});

for (const form of ['with the stage', 'without the stage']) {
  describe(`endpoint ${form}`, { timeout: 60000 }, () => {
    let sdk;
    let a; let b;        // WebSocket clients
    let idA; let idB;    // their connection ids
    let ctxA;            // client A's requestContext

    before(async () => {
      const base = `http://127.0.0.1:${emu.port}`;
      sdk = sdkClient(form === 'with the stage' ? `${base}/${emu.stage}` : base);
      const url = `ws://127.0.0.1:${emu.port}/${emu.stage}`;
      a = await connect(url);
      b = await connect(url);
      ctxA = await whoami(a);
      idA = ctxA.connectionId;
      idB = (await whoami(b)).connectionId;
      assert.match(idA, /^[A-Za-z0-9_-]{15}=$/);
      assert.notEqual(idA, idB);
    });

    after(() => {
      for (const c of [a, b]) if (c && c.ws.readyState === WebSocket.OPEN) c.ws.close(1000);
    });

    it('PostToConnection delivers the exact bytes as one text frame', { timeout: TEST_TIMEOUT }, async () => {
      const text = 'héllo {"n":1} ✓ 𝄞 end=';
      const out = await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: text }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      const ex = sdk.last();
      assert.equal(ex.status, 200);
      assert.equal(ex.body, '');
      assert.match(ex.requestHeaders.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\//);
      const prefix = form === 'with the stage' ? `/${emu.stage}/` : '/';
      assert.ok(ex.path.startsWith(`${prefix}%40connections/`) || ex.path.startsWith(`${prefix}@connections/`),
        `request path ${ex.path}`);
      const msg = await nextMessage(a);
      assert.equal(msg.isBinary, false);
      assert.deepEqual(msg.data, Buffer.from(text, 'utf8'));

      // Data as bytes.
      const bytes = Buffer.from('{"kind":"bytes","v":[1,2,3]}', 'utf8');
      await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: new Uint8Array(bytes) }));
      const msg2 = await nextMessage(a);
      assert.equal(msg2.isBinary, false);
      assert.deepEqual(msg2.data, bytes);
    });

    it('a 100 KB payload arrives intact', { timeout: TEST_TIMEOUT }, async () => {
      const data = payload(100 * 1024, 7);
      await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: data }));
      const msg = await nextMessage(a);
      assert.equal(msg.isBinary, false);
      assert.equal(msg.data.length, data.length);
      assert.ok(msg.data.equals(data), '100 KB payload differs');
    });

    it('exactly 128 KB (131072 bytes) is accepted and arrives intact', { timeout: TEST_TIMEOUT }, async () => {
      const data = payload(128 * 1024, 9);
      await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: data }));
      const msg = await nextMessage(a);
      assert.ok(msg.data.equals(data), '128 KB payload differs');
    });

    it('GetConnection returns connectedAt, identity and lastActiveAt', { timeout: TEST_TIMEOUT }, async () => {
      const out = await sdk.send(new GetConnectionCommand({ ConnectionId: idA }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.ok(out.ConnectedAt instanceof Date && !Number.isNaN(out.ConnectedAt.getTime()));
      assert.ok(out.LastActiveAt instanceof Date && !Number.isNaN(out.LastActiveAt.getTime()));
      assert.equal(out.Identity.SourceIp, '127.0.0.1');
      assert.equal(out.Identity.UserAgent, USER_AGENT);
      // connectedAt is the same instant as the event's requestContext.connectedAt (epoch ms).
      assert.equal(out.ConnectedAt.getTime(), ctxA.connectedAt);
      assert.ok(out.LastActiveAt.getTime() >= out.ConnectedAt.getTime());
      assert.ok(Math.abs(Date.now() - out.LastActiveAt.getTime()) < 60000);

      const ex = sdk.last();
      assert.equal(ex.status, 200);
      const raw = JSON.parse(ex.body);
      assert.deepEqual(Object.keys(raw).sort(), ['connectedAt', 'identity', 'lastActiveAt']);
      assert.match(raw.connectedAt, ISO_MILLIS_UTC);
      assert.match(raw.lastActiveAt, ISO_MILLIS_UTC);
      assert.deepEqual(raw.identity, { sourceIp: '127.0.0.1', userAgent: USER_AGENT });
    });

    it('lastActiveAt moves with traffic', { timeout: TEST_TIMEOUT }, async () => {
      const before1 = (await sdk.send(new GetConnectionCommand({ ConnectionId: idA }))).LastActiveAt;
      await new Promise((r) => setTimeout(r, 50));
      await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: 'tick' }));
      await nextMessage(a);
      const after1 = (await sdk.send(new GetConnectionCommand({ ConnectionId: idA }))).LastActiveAt;
      assert.ok(after1 > before1, `outbound: ${before1.toISOString()} -> ${after1.toISOString()}`);
      // Inbound only: a one-way message (the $default route answers nothing).
      await new Promise((r) => setTimeout(r, 50));
      a.ws.send('inbound only');
      await new Promise((r) => setTimeout(r, 200));
      const after2 = (await sdk.send(new GetConnectionCommand({ ConnectionId: idA }))).LastActiveAt;
      assert.ok(after2 > after1, `inbound: ${after1.toISOString()} -> ${after2.toISOString()}`);
    });

    it('DeleteConnection closes the client with 1000', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(b.queue.length, 0, 'client B received data meant for A');
      const out = await sdk.send(new DeleteConnectionCommand({ ConnectionId: idB }));
      assert.equal(out.$metadata.httpStatusCode, 204);
      assert.equal(sdk.last().status, 204);
      const closed = await withTimeout(b.closed, 5000, 'close of client B');
      assert.equal(closed.code, 1000);
      assert.equal(a.ws.readyState, WebSocket.OPEN, 'client A must stay open');
    });

    it('GoneException on the deleted connection for all three calls', { timeout: TEST_TIMEOUT }, async () => {
      await assert.rejects(sdk.send(new PostToConnectionCommand({ ConnectionId: idB, Data: 'x' })), assertGone);
      assert.equal(sdk.last().status, 410);
      assert.match(String(sdk.last().headers['x-amzn-errortype']), /^GoneException/);
      await assert.rejects(sdk.send(new GetConnectionCommand({ ConnectionId: idB })), assertGone);
      assert.match(String(sdk.last().headers['x-amzn-errortype']), /^GoneException/);
      await assert.rejects(sdk.send(new DeleteConnectionCommand({ ConnectionId: idB })), assertGone);
      assert.match(String(sdk.last().headers['x-amzn-errortype']), /^GoneException/);
    });

    it('GoneException for an id that never existed', { timeout: TEST_TIMEOUT }, async () => {
      await assert.rejects(sdk.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' })), assertGone);
      await assert.rejects(sdk.send(new PostToConnectionCommand({ ConnectionId: 'no-such-id', Data: 'x' })), assertGone);
    });

    it('PayloadTooLargeException over 128 KB; the connection stays usable', { timeout: TEST_TIMEOUT }, async () => {
      await assert.rejects(
        sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: payload(129 * 1024, 3) })),
        (err) => {
          assert.equal(err.name, 'PayloadTooLargeException');
          assert.ok(err instanceof PayloadTooLargeException, 'instanceof PayloadTooLargeException');
          assert.equal(err.$metadata.httpStatusCode, 413);
          return true;
        });
      assert.match(String(sdk.last().headers['x-amzn-errortype']), /^PayloadTooLargeException/);
      await sdk.send(new PostToConnectionCommand({ ConnectionId: idA, Data: 'still here' }));
      const msg = await nextMessage(a);
      assert.equal(msg.data.toString('utf8'), 'still here');
    });

    if (form === 'with the stage') {
      it('an endpoint built from the event\'s domainName and stage reaches the API', { timeout: TEST_TIMEOUT }, async () => {
        const fromEvent = sdkClient(`http://${ctxA.domainName}/${ctxA.stage}`);
        await fromEvent.send(new PostToConnectionCommand({ ConnectionId: idA, Data: 'via domainName' }));
        const msg = await nextMessage(a);
        assert.equal(msg.data.toString('utf8'), 'via domainName');
      });
    }
  });
}
