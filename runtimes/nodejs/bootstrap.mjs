// Node.js function runtime of apigw-ws-emulator: runs a user's unmodified Node.js Lambda
// function as Lambda's Node.js runtimes do, as a client of the Lambda Runtime API
// (2018-06-01) that the emulator serves at AWS_LAMBDA_RUNTIME_API.
//
// Started by the emulator as `node bootstrap.mjs` in the function's code folder. It loads the
// handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops: fetch the next event, call the
// handler, post its result or error. Console output is written in Lambda's log line format.
// Calls to AWS endpoints are sent to the emulator (APIGW_EMULATOR_URL) when it serves that
// service (APIGW_EMULATOR_SERVICES) and refused otherwise, so no call leaves the machine.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import nodeModule from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL, urlToHttpOptions } from 'node:url';
import util from 'node:util';

const BOOTSTRAP_FILE = fileURLToPath(import.meta.url);
const RUNTIME_DIR = path.dirname(BOOTSTRAP_FILE);
const requireFromRuntime = nodeModule.createRequire(import.meta.url);

// The originals, kept before the AWS redirect replaces the module properties.
const httpRequest = http.request;
const httpsRequest = https.request;

// ---------------------------------------------------------------------------------------------
// Logging: console methods write Lambda's text log lines to stdout.

// The current invocation's id; the literal "undefined" in log lines until the first one.
let currentRequestId;

const LOG_LEVELS = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };

