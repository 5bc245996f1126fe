// Tests of the Node.js function runtime (runtimes/nodejs/bootstrap.mjs): each test writes a
// function into a temporary code folder, starts the bootstrap against a fake Lambda Runtime
// API served here, and checks what the bootstrap posts and logs. Run with `node --test`.
// The AWS SDK tests need runtimes/nodejs/setup to have been run (they are skipped otherwise).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BOOTSTRAP = path.join(REPO, 'runtimes/nodejs/bootstrap.mjs');
const RUNTIME_MODULES = path.join(REPO, 'runtimes/nodejs/node_modules');
const SDK_INSTALLED = fs.existsSync(path.join(RUNTIME_MODULES, '.installed-lock.json'));
const SDK_SKIP = SDK_INSTALLED ? false : 'the bundled AWS SDK is not installed: run runtimes/nodejs/setup';

const TIMEOUT = 20000;
const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]+)\t(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\t(.*)$/;

function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Answers as the emulator's Runtime API does: a Content-Length body, never chunked (the runtime's
// client relies on it).
function reply(res, status, headers, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// A fake Lambda Runtime API: hands out queued events and records what the runtime posts.
class FakeRuntimeApi {
  constructor() {
    this.queue = [];
    this.waiting = [];
    this.outcomes = new Map();
    this.initError = deferred();
    // Request ids whose answer is refused with 413 and the connection closed, as the emulator
    // refuses a body over 6 MB.
    this.refuseAndClose = new Set();
    this.connections = 0;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', () => this.connections++);
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.address = `127.0.0.1:${this.server.address().port}`;
  }

  async handle(req, res) {
    const body = await readBody(req);
    const url = req.url;
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      const event = this.queue.shift();
      if (event) this.send(res, event);
      else this.waiting.push({ res, socket: req.socket });
      return;
    }
    let match;
    if (req.method === 'POST' && (match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url))) {
      const id = decodeURIComponent(match[1]);
      this.outcomes.get(id)?.resolve({ kind: match[2], body, json: JSON.parse(body), headers: req.headers });
      if (this.refuseAndClose.has(id)) {
        reply(res, 413, { Connection: 'close' }, '{"errorMessage":"too large","errorType":"RequestEntityTooLarge"}');
        return;
      }
      reply(res, 202, {}, '{"status":"OK"}');
      return;
    }
    if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
      this.initError.resolve({ body, json: JSON.parse(body), headers: req.headers });
      reply(res, 202, {}, '{"status":"OK"}');
      return;
    }
    reply(res, 404, {}, '');
  }

  send(res, { event, headers }) {
    reply(res, 200, headers, JSON.stringify(event));
  }

  // Queues an event; resolves with what the runtime posted for it.
  invoke(event, { requestId = randomUUID(), deadlineMs = Date.now() + 30000, headers = {} } = {}) {
    const outcome = deferred();
    this.outcomes.set(requestId, outcome);
    const item = {
      requestId,
      event,
      headers: {
        'Lambda-Runtime-Aws-Request-Id': requestId,
        'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
        'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:chat',
        'Lambda-Runtime-Trace-Id': `Root=1-00000000-${requestId.replace(/-/g, '').slice(0, 24)};Sampled=0`,
        ...headers,
      },
    };
    // A long poll whose connection is gone (closed after a refusal) gets nothing.
    let waiter;
    do waiter = this.waiting.shift();
    while (waiter?.socket.destroyed);
    if (waiter) this.send(waiter.res, item);
    else this.queue.push(item);
    return outcome.promise.then((result) => ({ ...result, requestId }));
  }

  close() {
    this.server.closeAllConnections?.();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

// A plain-HTTP server standing in for the emulator's AWS APIs: records each request.
async function startFakeEmulator() {
  const requests = [];
  const arrived = [];
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const record = { method: req.method, url: req.url, headers: req.headers, body };
    requests.push(record);
    arrived.shift()?.resolve(record);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    requests,
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

function writeFiles(root, files) {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

// Starts the bootstrap for a function made of `files`; stopped when the test ends.
async function startFunction(t, { files, handler, env = {} }) {
  const taskRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'node-bootstrap-'));
  writeFiles(taskRoot, files);
  const api = new FakeRuntimeApi();
  await api.start();
  const child = spawn(process.execPath, [BOOTSTRAP], {
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: api.address,
      _HANDLER: handler,
      LAMBDA_TASK_ROOT: taskRoot,
      AWS_LAMBDA_FUNCTION_NAME: 'chat',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/chat',
      AWS_LAMBDA_LOG_STREAM_NAME: '2024/01/01/[$LATEST]0123456789abcdef',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'session-token',
      TZ: 'UTC',
      NODE_PATH: RUNTIME_MODULES,
      APIGW_EMULATOR_URL: 'http://127.0.0.1:9',
      APIGW_EMULATOR_SERVICES: 'execute-api',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await api.close();
    fs.rmSync(taskRoot, { recursive: true, force: true });
  });
  const logLines = () =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => LOG_LINE.exec(line))
      .filter(Boolean)
      .map(([, time, requestId, level, message]) => ({ time, requestId, level, message }));
  return {
    api,
    taskRoot,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    logLines,
    // The first log line that matches; stdout may arrive after the Runtime API call it preceded.
    async logLine(predicate) {
      for (const started = Date.now(); Date.now() - started < 5000; await sleep(10)) {
        const line = logLines().find(predicate);
        if (line) return line;
      }
      assert.fail(`no such log line in:\n${stdout}\n${stderr}`);
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function assertErrorPosted(outcome, errorType, errorMessage) {
  assert.equal(outcome.kind, 'error', `expected an error, got ${outcome.body}`);
  assert.equal(outcome.headers['lambda-runtime-function-error-type'], errorType);
  assert.equal(outcome.json.errorType, errorType);
  if (errorMessage instanceof RegExp) assert.match(outcome.json.errorMessage, errorMessage);
  else assert.equal(outcome.json.errorMessage, errorMessage);
  assert.ok(Array.isArray(outcome.json.stackTrace));
}

const options = { timeout: TIMEOUT };

// ---------------------------------------------------------------------------------------------
// Handler kinds and module formats.

test('CommonJS async handler: result, context, state kept between invocations', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `
        let count = 0;
        exports.handler = async (event, context) => {
          count += 1;
          return {
            count,
            event,
            awsRequestId: context.awsRequestId,
            functionName: context.functionName,
            functionVersion: context.functionVersion,
            invokedFunctionArn: context.invokedFunctionArn,
            memoryLimitInMB: context.memoryLimitInMB,
            logGroupName: context.logGroupName,
            logStreamName: context.logStreamName,
            remaining: context.getRemainingTimeInMillis(),
            waits: context.callbackWaitsForEmptyEventLoop,
            traceId: process.env._X_AMZN_TRACE_ID,
          };
        };`,
    },
  });
  const first = await fn.api.invoke({ action: 'sendmessage' }, { deadlineMs: Date.now() + 5000 });
  assert.equal(first.kind, 'response');
  const result = first.json;
  assert.equal(result.count, 1);
  assert.deepEqual(result.event, { action: 'sendmessage' });
  assert.equal(result.awsRequestId, first.requestId);
  assert.equal(result.functionName, 'chat');
  assert.equal(result.functionVersion, '$LATEST');
  assert.equal(result.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:chat');
  assert.equal(result.memoryLimitInMB, '256');
  assert.equal(result.logGroupName, '/aws/lambda/chat');
  assert.equal(result.logStreamName, '2024/01/01/[$LATEST]0123456789abcdef');
  assert.ok(result.remaining > 3000 && result.remaining <= 5000, `remaining ${result.remaining}`);
  assert.equal(result.waits, true);
  assert.match(result.traceId, /^Root=1-00000000-/);

  const second = await fn.api.invoke({ n: 2 });
  assert.equal(second.json.count, 2);
  assert.equal(second.json.awsRequestId, second.requestId);
});

