"""Python runtime for apigw-ws-emulator: runs an unmodified AWS Lambda function.

The emulator starts one process per function instance:

    /usr/bin/python3 runtimes/python/bootstrap.py [handler]

with the function's code folder as the working directory. The process talks to the
emulator's Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API, imports the
handler named by _HANDLER (or the optional first argument), and then loops: fetch the
next event, call handler(event, context), post the result or the error.

What user code sees follows Lambda's Python runtime: sys.path, the context object, the
root logger's line format, the error payloads and the error log lines.

AWS SDK calls made through botocore are kept on this machine: requests to AWS hosts of
the services listed in APIGW_EMULATOR_SERVICES go to APIGW_EMULATOR_URL over plain
HTTP, https requests to the emulator's own host:port are sent as plain HTTP, and
requests to any other AWS service fail at once with a clear message.

Standard library only; Python 3.9 or later.
"""

import decimal
import http.client
import importlib
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from urllib.parse import quote, urlsplit

RUNTIME_API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"

# Error types reported by Lambda's Python runtime.
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_THIS_FILE = os.path.realpath(os.path.abspath(__file__))
_IMPORTLIB_DIR = os.path.dirname(os.path.realpath(importlib.__file__))

# Request id of the invocation in progress (or the last one); used in log lines.
_current_request_id = ""
_current_tenant_id = None


class FaultError(Exception):
    """An error the runtime reports under one of Lambda's Runtime.* error types."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# ---------------------------------------------------------------------------
# Logging and error reporting


def _utc_timestamp(epoch_seconds=None):
    """ISO 8601 UTC time with milliseconds, as in Lambda's log lines."""
    if epoch_seconds is None:
        epoch_seconds = time.time()
    millis = int(epoch_seconds * 1000) % 1000
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds)), millis)


def log_line(level, message):
    """A line in the root logger's text format, for messages from the runtime itself."""
    return "[%s]\t%s\t%s\t%s" % (level, _utc_timestamp(), _current_request_id, message)


def _json_log_format():
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def _log_level_from_env():
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level == "TRACE":
        level = "DEBUG"
    return level if level in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL") else ""


class _RequestIdFilter(logging.Filter):
    """Adds the current request id (and tenant id) to every record."""

    def filter(self, record):
        record.aws_request_id = _current_request_id
        record.tenant_id = _current_tenant_id
        return True


class _StdoutHandler(logging.Handler):
    """Writes each formatted record as its own line(s) to the current sys.stdout."""

    def emit(self, record):
        try:
            text = self.format(record)
            stream = sys.stdout
            stream.write(text + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


# LogRecord attributes that are not user-supplied "extra" fields.
_RESERVED_RECORD_FIELDS = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process", "taskName",
    "aws_request_id", "tenant_id", "message", "asctime",
))


class _JsonFormatter(logging.Formatter):
    """The JSON log format of Lambda's advanced logging controls."""

    def format(self, record):
        level = min(50, max(0, record.levelno)) // 10 * 10
        entry = {
            "timestamp": _utc_timestamp(record.created),
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None),
        }
        if getattr(record, "tenant_id", None) is not None:
            entry["tenantId"] = record.tenant_id
        if record.exc_info and record.exc_info[0] is not None:
            entry["errorType"] = record.exc_info[0].__name__
            entry["errorMessage"] = str(record.exc_info[1])
            entry["stackTrace"] = traceback.format_tb(record.exc_info[2])
            entry["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
        for key, value in record.__dict__.items():
            if key not in _RESERVED_RECORD_FIELDS and key not in entry:
                entry[key] = value
        entry = {key: value for key, value in entry.items() if value is not None}
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging():
    """Configures the root logger as Lambda does (level WARNING unless AWS_LAMBDA_LOG_LEVEL)."""
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    if _json_log_format():
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        ))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = _log_level_from_env()
    if level:
        root.setLevel(level)
    root.addHandler(handler)