function writeLog(level, args) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`;
  process.stdout.write(line);
}

// Levels below AWS_LAMBDA_LOG_LEVEL are dropped, as Lambda does; FATAL is always written.
function patchConsole() {
  const threshold = LOG_LEVELS[String(process.env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase()] ?? LOG_LEVELS.TRACE;
  const logger = (level) =>
    LOG_LEVELS[level] >= threshold || level === 'FATAL' ? (...args) => writeLog(level, args) : () => {};
  console.trace = logger('TRACE');
  console.debug = logger('DEBUG');
  console.info = logger('INFO');
  console.log = console.info;
  console.warn = logger('WARN');
  console.error = logger('ERROR');
  console.fatal = logger('FATAL');
}

// ---------------------------------------------------------------------------------------------
// Errors: the runtime's own error types and their two renderings (log line, Runtime API body).

class RuntimeError extends Error {
  constructor(type, message) {
    super(message);
    Object.defineProperty(this, 'name', { value: `Runtime.${type}`, configurable: true, writable: true });
  }
}

// Wraps a load failure; the message is the original error as a string ("SyntaxError: ...").
function wrapLoadError(type, error, keepStack) {
  const wrapped = new RuntimeError(type, String(error));
  if (keepStack && typeof error?.stack === 'string') wrapped.stack = error.stack;
  return wrapped;
}

class UnhandledPromiseRejection extends RuntimeError {
  constructor(reason, promise) {
    super('UnhandledPromiseRejection', safeString(reason));
    this.reason = reason;
    this.promise = promise;
  }
}

function safeString(value) {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

// Stack frames of this runtime are left out of the stacks shown to the user.
const OWN_FRAME = new RegExp(
  `^\\s+at .*(${escapeRegExp(pathToFileURL(RUNTIME_DIR).href)}|${escapeRegExp(RUNTIME_DIR)})/(bootstrap|resolve-hook)\\.mjs`,
);

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function stackLines(stack) {
  return String(stack)
    .split('\n')
    .filter((line) => !OWN_FRAME.test(line));
}

function isErrorLike(value) {
  return (
    util.types.isNativeError(value) ||
    (value !== null &&
      typeof value === 'object' &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string')
  );
}

// The body posted to /error and /init/error, as Lambda's runtime builds it: a value that is
// not an error is reported with its type and its string form.
function toRuntimeResponse(error) {
  try {
    if (isErrorLike(error)) {
      return {
        errorMessage: String(error.message),
        errorType: String(error.name || 'Error'),
        stackTrace: typeof error.stack === 'string' ? stackLines(error.stack) : [],
      };
    }
    return { errorMessage: safeString(error), errorType: typeof error, stackTrace: [] };
  } catch {
    return {
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      errorType: 'handled',
      stackTrace: [],
    };
  }
}

// Errors anywhere in a logged value become {errorType, errorMessage, code, ...own fields, stack}.
function errorFields(_key, value) {
  if (!(value instanceof Error)) return value;
  const fields = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
  if (typeof value.stack === 'string') fields.stack = stackLines(value.stack);
  return fields;
}

// Writes "<label> \t{json}" as an ERROR line, as Lambda's runtime logs failures.
function logError(label, error) {
  const asError = error instanceof Error ? error : new Error(safeString(error));
  if (asError !== error) asError.stack = `Error: ${asError.message}`;
  let json;
  try {
    json = JSON.stringify(asError, errorFields);
  } catch {
    const { errorType, errorMessage, stackTrace } = toRuntimeResponse(asError);
    json = JSON.stringify({ errorType, errorMessage, stack: stackTrace });
  }
  writeLog('ERROR', [label, `\t${json}`]);
}

// ---------------------------------------------------------------------------------------------
// Runtime API client.
//
// One kept-alive TCP connection, spoken to in HTTP/1.1 directly rather than through node:http:
// the server is always the emulator's Runtime API (Content-Length bodies, no redirects, no
// compression), and an invocation's answer and the next GET are written together (pipelined),
// so that an invocation costs one write and usually one read. node:http's ClientRequest and
// IncomingMessage cost several times more per exchange, which every warm invocation pays.

const runtimeApi = (() => {
  let host;
  let port;
  try {
    ({ hostname: host, port } = new URL(`http://${process.env.AWS_LAMBDA_RUNTIME_API}`));
    host = host.replace(/^\[(.*)\]$/, '$1');
  } catch {
    host = undefined; // Reported by main().
  }
  const base = '/2018-06-01/runtime';
  const hostHeader = `Host: ${process.env.AWS_LAMBDA_RUNTIME_API}\r\n`;
  const HEAD_END = Buffer.from('\r\n\r\n');

  let socket = null;
  const waiting = []; // one { resolve, reject } per request written and not yet answered
  let input = null; // bytes received and not yet parsed
  let head = null; // the current response's status, headers and body length, once read

  function connection() {
    if (socket) return socket;
    const s = net.connect({ host, port });
    socket = s;
    s.setNoDelay(true);
    s.on('data', received);
    const fail = (error) => {
      if (socket !== s) return; // already given up (its 'error' came before its 'close')
      socket = null;
      input = null;
      head = null;
      const reason = error ?? new Error('the Runtime API closed the connection');
      for (const w of waiting.splice(0)) w.reject(reason);
    };
    s.on('error', fail);
    s.on('close', () => fail());
    return s;
  }

  function parseHead(text) {
    const lines = text.split('\r\n');
    const status = Number(lines[0].split(' ', 2)[1]);
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
      const colon = lines[i].indexOf(':');
      if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (!Number.isInteger(status) || !Number.isSafeInteger(length) || headers['transfer-encoding']) {
      throw new Error(`unexpected answer from the Runtime API: ${lines[0]}`);
    }
    return { status, headers, length };
  }

  function received(chunk) {
    input = input ? Buffer.concat([input, chunk]) : chunk;
    while (input) {
      if (!head) {
        const end = input.indexOf(HEAD_END);
        if (end < 0) return;
        try {
          head = parseHead(input.toString('latin1', 0, end));
        } catch (error) {
          socket.destroy(error);
          return;
        }
        input = input.subarray(end + HEAD_END.length);
      }
      if (input.length < head.length) return;
      const body = input.toString('utf8', 0, head.length);
      input = input.length > head.length ? input.subarray(head.length) : null;
      const { status, headers } = head;
      head = null;
      const w = waiting.shift();
      // An answered connection does not keep the process alive: the event loop may run empty
      // while a handler is pending (see 'beforeExit').
      if (waiting.length === 0) socket.unref();
      w?.resolve({ status, headers, body });
    }
  }

  // Writes REQUESTS (their text, in order) in one write; a promise per request for its answer.
  function send(...requests) {
    const s = connection();
    s.ref();
    const answers = requests.map(() => new Promise((resolve, reject) => waiting.push({ resolve, reject })));
    s.write(requests.join(''));
    return answers;
  }

  const nextRequest = `GET ${base}/invocation/next HTTP/1.1\r\n${hostHeader}\r\n`;

  function postRequest(urlPath, body, headers) {
    let text = `POST ${base}${urlPath} HTTP/1.1\r\n${hostHeader}Content-Type: application/json\r\n`;
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
    return `${text}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }

  async function checkNext(answer) {
    const res = await answer;
    if (res.status !== 200) throw new Error(`GET ${base}/invocation/next answered ${res.status}: ${res.body}`);
    return res;
  }

  // POSTs BODY to URL_PATH, and with it GETs the next invocation when THEN_NEXT; resolves with
  // that invocation (or once the POST is answered).
  async function post(urlPath, body, headers, thenNext) {
    // The invocation's log lines come before its END line: let what the function wrote reach the
    // emulator's pipes first (writes to a full pipe are queued, not blocking).
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
      await Promise.all([process.stdout, process.stderr].map(flushed));
    }
    const post = postRequest(urlPath, body, headers);
    const [posted, next] = thenNext ? send(post, nextRequest) : send(post);
    // The server closes the connection after refusing a body (one over 6 MB): the GET that went
    // with the POST is then asked again, on a new connection.
    const retried = next?.catch(() => send(nextRequest)[0]);
    const res = await posted;
    if (res.status >= 300) {
      process.stderr.write(`Runtime API refused POST ${base}${urlPath}: ${res.status} ${res.body}\n`);
    }
    return retried && checkNext(retried);
  }

  function flushed(stream) {
    return stream.writableLength > 0 ? new Promise((resolve) => stream.write('', resolve)) : undefined;
  }

  function errorPost(urlPath, error, thenNext) {
    const response = toRuntimeResponse(error);
    return post(urlPath, JSON.stringify(response), { 'Lambda-Runtime-Function-Error-Type': response.errorType }, thenNext);
  }

  const invocationPath = (id, what) => `/invocation/${encodeURIComponent(id)}/${what}`;
  return {
    next: () => checkNext(send(nextRequest)[0]),
    // Post an invocation's result or error; resolve with the next invocation.
    answer: (id, body) => post(invocationPath(id, 'response'), body, {}, true),
    answerError: (id, error) => errorPost(invocationPath(id, 'error'), error, true),
    // Post an error on the way out; resolve when it is received.
    postError: (id, error) => errorPost(invocationPath(id, 'error'), error, false),
    postInitError: (error) => errorPost('/init/error', error, false),
  };
})();

// ---------------------------------------------------------------------------------------------
// AWS endpoints: requests to *.amazonaws.com (and to the emulator itself over https) are
// sent to the emulator over plain HTTP, or refused when it does not serve that service.

const AWS_HOST_SUFFIXES = ['.amazonaws.com', '.amazonaws.com.cn', '.api.aws'];

const emulator = (() => {
  const services = String(process.env.APIGW_EMULATOR_SERVICES ?? '')
    .split(',')
    .map((service) => service.trim().toLowerCase())
    .filter(Boolean);
  let url = null;
  try {
    url = process.env.APIGW_EMULATOR_URL ? new URL(process.env.APIGW_EMULATOR_URL) : null;
  } catch {
    url = null;
  }
  if (!url) return { services: [], url: null };
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const names = new Set([hostname.toLowerCase(), 'localhost', '127.0.0.1']);
  return { services, url, hostname, port, names, agent: new http.Agent({ keepAlive: true }) };
})();

// The AWS service an endpoint host belongs to.
function serviceOfHost(host) {
  const labels = host.split('.');
  if (labels[1] === 'execute-api') return 'execute-api';
  if (labels[0] === 'dynamodb' || labels[1] === 'ddb') return 'dynamodb';
  if (labels.includes('s3') || labels[0].startsWith('s3-')) return 's3';
  return labels[0];
}

// Merges the call shapes request(options), request(url[, options]) (each with an optional
// callback) into one options object, as Node.js does.
function requestArguments(args) {
  let index = 0;
  let merged = {};
  if (typeof args[0] === 'string' || args[0] instanceof URL) {
    merged = urlToHttpOptions(typeof args[0] === 'string' ? new URL(args[0]) : args[0]);
    index = 1;
  }
  if (args[index] && typeof args[index] === 'object') {
    merged = { ...merged, ...args[index] };
    index += 1;
  }
  const callback = typeof args[index] === 'function' ? args[index] : undefined;
  return { options: merged, callback };
}

function hasHeader(headers, name) {
  if (Array.isArray(headers)) return headers.some((value, i) => i % 2 === 0 && String(value).toLowerCase() === name);
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

// What to do with one outgoing request: null leaves it untouched.
function routeOf(scheme, options) {
  const hostname = String(options.hostname || options.host || 'localhost')
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  const defaultPort = scheme === 'https' ? 443 : 80;
  const port = Number(options.port || options.defaultPort || (options.agent && options.agent.defaultPort) || defaultPort);
  const authority = port === defaultPort ? hostname : `${hostname}:${port}`;
  const target = { hostname, port, authority, path: options.path || '/' };
  if (AWS_HOST_SUFFIXES.some((suffix) => hostname.endsWith(suffix))) {
    const service = serviceOfHost(hostname);
    if (emulator.url && emulator.services.includes(service)) return { ...target, action: 'redirect' };
    const served = emulator.services.length ? emulator.services.join(', ') : '(nothing)';
    const message =
      `apigw-ws-emulator does not serve ${service} (the function called ${scheme}://${authority}${target.path});` +
      ` it serves: ${served}`;
    return { ...target, action: 'refuse', service, message };
  }
  if (scheme === 'https' && emulator.url && port === emulator.port && emulator.names.has(hostname)) {
    return { ...target, action: 'redirect' };
  }
  return null;
}