test('ES module (.mjs) with a nested export name', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'index.routes.onConnect',
    files: {
      'index.mjs': `
        const connected = await Promise.resolve('yes');
        export const routes = { onConnect: async (event) => ({ statusCode: 200, body: connected + ':' + event.id }) };`,
    },
  });
  const outcome = await fn.api.invoke({ id: 'c1' });
  assert.deepEqual(outcome.json, { statusCode: 200, body: 'yes:c1' });
});

test('package.json "type": "module" makes .js an ES module, handler in a subfolder', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'src/handlers/chat.onMessage',
    files: {
      'package.json': JSON.stringify({ type: 'module' }),
      'src/handlers/chat.js': `
        import { format } from './format.js';
        export async function onMessage(event) { return format(event.body); }`,
      'src/handlers/format.js': `export const format = (text) => ({ statusCode: 200, body: 'got ' + text });`,
    },
  });
  const outcome = await fn.api.invoke({ body: 'hi' });
  assert.deepEqual(outcome.json, { statusCode: 200, body: 'got hi' });
});

test('.cjs module beside a "type": "module" package.json', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'legacy.handler',
    files: {
      'package.json': JSON.stringify({ type: 'module' }),
      'legacy.cjs': `module.exports.handler = async () => ({ format: typeof require });`,
    },
  });
  assert.deepEqual((await fn.api.invoke({})).json, { format: 'function' });
});

