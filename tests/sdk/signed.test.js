// SigV4 against a running emulator (signed-config.json: "requireSignedManagementCalls": true and
// a $connect route with "authorizationType": "AWS_IAM"), with the AWS SDK for JavaScript v3:
//  - management calls signed by @aws-sdk/client-apigatewaymanagementapi: accepted with the right
//    secret; 403 with AWS's error type and message for a wrong secret, an unknown key, a policy
//    without the call, and no signature at all;
//  - $connect URLs presigned by @smithy/signature-v4 (SignatureV4.presign, @aws-crypto/sha256-js):
//    accepted with the right secret; 403 with a wrong secret, once expired, and unsigned.
//
//   APIGW_EMULATOR=/path/to/apigw-ws-emulator node --test signed.test.js
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
} = require('@aws-sdk/client-apigatewaymanagementapi');
const { SignatureV4 } = require('@smithy/signature-v4');
const { HttpRequest } = require('@smithy/protocol-http');
const { Sha256 } = require('@aws-crypto/sha256-js');

const CONFIG = path.join(__dirname, 'signed-config.json');
const REGION = 'us-east-1';
const API_ID = 'sdksigned1';
const ADMIN = { accessKeyId: 'AKIASDKADMIN', secretAccessKey: 'admin-secret' };
const READER = { accessKeyId: 'AKIASDKREADER', secretAccessKey: 'reader-secret' };
const TEST_TIMEOUT = 20000;

// ---- presigned $connect URLs and WebSocket clients -------------------------------------------

// A ws:// URL for $connect presigned by @smithy/signature-v4, the signer the SDKs use.
async function presignedUrl(credentials, { expiresIn = 300, signingDate = new Date() } = {}) {
  const host = `127.0.0.1:${emu.port}`;
  const signer = new SignatureV4({ credentials, region: REGION, service: 'execute-api', sha256: Sha256 });
  const request = new HttpRequest({
    method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: emu.port, path: `/${emu.stage}`,
    headers: { host }, query: {},
  });
  const signed = await signer.presign(request, { expiresIn, signingDate });
  const query = Object.entries(signed.query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `ws://${host}${signed.path}?${query}`;
}

// Opens URL: resolves { client } on 101, { status, body } when the handshake is refused.
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000 });
    const client = { ws, queue: [], waiters: [] };
    ws.on('message', (data) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data).toString('utf8');
      const waiter = client.waiters.shift();
      if (waiter) waiter(text); else client.queue.push(text);
    });
    client.closed = new Promise((r) => ws.on('close', (code) => r(code)));
    ws.once('open', () => resolve({ client }));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { resolve({ status: res.statusCode, body }); ws.terminate(); });
    });
    ws.once('error', (e) => { if (ws.readyState !== WebSocket.CLOSED) reject(e); });
  });
}

function nextMessage(client, timeoutMs = 5000) {
  if (client.queue.length) return Promise.resolve(client.queue.shift());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
    client.waiters.push((m) => { clearTimeout(timer); resolve(m); });
  });
}

async function connectSigned(credentials = ADMIN) {
  const result = await open(await presignedUrl(credentials));
  assert.ok(result.client, `presigned $connect refused: ${result.status} ${result.body}`);
  const client = result.client;
  client.ws.send(JSON.stringify({ action: 'whoami' }));
  client.context = JSON.parse(await nextMessage(client)).requestContext;
  return client;
}

// ---- the SDK client, with a record of every raw HTTP exchange -------------------------------

function sdkClient(credentials) {
  const client = new ApiGatewayManagementApiClient({
    endpoint: `http://127.0.0.1:${emu.port}/${emu.stage}`, region: REGION, credentials,
  });
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
    exchanges.push({ path: args.request.path, headers: args.request.headers, status: res.statusCode,
      responseHeaders: res.headers, body: body.toString('utf8') });
    return result;
  }, { step: 'deserialize', priority: 'low', name: 'recordRawExchange' });
  client.exchanges = exchanges;
  client.last = () => exchanges[exchanges.length - 1];
  return client;
}

// An assertion for assert.rejects: a 403 NAME whose message satisfies MESSAGE (a string or a RegExp).
function forbidden(name, message) {
  return (err) => {
    assert.equal(err.name, name);
    assert.equal(err.$metadata.httpStatusCode, 403);
    if (message instanceof RegExp) assert.match(err.message, message); else assert.equal(err.message, message);
    return true;
  };
}

function connectionArn(method, id) {
  return `arn:aws:execute-api:${REGION}:123456789012:${API_ID}/${emu.stage}/${method}/@connections/${id}`;
}