// The same request, sent to the emulator over plain HTTP with the original Host header (the
// SigV4 signature covers it). An https Agent of the caller cannot carry plain HTTP.
function redirectToEmulator(options, route, callback) {
  let headers = options.headers ?? {};
  headers = Array.isArray(headers) ? [...headers] : { ...headers };
  if (!hasHeader(headers, 'host')) {
    if (Array.isArray(headers)) headers.push('Host', route.authority);
    else headers.Host = route.authority;
  }
  const redirected = {
    protocol: 'http:',
    host: emulator.hostname,
    port: emulator.port,
    method: options.method,
    path: route.path,
    headers,
    agent: emulator.agent,
    auth: options.auth,
    timeout: options.timeout,
    signal: options.signal,
  };
  return httpRequest(redirected, callback);
}

// A request that fails with `error` without ever connecting: the host lookup fails.
function refusedRequest(options, route, callback) {
  const error = Object.assign(new Error(route.message), {
    code: 'ENOTSERVED',
    service: route.service,
    hostname: route.hostname,
  });
  writeLog('ERROR', [route.message]);
  const refused = {
    host: route.hostname,
    port: route.port,
    method: options.method,
    path: route.path,
    headers: options.headers,
    agent: false,
    lookup: (_host, _lookupOptions, done) => setImmediate(done, error),
  };
  return httpRequest(refused, callback);
}