test('callback handlers: callback, context.succeed, first outcome wins, never called back', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `
        exports.handler = function (event, context, callback) {
          switch (event.kind) {
            case 'callback': setTimeout(() => callback(null, { via: 'callback' }), 10); return;
            case 'callback-error': setTimeout(() => callback(new Error('callback failed')), 10); return;
            case 'succeed': setTimeout(() => context.succeed({ via: 'succeed' }), 10); return;
            case 'twice': callback(null, 'first'); callback(null, 'second'); return;
            case 'never': return; // never calls back: null once the event loop is empty
          }
        };`,
    },
  });
  assert.deepEqual((await fn.api.invoke({ kind: 'callback' })).json, { via: 'callback' });
  assertErrorPosted(await fn.api.invoke({ kind: 'callback-error' }), 'Error', 'callback failed');
  assert.deepEqual((await fn.api.invoke({ kind: 'succeed' })).json, { via: 'succeed' });
  assert.equal((await fn.api.invoke({ kind: 'twice' })).json, 'first');
  const never = await fn.api.invoke({ kind: 'never' });
  assert.equal(never.kind, 'response');
  assert.equal(never.body, 'null');
});

test('plain return value, async undefined and context.done handlers', options, async (t) => {
  for (const [handler, expected] of [
    ['app.plain', '{"via":"return","n":3}'],
    ['app.nothing', 'null'],
    ['app.oldStyle', '"done"'],
  ]) {
    const fn = await startFunction(t, {
      handler,
      files: {
        'app.js': `
          exports.plain = (event) => ({ via: 'return', n: event.n });
          exports.nothing = async () => {};
          exports.oldStyle = function (event, context) { setTimeout(() => context.done(null, 'done'), 10); };`,
      },
    });
    const outcome = await fn.api.invoke({ n: 3 });
    assert.equal(outcome.kind, 'response', handler);
    assert.equal(outcome.body, expected, handler);
  }
});

// ---------------------------------------------------------------------------------------------
// Logs.