// SigV4's UriEncode() of a path: every byte but A-Z a-z 0-9 - _ . ~ and '/' as %XX.
function uriEncodePath(p) {
  return p.split('/').map((segment) => encodeURIComponent(segment)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

const MISMATCH = /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'/;

// ---- the tests -----------------------------------------------------------------------------

let emu;

before(async () => { emu = await startEmulator(CONFIG); });

after(async () => {
  if (!emu) return;
  const result = await stopEmulator(emu);
  assert.equal(result, 0, `emulator exit on SIGTERM; stderr: ${emu.stderr()}`);
});

describe('management calls signed by the SDK', { timeout: 60000 }, () => {
  let a;
  before(async () => { a = await connectSigned(); });
  after(() => { if (a && a.ws.readyState === WebSocket.OPEN) a.ws.close(1000); });

  it('the right secret: PostToConnection, GetConnection, DeleteConnection succeed', { timeout: TEST_TIMEOUT }, async () => {
    const sdk = sdkClient(ADMIN);
    const b = await connectSigned();
    const id = b.context.connectionId;
    await sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'signed hello' }));
    assert.equal(await nextMessage(b), 'signed hello');
    // The SDK signed the path as it sent it, with the id's '=' percent-encoded.
    const ex = sdk.last();
    assert.equal(ex.status, 200);
    assert.match(ex.path, new RegExp(`^/${emu.stage}/(@|%40)connections/${encodeURIComponent(id)}$`));
    assert.match(ex.headers.authorization,
      /^AWS4-HMAC-SHA256 Credential=AKIASDKADMIN\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);

    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    assert.equal(info.$metadata.httpStatusCode, 200);
    assert.equal(info.Identity.SourceIp, '127.0.0.1');

    const out = await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    assert.equal(await b.closed, 1000);
  });

  it('a wrong secret: 403 InvalidSignatureException, nothing delivered', { timeout: TEST_TIMEOUT }, async () => {
    const sdk = sdkClient({ accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret' });
    await assert.rejects(sdk.send(new PostToConnectionCommand({ ConnectionId: a.context.connectionId, Data: 'x' })),
      forbidden('InvalidSignatureException', MISMATCH));
    const ex = sdk.last();
    assert.equal(String(ex.responseHeaders['x-amzn-errortype']), 'InvalidSignatureException');
    // AWS's message shows the canonical request: the path as sent, encoded once more.
    assert.ok(JSON.parse(ex.body).message.includes(`'POST\n${uriEncodePath(ex.path)}\n`), ex.body);
    assert.ok(ex.path.endsWith('%3D') && uriEncodePath(ex.path).endsWith('%253D'));
    assert.ok(!ex.body.includes('admin-secret') && !ex.body.includes('not-the-secret'));
    await assert.rejects(sdk.send(new GetConnectionCommand({ ConnectionId: a.context.connectionId })),
      forbidden('InvalidSignatureException', MISMATCH));
    // A's connection got nothing and stays open.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(a.queue.length, 0);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
  });

  it('an unknown access key: 403 UnrecognizedClientException', { timeout: TEST_TIMEOUT }, async () => {
    const sdk = sdkClient({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'whatever' });
    await assert.rejects(sdk.send(new DeleteConnectionCommand({ ConnectionId: a.context.connectionId })),
      forbidden('UnrecognizedClientException', 'The security token included in the request is invalid.'));
    assert.equal(a.ws.readyState, WebSocket.OPEN);
  });

  it('a policy without the call: 403 AccessDeniedException with IAM\'s message', { timeout: TEST_TIMEOUT }, async () => {
    const id = a.context.connectionId;
    const sdk = sdkClient(READER);
    const info = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));  // GET is allowed
    assert.equal(info.$metadata.httpStatusCode, 200);
    await assert.rejects(sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'x' })),
      forbidden('AccessDeniedException', 'User: arn:aws:iam::123456789012:user/reader is not authorized to perform: ' +
        `execute-api:ManageConnections on resource: ${connectionArn('POST', id)}`));
    await assert.rejects(sdk.send(new DeleteConnectionCommand({ ConnectionId: id })),
      forbidden('AccessDeniedException', /on resource: arn:aws:execute-api:us-east-1:123456789012:sdksigned1\/sdktest\/DELETE\/@connections\//));
    assert.equal(a.queue.length, 0);
    assert.equal(a.ws.readyState, WebSocket.OPEN);
  });

  it('no signature: 403 MissingAuthenticationTokenException', { timeout: TEST_TIMEOUT }, async () => {
    const res = await fetch(`http://127.0.0.1:${emu.port}/${emu.stage}/@connections/${encodeURIComponent(a.context.connectionId)}`,
      { method: 'POST', body: 'unsigned' });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.deepEqual(await res.json(), { message: 'Missing Authentication Token' });
    assert.equal(a.queue.length, 0);
  });
});

describe('$connect with AWS_IAM and URLs presigned by @smithy/signature-v4', { timeout: 60000 }, () => {
  it('the right secret: connected, with the signer in requestContext.identity', { timeout: TEST_TIMEOUT }, async () => {
    const client = await connectSigned(READER);
    const identity = client.context.identity;
    assert.equal(identity.accessKey, READER.accessKeyId);
    assert.equal(identity.userArn, 'arn:aws:iam::123456789012:user/reader');
    assert.equal(identity.sourceIp, '127.0.0.1');
    client.ws.close(1000);
  });

  it('a wrong secret: 403', { timeout: TEST_TIMEOUT }, async () => {
    const result = await open(await presignedUrl({ accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-secret' }));
    assert.equal(result.status, 403);
  });

  it('expired: 403', { timeout: TEST_TIMEOUT }, async () => {
    // Signed 10 minutes ago for 60 seconds.
    const url = await presignedUrl(ADMIN, { expiresIn: 60, signingDate: new Date(Date.now() - 10 * 60 * 1000) });
    const result = await open(url);
    assert.equal(result.status, 403);
  });

  it('still valid 4 minutes after signing, within X-Amz-Expires', { timeout: TEST_TIMEOUT }, async () => {
    const url = await presignedUrl(ADMIN, { expiresIn: 300, signingDate: new Date(Date.now() - 4 * 60 * 1000) });
    const result = await open(url);
    assert.ok(result.client, `refused: ${result.status} ${result.body}`);
    result.client.ws.close(1000);
  });

  it('a changed query: 403', { timeout: TEST_TIMEOUT }, async () => {
    const url = (await presignedUrl(ADMIN)).replace('X-Amz-Expires=300', 'X-Amz-Expires=3600');
    const result = await open(url);
    assert.equal(result.status, 403);
  });

  it('not signed: 403', { timeout: TEST_TIMEOUT }, async () => {
    const result = await open(`ws://127.0.0.1:${emu.port}/${emu.stage}`);
    assert.equal(result.status, 403);
  });
});