function patchRequestFunctions(moduleObject, scheme, originalRequest) {
  moduleObject.request = function request(...args) {
    let parsed;
    let route;
    try {
      parsed = requestArguments(args);
      route = routeOf(scheme, parsed.options);
    } catch {
      route = null; // Arguments Node.js itself rejects: let it report them.
    }
    if (!route) return originalRequest.apply(this, args);
    if (route.action === 'redirect') return redirectToEmulator(parsed.options, route, parsed.callback);
    return refusedRequest(parsed.options, route, parsed.callback);
  };
  moduleObject.get = function get(...args) {
    const req = moduleObject.request(...args);
    req.end();
    return req;
  };
}

function patchAwsEndpoints() {
  patchRequestFunctions(http, 'http', httpRequest);
  patchRequestFunctions(https, 'https', httpsRequest);
  // Named imports (import { request } from 'node:https') see the patched functions too.
  nodeModule.syncBuiltinESMExports();
}

// ---------------------------------------------------------------------------------------------
// Loading the handler, following Lambda's Node.js runtimes.

function parseHandler(fullHandler) {
  if (fullHandler.includes('..')) {
    throw new RuntimeError(
      'MalformedHandlerName',
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const moduleAndFunction = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(moduleAndFunction));
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndFunction);
  if (!match) throw new RuntimeError('MalformedHandlerName', 'Bad handler');
  return { moduleRoot, moduleName: match[1], functionPath: match[2] };
}