def make_error(message, error_type, stack_trace, request_id=""):
    """The error document Lambda's Python runtime posts to the Runtime API."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def _user_frames(tb, skip_import_machinery=False):
    """Traceback frames without the runtime's own frames (and, on import, importlib's)."""
    frames = [frame for frame in traceback.extract_tb(tb) if os.path.realpath(frame.filename) != _THIS_FILE]
    if skip_import_machinery:
        while frames and (frames[0].filename.startswith("<frozen importlib")
                          or os.path.dirname(os.path.realpath(frames[0].filename)) == _IMPORTLIB_DIR):
            frames.pop(0)
    return traceback.StackSummary.from_list(frames)


def error_from_exception(exc, request_id="", during_import=False):
    frames = _user_frames(exc.__traceback__, skip_import_machinery=during_import)
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable %s object>" % type(exc).__name__
    return make_error(message, type(exc).__name__, traceback.format_list(frames), request_id)


def log_error(error):
    """Logs an unhandled error as Lambda does: '[ERROR] Type: message' and the traceback."""
    if _json_log_format():
        entry = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR"}
        entry.update(error)
        text = json.dumps(entry)
    else:
        head = "[ERROR]"
        if error["errorType"]:
            head += " " + error["errorType"]
        if error["errorMessage"]:
            head += (":" if error["errorType"] else "") + " " + error["errorMessage"]
        lines = [head, "Traceback (most recent call last):"]
        for element in error["stackTrace"]:
            lines.extend(element.splitlines() if element else [""])
        text = "\n".join(lines)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _configure_output_streams():
    """UTF-8, line-buffered stdout and stderr so each line reaches the emulator promptly."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", line_buffering=True)
        except (AttributeError, ValueError, OSError):
            pass


# ---------------------------------------------------------------------------
# Loading the handler


def load_handler(handler_name):
    """Imports 'module.function' (the module part may use '/' or '.') and returns the function."""
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler_name, exc))

    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(BUILT_IN_MODULE_CONFLICT,
                         "Cannot use built-in module %s as a handler module" % module_name)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (module_name, exc))
    except SyntaxError as exc:
        trace = ['  File "%s" Line %s\n    %s' % (exc.filename, exc.lineno, exc.text)]
        raise FaultError(USER_CODE_SYNTAX_ERROR,
                         "Syntax error in module '%s': %s" % (module_name, exc), trace)

    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError(HANDLER_NOT_FOUND,
                         "Handler '%s' missing on module '%s'" % (function_name, module_name))


def setup_sys_path(task_root):
    """Puts the task root first and makes sure the runtime's own folder is not importable."""
    own_dir = os.path.dirname(_THIS_FILE)
    sys.path[:] = [entry for entry in sys.path
                   if os.path.realpath(os.path.abspath(entry or os.curdir)) != own_dir]
    if task_root in sys.path:
        sys.path.remove(task_root)
    sys.path.insert(0, task_root)


# ---------------------------------------------------------------------------
# Context object


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, document=None):
        document = document or {}
        self.cognito_identity_id = document.get("cognitoIdentityId")
        self.cognito_identity_pool_id = document.get("cognitoIdentityPoolId")

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, document):
        for field in self.__slots__:
            setattr(self, field, document.get(field))

    def __repr__(self):
        return "Client([%s])" % ",".join("%s=%s" % (f, getattr(self, f)) for f in self.__slots__)


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, document):
        self.custom = document.get("custom")
        self.env = document.get("env")
        client = document.get("client")
        self.client = Client(client) if isinstance(client, dict) else None

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env, self.client)


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as exc:
        raise FaultError(CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, exc))