test('console methods write one Lambda log line each', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `
        console.log('loading', { stage: 'init' });
        exports.handler = async () => {
          console.log('log %s', 'formatted', 42);
          console.info('info');
          console.warn('warn');
          console.error('error', new Error('shown'));
          console.debug('debug');
          console.trace('trace');
          console.log('two\\nlines');
          return 'ok';
        };`,
    },
  });
  const outcome = await fn.api.invoke({});
  assert.equal(outcome.json, 'ok');
  await fn.logLine((line) => line.requestId === outcome.requestId && line.message === 'two');
  const lines = fn.logLines();
  const init = lines.find((line) => line.message.startsWith('loading'));
  assert.deepEqual(init, { ...init, requestId: 'undefined', level: 'INFO', message: "loading { stage: 'init' }" });
  const mine = lines.filter((line) => line.requestId === outcome.requestId);
  assert.deepEqual(
    mine.map(({ level, message }) => [level, message.split('\n')[0]]),
    [
      ['INFO', 'log formatted 42'],
      ['INFO', 'info'],
      ['WARN', 'warn'],
      ['ERROR', 'error Error: shown'],
      ['DEBUG', 'debug'],
      ['TRACE', 'trace'],
      ['INFO', 'two'],
    ],
  );
  for (const line of mine) assert.ok(Math.abs(Date.parse(line.time) - Date.now()) < 60000);
  // A multi-line message stays one write: its next line directly follows.
  assert.match(fn.stdout(), /\tINFO\ttwo\nlines\n/);
});

test('AWS_LAMBDA_LOG_LEVEL drops lower levels', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    env: { AWS_LAMBDA_LOG_LEVEL: 'WARN' },
    files: { 'app.js': `exports.handler = async () => { console.debug('d'); console.log('i'); console.warn('w'); console.error('e'); };` },
  });
  const outcome = await fn.api.invoke({});
  await fn.logLine((line) => line.requestId === outcome.requestId && line.message === 'e');
  const mine = fn.logLines().filter((line) => line.requestId === outcome.requestId);
  assert.deepEqual(mine.map((line) => line.level), ['WARN', 'ERROR']);
});

test('the AWS SDK warning about the Node.js version is dropped, other warnings are logged', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `
        exports.handler = async () => {
          process.emitWarning('NodeDeprecationWarning: The AWS SDK for JavaScript (v3) will\\nno longer support Node.js v18.');
          process.emitWarning('something else');
          await new Promise((resolve) => setTimeout(resolve, 20));
          return process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
        };`,
    },
  });
  const outcome = await fn.api.invoke({});
  assert.equal(outcome.json, 'true');
  await fn.logLine((line) => line.message.includes('Warning: something else'));
  assert.doesNotMatch(fn.stdout() + fn.stderr(), /AWS SDK for JavaScript/);
});

// ---------------------------------------------------------------------------------------------
// Handler errors.

test('a handler error is posted to /error and logged as Invoke Error', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `
        class ValidationError extends Error { constructor(m) { super(m); this.name = 'ValidationError'; this.field = 'body'; } }
        exports.handler = async (event) => {
          if (event.kind === 'boom') throw new Error('boom');
          if (event.kind === 'custom') throw new ValidationError('bad input');
          if (event.kind === 'string') throw 'plain string';
          if (event.kind === 'sync') { null.property; }
          if (event.kind === 'bigint') return { big: 10n };
          return 'fine';
        };`,
    },
  });
  const boom = await fn.api.invoke({ kind: 'boom' });
  assertErrorPosted(boom, 'Error', 'boom');
  assert.equal(boom.json.stackTrace[0], 'Error: boom');
  assert.match(boom.json.stackTrace[1], /^ {4}at .*app\.js:\d+:\d+/);
  assert.ok(!boom.json.stackTrace.some((line) => line.includes('bootstrap.mjs')), boom.json.stackTrace.join('\n'));
  const logged = await fn.logLine((line) => line.requestId === boom.requestId && line.level === 'ERROR');
  assert.ok(logged.message.startsWith('Invoke Error \t{'), logged.message);
  const details = JSON.parse(logged.message.slice('Invoke Error \t'.length));
  assert.equal(details.errorType, 'Error');
  assert.equal(details.errorMessage, 'boom');
  assert.equal(details.stack[0], 'Error: boom');
  assert.deepEqual(Object.keys(details), ['errorType', 'errorMessage', 'stack']);

  const custom = await fn.api.invoke({ kind: 'custom' });
  assertErrorPosted(custom, 'ValidationError', 'bad input');
  const customLog = await fn.logLine((line) => line.requestId === custom.requestId && line.level === 'ERROR');
  assert.equal(JSON.parse(customLog.message.slice('Invoke Error \t'.length)).field, 'body');

  const thrownString = await fn.api.invoke({ kind: 'string' });
  assertErrorPosted(thrownString, 'string', 'plain string');

  assertErrorPosted(await fn.api.invoke({ kind: 'sync' }), 'TypeError', /Cannot read properties of null/);
  assertErrorPosted(await fn.api.invoke({ kind: 'bigint' }), 'Runtime.JSONStringifyError', 'Unable to stringify response body');
  // The process goes on serving after errors.
  assert.equal((await fn.api.invoke({})).json, 'fine');
});