// True when the nearest package.json (not looking past a node_modules folder) has "type": "module".
function isModulePackage(folder) {
  for (let current = folder; ; current = path.dirname(current)) {
    if (current.endsWith(`${path.sep}node_modules`)) return false;
    const packageFile = path.join(current, 'package.json');
    if (fs.existsSync(packageFile)) {
      try {
        return JSON.parse(fs.readFileSync(packageFile, 'utf8'))?.type === 'module';
      } catch (error) {
        console.warn(`${packageFile} cannot be read, it will be ignored for ES module detection purposes.`, error);
        return false;
      }
    }
    if (path.dirname(current) === current) return false;
  }
}

async function importFile(file) {
  return import(pathToFileURL(file).href);
}

// Tries the module file in Lambda's order: as given, .js (CommonJS unless the package is
// "type": "module"), .mjs, .cjs; then Node.js resolution from the task root.
async function loadUserModule(taskRoot, moduleRoot, moduleName) {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  if (fs.existsSync(base)) return requireFromRuntime(base);
  const esm = isModulePackage(path.dirname(base));
  if (fs.existsSync(`${base}.js`)) return esm ? importFile(`${base}.js`) : requireFromRuntime(`${base}.js`);
  if (fs.existsSync(`${base}.mjs`)) return importFile(`${base}.mjs`);
  if (fs.existsSync(`${base}.cjs`)) return requireFromRuntime(`${base}.cjs`);
  return requireFromRuntime(requireFromRuntime.resolve(moduleName, { paths: [taskRoot, moduleRoot] }));
}

async function loadHandler(taskRoot, fullHandler) {
  const { moduleRoot, moduleName, functionPath } = parseHandler(fullHandler);
  let userModule;
  try {
    userModule = await loadUserModule(taskRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw wrapLoadError('UserCodeSyntaxError', error, true);
    if (error?.code === 'MODULE_NOT_FOUND') throw wrapLoadError('ImportModuleError', error, false);
    throw error;
  }
  const handler = functionPath.split('.').reduce((value, key) => value && value[key], userModule);
  if (!handler) throw new RuntimeError('HandlerNotFound', `${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new RuntimeError('HandlerNotFound', `${fullHandler} is not a function`);
  return handler;
}

// ---------------------------------------------------------------------------------------------
// Invocations.

// The invocation in progress (null between invocations), for errors raised outside the handler.
let active = null;
// 'init' until the handler is loaded, then 'invoke'.
let phase = 'init';
let failing = false;

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error}`);
  }
}

const NODE_JS_EXIT_MESSAGE =
  'Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.';

function isAsyncFunction(fn) {
  return fn?.constructor?.name === 'AsyncFunction';
}