class LambdaContext:
    """The context argument of the handler, with the attributes of Lambda's Python runtime."""

    def __init__(self, request_id, deadline_ms, invoked_function_arn,
                 client_context=None, identity=None, tenant_id=None):
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in Lambda (it comes from the environment).
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = ClientContext(client_context) if isinstance(client_context, dict) else None
        self.identity = CognitoIdentity(identity if isinstance(identity, dict) else None)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message):
        sys.stdout.write(str(message))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
                "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
                "identity=%s,tenant_id=%s])" % (
                    self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
                    self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
                    self.client_context, self.identity, self.tenant_id))


# ---------------------------------------------------------------------------
# Event and result (un)marshalling


_DECIMAL_MARKER = "apigw-ws-emulator-decimal-%s-" % uuid.uuid4().hex
_DECIMAL_PATTERN = re.compile('"' + re.escape(_DECIMAL_MARKER) + r'(\d+)"')


def to_json(value):
    """json.dumps, plus decimal.Decimal written as a JSON number (as Lambda does)."""
    decimals = []

    def encode_other(obj):
        if isinstance(obj, decimal.Decimal):
            decimals.append(obj)
            return _DECIMAL_MARKER + str(len(decimals) - 1)
        raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)

    # Lambda's python3.12 runtime writes non-ASCII characters as they are.
    ensure_ascii = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    text = json.dumps(value, default=encode_other, ensure_ascii=ensure_ascii)
    if decimals:
        def number(match):
            d = decimals[int(match.group(1))]
            return "NaN" if d.is_nan() else str(d)
        text = _DECIMAL_PATTERN.sub(number, text)
    return text


def unmarshal_event(body, content_type):
    # Events are JSON; another declared content type is passed through as bytes.
    if content_type and content_type.split(";")[0].strip().lower() != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as exc:
        raise FaultError(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % exc)


def marshal_result(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return to_json(result).encode("utf-8"), "application/json"
    except Exception as exc:
        raise FaultError(MARSHAL_ERROR, "Unable to marshal response: %s" % exc)


# ---------------------------------------------------------------------------
# Runtime API client


class RuntimeApiError(Exception):
    pass


class Invocation:
    def __init__(self, body, headers):
        self.body = body
        self.request_id = headers.get("Lambda-Runtime-Aws-Request-Id") or ""
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.trace_id = headers.get("Lambda-Runtime-Trace-Id")
        self.client_context = headers.get("Lambda-Runtime-Client-Context")
        self.cognito_identity = headers.get("Lambda-Runtime-Cognito-Identity")
        self.tenant_id = headers.get("Lambda-Runtime-Aws-Tenant-Id")
        self.content_type = headers.get("Content-Type")
        try:
            self.deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)
        except ValueError:
            self.deadline_ms = 0


class RuntimeApiClient:
    """Lambda Runtime API over one persistent HTTP/1.1 connection."""

    def __init__(self, address):
        self._address = address
        self._connection = None

    def _request(self, method, path, body=None, headers=None):
        for attempt in (1, 2):
            if self._connection is None:
                # No timeout: /next is a long poll that lasts until the next event.
                self._connection = http.client.HTTPConnection(self._address, timeout=None)
            try:
                self._connection.request(method, path, body=body, headers=headers or {})
                response = self._connection.getresponse()
                return response.status, response.headers, response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self._connection.close()
                self._connection = None
                # A kept-alive connection the server has since closed: retry once, fresh.
                if attempt == 2:
                    raise RuntimeApiError("%s %s failed: %s" % (method, path, exc))

    def _post(self, path, body, headers):
        status, _, data = self._request("POST", path, body, headers)
        if status != 202:
            sys.stderr.write(log_line("ERROR", "Runtime API POST %s answered %d: %s" % (
                path, status, data.decode("utf-8", "replace")[:500])) + "\n")

    def next_invocation(self):
        status, headers, body = self._request("GET", RUNTIME_API_PREFIX + "/invocation/next")
        if status != 200:
            raise RuntimeApiError("GET /invocation/next answered %d: %s" % (
                status, body.decode("utf-8", "replace")[:500]))
        return Invocation(body, headers)

    def post_response(self, request_id, payload, content_type):
        self._post("%s/invocation/%s/response" % (RUNTIME_API_PREFIX, quote(request_id, safe="")),
                   payload, {"Content-Type": content_type})

    def post_error(self, request_id, error):
        self._post("%s/invocation/%s/error" % (RUNTIME_API_PREFIX, quote(request_id, safe="")),
                   json.dumps(error).encode("utf-8"),
                   {"Content-Type": "application/json", ERROR_TYPE_HEADER: error["errorType"]})

    def post_init_error(self, error):
        self._post(RUNTIME_API_PREFIX + "/init/error", json.dumps(error).encode("utf-8"),
                   {"Content-Type": "application/json", ERROR_TYPE_HEADER: error["errorType"]})