test('the Runtime API refuses an answer and closes the connection: the next event comes on a new one', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: { 'app.js': 'let calls = 0; exports.handler = async () => ++calls;' },
  });
  fn.api.refuseAndClose.add('refused-answer');
  assert.equal((await fn.api.invoke({}, { requestId: 'refused-answer' })).json, 1);
  // It asks again on a second connection, and the same process (its module state) answers.
  for (const started = Date.now(); fn.api.connections < 2 && Date.now() - started < 5000; ) await sleep(10);
  assert.equal(fn.api.connections, 2);
  assert.equal((await fn.api.invoke({})).json, 2);
  assert.match(fn.stderr(), /Runtime API refused POST \S+\/invocation\/refused-answer\/response: 413 /);
});

test('an uncaught exception during an invocation fails it and ends the process', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `exports.handler = (event, context, callback) => { setTimeout(() => { throw new RangeError('late'); }, 5); };`,
    },
  });
  const outcome = await fn.api.invoke({});
  assertErrorPosted(outcome, 'RangeError', 'late');
  assert.deepEqual(await fn.exited, { code: 129, signal: null });
  const logged = await fn.logLine((line) => line.level === 'ERROR');
  assert.ok(logged.message.startsWith('Uncaught Exception \t{"errorType":"RangeError","errorMessage":"late"'), logged.message);
});

test('an unhandled rejection during an invocation fails it and ends the process', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: {
      'app.js': `exports.handler = async () => { Promise.reject(new Error('forgotten')); await new Promise((r) => setTimeout(r, 200)); return 'late'; };`,
    },
  });
  const outcome = await fn.api.invoke({});
  assertErrorPosted(outcome, 'Runtime.UnhandledPromiseRejection', 'Error: forgotten');
  assert.deepEqual(await fn.exited, { code: 128, signal: null });
  const logged = await fn.logLine((line) => line.level === 'ERROR');
  assert.ok(logged.message.startsWith('Unhandled Promise Rejection \t'), logged.message);
  const details = JSON.parse(logged.message.slice('Unhandled Promise Rejection \t'.length));
  assert.equal(details.errorType, 'Runtime.UnhandledPromiseRejection');
  assert.equal(details.reason.errorMessage, 'forgotten');
});

test('an async handler whose promise can never settle fails with Runtime.NodeJsExit', options, async (t) => {
  const fn = await startFunction(t, {
    handler: 'app.handler',
    files: { 'app.js': `exports.handler = async () => { await new Promise(() => {}); };` },
  });
  assertErrorPosted(await fn.api.invoke({}), 'Runtime.NodeJsExit', /Promise that was never settled/);
});

// ---------------------------------------------------------------------------------------------
// Init errors.