// Runs one invocation; resolves with the next one, asked for together with its result or error.
// The handler is called directly (not from a promise executor) to keep its stack free of runtime
// frames.
function invoke(handler, res) {
  let completed;
  const completion = new Promise((resolve) => {
    completed = resolve;
  });
  const headers = res.headers;
  const requestId = headers['lambda-runtime-aws-request-id'];
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  currentRequestId = requestId;
  if (headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  else delete process.env._X_AMZN_TRACE_ID;

  let done = false;
  let returnedPromise = false;
  // The first outcome counts (callback, context.done/succeed/fail, returned promise).
  const finish = (error, result) => {
    if (done) return;
    done = true;
    active = null;
    let posting;
    if (error !== undefined && error !== null) {
      logError('Invoke Error', error);
      posting = runtimeApi.answerError(requestId, error);
    } else {
      let body;
      try {
        body = JSON.stringify(result === undefined ? null : result) ?? 'null';
      } catch {
        const unserializable = new RuntimeError('JSONStringifyError', 'Unable to stringify response body');
        logError('Invoke Error', unserializable);
        posting = runtimeApi.answerError(requestId, unserializable);
      }
      posting ??= runtimeApi.answer(requestId, body);
    }
    posting.then(completed, (postError) => {
      process.stderr.write(`Runtime API unreachable: ${postError.message}\n`);
      process.exit(1);
    });
  };

  let waitsForEmptyEventLoop = true;
  const context = {
    // Settable as on Lambda; results are posted as soon as they are known either way.
    get callbackWaitsForEmptyEventLoop() {
      return waitsForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitsForEmptyEventLoop = value;
    },
    done: (error, result) => finish(error, result),
    succeed: (result) => finish(null, result),
    fail: (error) => finish(error ?? 'handled'),
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: undefined,
    identity: undefined,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  const callback = (error, result) => finish(error, result);

  active = {
    requestId,
    // Reported by failProcess: the handler's own outcome, if any, is dropped.
    abandon: () => {
      done = true;
    },
    // The event loop ran empty with the invocation unfinished: a pending promise can never
    // settle now (Runtime.NodeJsExit); a handler that never called back returns null.
    emptyEventLoop: () => {
      if (returnedPromise || isAsyncFunction(handler)) {
        finish(new RuntimeError('NodeJsExit', NODE_JS_EXIT_MESSAGE));
      } else {
        finish(null, null);
      }
    },
  };

  let result;
  try {
    context.clientContext = parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext');
    context.identity = parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity');
    const event = JSON.parse(res.body);
    result = handler(event, context, callback);
  } catch (error) {
    finish(error);
    return completion;
  }
  if (result && typeof result.then === 'function') {
    returnedPromise = true;
    result.then(
      (value) => finish(null, value),
      (error) => finish(error ?? 'handled'),
    );
  } else if (result !== undefined && handler.length < 3) {
    finish(null, result); // A plain return value is the result.
  }
  return completion;
}

// Reports a failure that no handler caught, then ends the process (the emulator restarts it).
function failProcess(error, exitCode) {
  if (failing) return;
  failing = true;
  let posting = Promise.resolve();
  if (phase === 'init') {
    posting = runtimeApi.postInitError(error);
  } else if (active) {
    active.abandon();
    posting = runtimeApi.postError(active.requestId, error);
  }
  active = null;
  posting.finally(() => process.exit(exitCode)).catch(() => {});
}

function installProcessHandlers() {
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    failProcess(error, 129);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    failProcess(error, 128);
  });
  // The event loop ran empty: nothing left can settle what is still pending.
  process.on('beforeExit', () => {
    if (phase === 'init' && !failing) {
      const error = new RuntimeError('NodeJsExit', NODE_JS_EXIT_MESSAGE);
      logError('Uncaught Exception', error);
      failProcess(error, 129);
    } else if (active) {
      active.emptyEventLoop();
    }
  });
}

function registerResolveHook() {
  if (!process.env.NODE_PATH || typeof nodeModule.register !== 'function') return;
  nodeModule.register('./resolve-hook.mjs', import.meta.url, { data: { nodePath: process.env.NODE_PATH } });
}

// The AWS SDK v3 warns once per process on Node.js versions it is about to drop. Releases newer
// than the bundled one skip that warning when AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED
// is "true"; the same variable drops it here for releases that do not read it.
function disableSdkNodeVersionWarning() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const emitWarning = process.emitWarning;
  const sdkWarning = /^Node(Deprecation|VersionSupport)Warning: The AWS SDK for JavaScript \(v3\)/;
  process.emitWarning = function (warning, ...rest) {
    const text = typeof warning === 'string' ? warning : warning?.message;
    if (process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === 'true' && sdkWarning.test(String(text))) return;
    return emitWarning.call(this, warning, ...rest);
  };
}

async function main() {
  if (!process.env.AWS_LAMBDA_RUNTIME_API) {
    process.stderr.write('AWS_LAMBDA_RUNTIME_API is not set: this runtime is started by apigw-ws-emulator\n');
    process.exit(1);
  }
  patchConsole();
  disableSdkNodeVersionWarning();
  installProcessHandlers();
  patchAwsEndpoints();
  registerResolveHook();

  let handler;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER ?? '');
  } catch (error) {
    logError('Uncaught Exception', error);
    failProcess(error, 129);
    return;
  }
  phase = 'invoke';

  let next;
  try {
    next = await runtimeApi.next();
  } catch (error) {
    process.stderr.write(`Runtime API unreachable: ${error.message}\n`);
    process.exit(1);
  }
  for (;;) next = await invoke(handler, next);
}

main();