# ---------------------------------------------------------------------------
# Keeping botocore's requests on this machine


_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
_LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1"))
_DEFAULT_PORTS = {"http": 80, "https": 443}


def aws_service_for_host(host):
    """The AWS service an AWS endpoint host belongs to, or None for a non-AWS host."""
    host = host.lower().rstrip(".")
    if not host.endswith(_AWS_HOST_SUFFIXES):
        return None
    labels = host.split(".")
    first = labels[0]
    second = labels[1] if len(labels) > 1 else ""
    if first == "execute-api" or second == "execute-api":
        return "execute-api"
    if first in ("dynamodb", "dynamodb-fips") or second == "ddb":
        return "dynamodb"
    # Virtual-hosted S3: <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>...
    if second == "s3" or second.startswith("s3-") or first.startswith("s3-"):
        return "s3"
    if first.endswith("-fips"):
        first = first[: -len("-fips")]
    return first


def _host_header(parts):
    """The Host value SigV4 signed for a URL: lowercase host, port only when not default."""
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = "%s:%d" % (host, parts.port)
    return host


class EmulatorRouter:
    """Decides where a botocore request goes: the emulator, refused, or untouched."""

    def __init__(self, emulator_url, services):
        self.emulator_url = (emulator_url or "").rstrip("/")
        self.services = [s.strip().lower() for s in (services or "").split(",") if s.strip()]
        parts = urlsplit(self.emulator_url) if self.emulator_url else None
        self._emulator_host = (parts.hostname or "").lower() if parts else ""
        self._emulator_port = (parts.port or _DEFAULT_PORTS.get(parts.scheme)) if parts else None

    def _is_emulator(self, host, port):
        if not self._emulator_host or port != self._emulator_port:
            return False
        if host == self._emulator_host:
            return True
        return host in _LOOPBACK_HOSTS and self._emulator_host in _LOOPBACK_HOSTS

    def _to_emulator(self, parts):
        url = self.emulator_url + (parts.path or "/")
        if parts.query:
            url += "?" + parts.query
        return url

    def route(self, url):
        """Returns None (send as is), ('redirect', url, host_header) or ('refuse', message)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        if parts.scheme == "https" and self._is_emulator(host, port):
            return ("redirect", self._to_emulator(parts), _host_header(parts))
        service = aws_service_for_host(host)
        if service is None:
            return None
        if service in self.services and self.emulator_url:
            return ("redirect", self._to_emulator(parts), _host_header(parts))
        message = "apigw-ws-emulator does not serve %s (the function called %s://%s%s); it serves: %s" % (
            service, parts.scheme, parts.netloc.rpartition("@")[2], parts.path,
            ", ".join(self.services) or "nothing")
        return ("refuse", message)


def patch_botocore_httpsession(module, router):
    """Wraps URLLib3Session.send so every botocore request is routed by `router`."""
    session_class = getattr(module, "URLLib3Session", None)
    if session_class is None or getattr(session_class.send, "_apigw_emulator_routed", False):
        return
    base_error = importlib.import_module("botocore.exceptions").BotoCoreError

    class ServiceNotServedError(base_error):
        # Deliberately not a ConnectionError/HTTPClientError: botocore does not retry it.
        fmt = "{message}"

    original_send = session_class.send

    def send(self, request):
        decision = router.route(request.url)
        if decision is not None:
            if decision[0] == "refuse":
                sys.stderr.write(log_line("ERROR", decision[1]) + "\n")
                sys.stderr.flush()
                raise ServiceNotServedError(message=decision[1])
            request.url = decision[1]
            if "Host" in request.headers:
                del request.headers["Host"]
            request.headers["Host"] = decision[2]
        return original_send(self, request)

    send.__name__ = original_send.__name__
    send.__doc__ = original_send.__doc__
    send._apigw_emulator_routed = True
    session_class.send = send


class BotocoreImportHook:
    """Meta path finder that patches botocore.httpsession right after it is first imported.

    Importing botocore up front would cost every function ~0.2 s at start, used or not;
    the hook costs nothing until user code imports boto3/botocore (whichever copy it finds,
    including one bundled with the function).
    """

    TARGET = "botocore.httpsession"

    def __init__(self, router):
        self._router = router

    def install(self):
        module = sys.modules.get(self.TARGET)
        if module is not None:
            patch_botocore_httpsession(module, self._router)
        else:
            sys.meta_path.insert(0, self)

    def _uninstall(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.TARGET:
            return None
        spec = None
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        original_exec = getattr(loader, "exec_module", None)
        if original_exec is None:
            return spec
        hook = self

        def exec_module(module):
            original_exec(module)
            if module.__name__ == hook.TARGET:
                try:
                    del loader.exec_module
                except AttributeError:
                    pass
                hook._uninstall()
                patch_botocore_httpsession(module, hook._router)

        try:
            loader.exec_module = exec_module
        except (AttributeError, TypeError):
            pass
        return spec


# ---------------------------------------------------------------------------
# Main loop


def handle_invocation(client, handler, invocation):
    global _current_request_id, _current_tenant_id
    request_id = invocation.request_id
    _current_request_id = request_id
    _current_tenant_id = invocation.tenant_id
    if invocation.trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)

    error = None
    try:
        client_context = None
        if invocation.client_context:
            client_context = _parse_json_header(invocation.client_context, "Client Context")
        identity = None
        if invocation.cognito_identity:
            identity = _parse_json_header(invocation.cognito_identity, "Cognito Identity")
        context = LambdaContext(request_id, invocation.deadline_ms, invocation.invoked_function_arn,
                                client_context, identity, invocation.tenant_id)
        event = unmarshal_event(invocation.body, invocation.content_type)
        result = handler(event, context)
        payload, content_type = marshal_result(result)
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:
        error = error_from_exception(exc, request_id)

    _flush_output()
    if error is not None:
        log_error(error)
        client.post_error(request_id, error)
    else:
        client.post_response(request_id, payload, content_type)


def main(argv):
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("AWS_LAMBDA_RUNTIME_API is not set\n")
        return 2
    handler_name = argv[1] if len(argv) > 1 else os.environ.get("_HANDLER", "")
    task_root = os.path.abspath(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())

    _configure_output_streams()
    setup_sys_path(task_root)
    BotocoreImportHook(EmulatorRouter(os.environ.get("APIGW_EMULATOR_URL"),
                                      os.environ.get("APIGW_EMULATOR_SERVICES"))).install()
    setup_logging()
    client = RuntimeApiClient(address)

    try:
        handler = load_handler(handler_name)
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exc:
        error = error_from_exception(exc, during_import=True)
    else:
        error = None
    if error is not None:
        _flush_output()
        log_error(error)
        try:
            client.post_init_error(error)
        except RuntimeApiError as exc:
            sys.stderr.write(log_line("ERROR", str(exc)) + "\n")
        return 1

    try:
        while True:
            handle_invocation(client, handler, client.next_invocation())
    except RuntimeApiError as exc:
        _flush_output()
        sys.stderr.write(log_line("ERROR", "Lambda Runtime API unavailable: %s" % exc) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