const initErrors = [
  {
    name: 'module not found',
    handler: 'app.handler',
    files: { 'other.js': '' },
    errorType: 'Runtime.ImportModuleError',
    errorMessage: `Error: Cannot find module 'app'\nRequire stack:\n- ${BOOTSTRAP}`,
  },
  {
    name: 'a module that requires a missing package',
    handler: 'app.handler',
    files: { 'app.js': `require('not-installed-anywhere'); exports.handler = async () => {};` },
    errorType: 'Runtime.ImportModuleError',
    errorMessage: /^Error: Cannot find module 'not-installed-anywhere'\nRequire stack:\n- .*app\.js/,
  },
  {
    name: 'handler not exported',
    handler: 'app.handler',
    files: { 'app.js': `exports.other = async () => {};` },
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: 'app.handler is undefined or not exported',
  },
  {
    name: 'handler not a function',
    handler: 'app.handler',
    files: { 'app.mjs': `export const handler = 42;` },
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: 'app.handler is not a function',
  },
  {
    name: 'syntax error in CommonJS',
    handler: 'app.handler',
    files: { 'app.js': `exports.handler = async () => {;\n` },
    errorType: 'Runtime.UserCodeSyntaxError',
    errorMessage: /^SyntaxError: /,
  },
  {
    name: 'syntax error in an ES module',
    handler: 'app.handler',
    files: { 'app.mjs': `export const handler = async () => { return ) };` },
    errorType: 'Runtime.UserCodeSyntaxError',
    errorMessage: /^SyntaxError: /,
  },
  {
    name: 'handler name without a dot',
    handler: 'app',
    files: { 'app.js': '' },
    errorType: 'Runtime.MalformedHandlerName',
    errorMessage: 'Bad handler',
  },
  {
    name: 'handler name leaving the code folder',
    handler: '../app.handler',
    files: { 'app.js': '' },
    errorType: 'Runtime.MalformedHandlerName',
    errorMessage: /^'\.\.\/app\.handler' is not a valid handler name/,
  },
  {
    name: 'an error thrown at module top level',
    handler: 'app.handler',
    files: { 'app.mjs': `throw new TypeError('no config');\nexport const handler = () => {};` },
    errorType: 'TypeError',
    errorMessage: 'no config',
  },
  {
    name: 'a top-level await that can never settle',
    handler: 'app.handler',
    files: { 'app.mjs': `await new Promise(() => {});\nexport const handler = () => {};` },
    errorType: 'Runtime.NodeJsExit',
    errorMessage: /Promise that was never settled/,
  },
];

for (const { name, handler, files, errorType, errorMessage } of initErrors) {
  test(`init error: ${name} → ${errorType}`, options, async (t) => {
    const fn = await startFunction(t, { handler, files });
    const posted = await fn.api.initError.promise;
    assert.equal(posted.headers['lambda-runtime-function-error-type'], errorType);
    assert.equal(posted.json.errorType, errorType);
    if (errorMessage instanceof RegExp) assert.match(posted.json.errorMessage, errorMessage);
    else assert.equal(posted.json.errorMessage, errorMessage);
    assert.ok(Array.isArray(posted.json.stackTrace));
    const { code } = await fn.exited;
    assert.notEqual(code, 0);
    const logged = await fn.logLine((line) => line.level === 'ERROR');
    assert.equal(logged.requestId, 'undefined');
    assert.ok(logged.message.startsWith('Uncaught Exception \t{'), logged.message);
    const details = JSON.parse(logged.message.slice('Uncaught Exception \t'.length));
    assert.equal(details.errorType, errorType);
    assert.equal(details.errorMessage, posted.json.errorMessage);
    assert.ok(Array.isArray(details.stack));
  });
}

// ---------------------------------------------------------------------------------------------
// Module resolution through NODE_PATH.

test('ES modules import bare packages from NODE_PATH; the function\'s own node_modules wins', options, async (t) => {
  const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'node-path-'));
  t.after(() => fs.rmSync(extra, { recursive: true, force: true }));
  const extraModules = path.join(extra, 'node_modules');
  writeFiles(extraModules, {
    'only-in-node-path/package.json': JSON.stringify({ name: 'only-in-node-path', exports: { import: './esm.mjs', require: './cjs.cjs' } }),
    'only-in-node-path/esm.mjs': `export const where = 'node-path (import condition)';`,
    'only-in-node-path/cjs.cjs': `exports.where = 'node-path (require condition)';`,
    'in-both/package.json': JSON.stringify({ name: 'in-both', main: 'index.js' }),
    'in-both/index.js': `exports.where = 'node-path';`,
  });
  const fn = await startFunction(t, {
    handler: 'index.handler',
    env: { NODE_PATH: [RUNTIME_MODULES, extraModules].join(path.delimiter) },
    files: {
      'node_modules/in-both/package.json': JSON.stringify({ name: 'in-both', main: 'index.js' }),
      'node_modules/in-both/index.js': `exports.where = 'function';`,
      'index.mjs': `
        import { where as fromNodePath } from 'only-in-node-path';
        import inBoth from 'in-both';
        export const handler = async () => {
          let missing;
          try { await import('installed-nowhere'); } catch (error) { missing = error.code; }
          return { fromNodePath, inBoth: inBoth.where, missing };
        };`,
    },
  });
  assert.deepEqual((await fn.api.invoke({})).json, {
    fromNodePath: 'node-path (import condition)',
    inBoth: 'function',
    missing: 'ERR_MODULE_NOT_FOUND',
  });
});

test('an ES module imports the bundled @aws-sdk/client-apigatewaymanagementapi', { ...options, skip: SDK_SKIP }, async (t) => {
  const fn = await startFunction(t, {
    handler: 'index.handler',
    files: {
      'index.mjs': `
        import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
        import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
        export const handler = async () => ({
          client: typeof ApiGatewayManagementApiClient,
          command: typeof PostToConnectionCommand,
          document: typeof DynamoDBDocumentClient,
          warningSwitch: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
        });`,
    },
  });
  assert.deepEqual((await fn.api.invoke({})).json, {
    client: 'function',
    command: 'function',
    document: 'function',
    warningSwitch: 'true',
  });
});

// ---------------------------------------------------------------------------------------------
// AWS endpoints: redirected to the emulator, or refused.

test('the SDK posting to an explicit https execute-api endpoint lands on the emulator', { ...options, skip: SDK_SKIP }, async (t) => {
  const emulator = await startFakeEmulator();
  t.after(() => emulator.close());
  const fn = await startFunction(t, {
    handler: 'index.handler',
    env: { APIGW_EMULATOR_URL: emulator.url },
    files: {
      'index.mjs': `
        import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
        export const handler = async (event) => {
          const client = new ApiGatewayManagementApiClient({
            endpoint: 'https://' + event.apiId + '.execute-api.' + process.env.AWS_REGION + '.amazonaws.com/' + event.stage,
          });
          const result = await client.send(new PostToConnectionCommand({ ConnectionId: event.connectionId, Data: 'hello there' }));
          return { status: result.$metadata.httpStatusCode };
        };`,
    },
  });
  const outcome = await fn.api.invoke({ apiId: 'abc123', stage: 'prod', connectionId: 'conn-1' });
  assert.deepEqual(outcome.json, { status: 200 });
  assert.equal(emulator.requests.length, 1);
  const [request] = emulator.requests;
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/prod/@connections/conn-1');
  assert.equal(request.headers.host, 'abc123.execute-api.us-east-1.amazonaws.com');
  assert.equal(request.body, 'hello there');
  assert.match(request.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request/);
  assert.doesNotMatch(fn.stdout() + fn.stderr(), /AWS SDK for JavaScript/);
});

test('https.request / https.get / http.request call shapes are redirected', options, async (t) => {
  const emulator = await startFakeEmulator();
  t.after(() => emulator.close());
  const fn = await startFunction(t, {
    handler: 'app.handler',
    env: { APIGW_EMULATOR_URL: emulator.url, APIGW_EMULATOR_SERVICES: 'execute-api, dynamodb' },
    files: {
      'app.js': `
        const https = require('https');
        const http = require('http');
        function settle(req, body) {
          return new Promise((resolve, reject) => {
            req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
            req.on('error', reject);
            if (body !== undefined) req.end(body);
          });
        }
        exports.handler = async (event) => {
          const port = event.port;
          const statuses = [];
          // request(url string, options, callback) with an https Agent of the caller.
          statuses.push(await settle(https.request('https://abc.execute-api.us-east-1.amazonaws.com/dev/@connections/a?x=1',
            { method: 'DELETE', agent: new https.Agent({ keepAlive: true }) }), ''));
          // get(URL) to the emulator itself over https, by its own address and as localhost.
          statuses.push(await settle(https.get(new URL('https://127.0.0.1:' + port + '/dev/@connections/b'))));
          statuses.push(await settle(https.get('https://localhost:' + port + '/dev/@connections/c')));
          // request(options) with an explicit Host header and a body.
          statuses.push(await settle(https.request({ hostname: 'dynamodb.us-east-1.amazonaws.com', method: 'POST', path: '/',
            headers: { Host: 'dynamodb.us-east-1.amazonaws.com', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' } }), '{}'));
          // Plain http to an AWS host, account-based DynamoDB endpoint.
          statuses.push(await settle(http.request({ host: '123456789012.ddb.us-east-1.amazonaws.com', port: 80, path: '/p', method: 'PUT' }), 'x'));
          // Plain http to the emulator is left alone.
          statuses.push(await settle(http.get('http://127.0.0.1:' + port + '/direct')));
          return statuses;
        };`,
    },
  });
  const outcome = await fn.api.invoke({ port: emulator.port });
  assert.deepEqual(outcome.json, [200, 200, 200, 200, 200, 200], outcome.body);
  const seen = emulator.requests.map(({ method, url, headers, body }) => [method, url, headers.host, body]);
  assert.deepEqual(seen, [
    ['DELETE', '/dev/@connections/a?x=1', 'abc.execute-api.us-east-1.amazonaws.com', ''],
    ['GET', '/dev/@connections/b', `127.0.0.1:${emulator.port}`, ''],
    ['GET', '/dev/@connections/c', `localhost:${emulator.port}`, ''],
    ['POST', '/', 'dynamodb.us-east-1.amazonaws.com', '{}'],
    ['PUT', '/p', '123456789012.ddb.us-east-1.amazonaws.com', 'x'],
    ['GET', '/direct', `127.0.0.1:${emulator.port}`, ''],
  ]);
  assert.equal(emulator.requests[3].headers['x-amz-target'], 'DynamoDB_20120810.ListTables');
});

test('a call to a service the emulator does not serve fails at once with a clear error', options, async (t) => {
  const emulator = await startFakeEmulator();
  t.after(() => emulator.close());
  const fn = await startFunction(t, {
    handler: 'index.handler',
    env: { APIGW_EMULATOR_URL: emulator.url },
    files: {
      'index.mjs': `
        import { request } from 'node:https';
        export const handler = async () => {
          const started = Date.now();
          const error = await new Promise((resolve) => {
            const req = request('https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15', { method: 'POST' },
              () => resolve(new Error('a response arrived')));
            req.on('error', resolve);
            req.end();
          });
          return { message: error.message, code: error.code, ms: Date.now() - started };
        };`,
    },
  });
  const outcome = await fn.api.invoke({});
  const expected =
    'apigw-ws-emulator does not serve sts (the function called ' +
    'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15); it serves: execute-api';
  assert.equal(outcome.json.message, expected);
  assert.equal(outcome.json.code, 'ENOTSERVED');
  assert.ok(outcome.json.ms < 2000, `took ${outcome.json.ms} ms`);
  const logged = await fn.logLine((line) => line.requestId === outcome.requestId && line.level === 'ERROR');
  assert.equal(logged.message, expected);
  assert.equal(emulator.requests.length, 0);
});

test('the SDK calling DynamoDB when the emulator serves only execute-api gets the refusal', { ...options, skip: SDK_SKIP }, async (t) => {
  const emulator = await startFakeEmulator();
  t.after(() => emulator.close());
  const fn = await startFunction(t, {
    handler: 'index.handler',
    env: { APIGW_EMULATOR_URL: emulator.url },
    files: {
      'index.mjs': `
        import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
        const client = new DynamoDBClient({ maxAttempts: 1 });
        export const handler = async () => {
          try { await client.send(new ListTablesCommand({})); return 'no error'; }
          catch (error) { return error.message; }
        };`,
    },
  });
  const outcome = await fn.api.invoke({});
  assert.match(outcome.json, /^apigw-ws-emulator does not serve dynamodb \(the function called https:\/\/dynamodb\.us-east-1\.amazonaws\.com\/\); it serves: execute-api$/);
  assert.equal(emulator.requests.length, 0);
});
