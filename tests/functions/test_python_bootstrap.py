#!/usr/bin/env python3
"""Tests of runtimes/python/bootstrap.py against a fake Lambda Runtime API.

Each test writes a function's code to a temporary folder, starts the bootstrap on it
as the emulator does, hands it events through a fake Runtime API (http.server on
127.0.0.1, port 0) and checks what it posts back and what it writes to stdout/stderr.
The botocore tests also run a fake plain-HTTP "emulator" that records the requests.

    /usr/bin/python3 tests/functions/test_python_bootstrap.py

The bootstrap runs under the same interpreter as the tests. The botocore tests need
Debian's python3-boto3 and are skipped without it; for another interpreter, point
PYTHONPATH at a boto3 (e.g. /usr/lib/python3/dist-packages): it is passed on.
"""
import calendar
import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.normpath(os.path.join(HERE, "..", "..", "runtimes", "python", "bootstrap.py"))
TIMEOUT = 10.0  # upper bound of every wait in these tests, in seconds

HAVE_BOTO3 = importlib.util.find_spec("boto3") is not None
LOG_LINE = re.compile(r"^\[(?P<level>[A-Z]+)\]\t(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t"
                      r"(?P<request_id>[^\t]*)\t(?P<message>.*)$")


def load_bootstrap_module():
    spec = importlib.util.spec_from_file_location("apigw_python_bootstrap", BOOTSTRAP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A bootstrap killed at the end of a test may drop its connection mid-reply.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class FakeRuntimeApi:
    """The parts of the Lambda Runtime API the bootstrap uses; records what it posts."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self):
        self.events = queue.Queue()
        self.results = {}        # request id -> (kind, headers, body)
        self.init_error = None   # (headers, body)
        self.unexpected = []
        self.closing = threading.Event()
        self.changed = threading.Condition()
        api = self

        class Handler(_QuietHandler):
            def do_GET(self):
                if self.path != api.PREFIX + "/invocation/next":
                    api.unexpected.append(("GET", self.path))
                    return self._reply(404)
                while not api.closing.is_set():
                    try:
                        request_id, body, headers = api.events.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    return self._reply(200, body, headers)
                self._reply(500, b'{"errorType":"ShuttingDown"}')

            def do_POST(self):
                body = self._body()
                match = re.fullmatch(re.escape(api.PREFIX) + r"/invocation/([^/]+)/(response|error)", self.path)
                with api.changed:
                    if match:
                        api.results[match.group(1)] = (match.group(2), dict(self.headers), body)
                    elif self.path == api.PREFIX + "/init/error":
                        api.init_error = (dict(self.headers), body)
                    else:
                        api.unexpected.append(("POST", self.path))
                    api.changed.notify_all()
                self._reply(202 if match or self.path.endswith("/init/error") else 404, b"{}")

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def queue_event(self, event, request_id=None, deadline_ms=None, headers=None, raw_body=None):
        request_id = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 30000
        all_headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
            "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
        }
        all_headers.update(headers or {})
        body = raw_body if raw_body is not None else json.dumps(event).encode()
        self.events.put((request_id, body, all_headers))
        return request_id

    def wait_result(self, request_id, timeout=TIMEOUT):
        with self.changed:
            if not self.changed.wait_for(lambda: request_id in self.results, timeout):
                raise AssertionError("no response or error posted for %s" % request_id)
            return self.results[request_id]

    def wait_init_error(self, timeout=TIMEOUT):
        with self.changed:
            if not self.changed.wait_for(lambda: self.init_error is not None, timeout):
                raise AssertionError("no init error posted")
            return self.init_error

    def close(self):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class FakeEmulator:
    """A plain-HTTP stand-in for the emulator's AWS APIs; records every request."""

    def __init__(self):
        self.requests = []
        self.changed = threading.Condition()
        fake = self

        class Handler(_QuietHandler):
            def _record(self):
                body = self._body()
                with fake.changed:
                    fake.requests.append({"method": self.command, "path": self.path,
                                          "headers": dict(self.headers), "body": body})
                    fake.changed.notify_all()
                if self.headers.get("X-Amz-Target", "").endswith(".ListTables"):
                    return self._reply(200, b'{"TableNames":["connections"]}',
                                       {"Content-Type": "application/x-amz-json-1.0"})
                self._reply(200)

            do_GET = do_POST = do_DELETE = _record

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class BootstrapProcess:
    """The bootstrap started as the emulator starts it, with its output collected by line."""

    def __init__(self, code_dir, runtime_api, handler, extra_env=None):
        home = os.path.join(code_dir, "..", "home")
        os.makedirs(home, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": home,
            "AWS_LAMBDA_RUNTIME_API": runtime_api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": code_dir,
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN": "session-token",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "TZ": "UTC",
            "APIGW_EMULATOR_URL": "http://127.0.0.1:9",
            "APIGW_EMULATOR_SERVICES": "execute-api",
        }
        if os.environ.get("PYTHONPATH"):  # lets other interpreters find a boto3 to test with
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        env.update(extra_env or {})
        self.lines = {"stdout": [], "stderr": []}
        self.changed = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, BOOTSTRAP], cwd=code_dir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                        for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, name, stream):
        for raw in iter(stream.readline, b""):
            with self.changed:
                self.lines[name].append(raw.decode("utf-8").rstrip("\n"))
                self.changed.notify_all()
        stream.close()

    def wait_line(self, name, predicate, timeout=TIMEOUT):
        """The first line of stdout/stderr that satisfies predicate, waiting for it to arrive."""
        def find():
            return next((line for line in self.lines[name] if predicate(line)), None)
        with self.changed:
            self.changed.wait_for(lambda: find() is not None, timeout)
            line = find()
        if line is None:
            raise AssertionError("no matching %s line in %r" % (name, self.lines[name]))
        return line

    def output(self, name):
        with self.changed:
            return list(self.lines[name])

    def wait_exit(self, timeout=TIMEOUT):
        code = self.proc.wait(timeout)
        for reader in self.readers:
            reader.join(timeout)
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)
        for reader in self.readers:
            reader.join(TIMEOUT)


class BootstrapTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="py-bootstrap-test-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.code_dir = os.path.join(self.tmp, "code")
        os.makedirs(self.code_dir)
        self.api = FakeRuntimeApi()
        self.addCleanup(self.api.close)

    def start(self, files, handler="lambda_function.lambda_handler", env=None):
        for name, text in files.items():
            path = os.path.join(self.code_dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        proc = BootstrapProcess(self.code_dir, self.api, handler, env)
        self.addCleanup(proc.stop)
        return proc

    def invoke(self, event, **kwargs):
        request_id = self.api.queue_event(event, **kwargs)
        return request_id, self.api.wait_result(request_id)

    def invoke_ok(self, event, **kwargs):
        request_id, (kind, headers, body) = self.invoke(event, **kwargs)
        self.assertEqual(kind, "response", body)
        return json.loads(body)

    def expect_init_error(self, files, handler, error_type, message):
        proc = self.start(files, handler)
        headers, body = self.api.wait_init_error()
        self.assertNotEqual(proc.wait_exit(), 0)
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), error_type)
        error = json.loads(body)
        self.assertEqual(error["errorType"], error_type)
        self.assertEqual(error["errorMessage"], message)
        self.assertEqual(error["requestId"], "")
        self.assertIsInstance(error["stackTrace"], list)
        stdout = proc.output("stdout")
        head = "[ERROR] %s: %s" % (error_type, message)
        self.assertIn(head, stdout)
        self.assertEqual(stdout[stdout.index(head) + 1], "Traceback (most recent call last):")
        return proc, error


class InvocationTests(BootstrapTestCase):
    def test_plain_handler_and_null_result(self):
        self.start({"lambda_function.py": """
            def lambda_handler(event, context):
                if event.get("none"):
                    return None
                return {"statusCode": 200, "body": "got " + event["text"]}
            """})
        self.assertEqual(self.invoke_ok({"text": "héllo"}), {"statusCode": 200, "body": "got héllo"})
        _, (kind, headers, body) = self.invoke({"none": True})
        self.assertEqual((kind, body), ("response", b"null"))
        self.assertEqual(headers.get("Content-Type"), "application/json")
        self.assertEqual(self.api.unexpected, [])

    def test_module_state_is_kept_between_invocations(self):
        self.start({"lambda_function.py": """
            import os
            calls = []
            def lambda_handler(event, context):
                calls.append(event["n"])
                return {"calls": calls, "pid": os.getpid()}
            """})
        first = self.invoke_ok({"n": 1})
        second = self.invoke_ok({"n": 2})
        self.assertEqual(first["calls"], [1])
        self.assertEqual(second["calls"], [1, 2])
        self.assertEqual(first["pid"], second["pid"])

    def test_context_fields_and_remaining_time(self):
        self.start({"lambda_function.py": """
            import os, sys
            def lambda_handler(event, context):
                return {
                    "aws_request_id": context.aws_request_id,
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis(),
                    "client_context": context.client_context,
                    "cognito_identity_id": context.identity.cognito_identity_id,
                    "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
                    "sys_path": sys.path,
                    "cwd": os.getcwd(),
                }
            """})
        deadline = int(time.time() * 1000) + 5000
        result = self.invoke_ok({}, request_id="req-1", deadline_ms=deadline)
        self.assertEqual(result["aws_request_id"], "req-1")
        self.assertEqual(result["function_name"], "fn")
        self.assertEqual(result["function_version"], "$LATEST")
        self.assertEqual(result["invoked_function_arn"], "arn:aws:lambda:us-east-1:123456789012:function:fn")
        self.assertEqual(result["memory_limit_in_mb"], "256")
        self.assertEqual(result["log_group_name"], "/aws/lambda/fn")
        self.assertEqual(result["log_stream_name"], "2024/01/01/[$LATEST]0123456789abcdef")
        self.assertGreater(result["remaining"], 2000)
        self.assertLessEqual(result["remaining"], 5000)
        self.assertIsNone(result["client_context"])
        self.assertIsNone(result["cognito_identity_id"])
        self.assertEqual(result["trace_id"], "Root=1-00000000-000000000000000000000000;Sampled=0")
        self.assertEqual(result["sys_path"][0], self.code_dir)
        self.assertNotIn(os.path.dirname(BOOTSTRAP), [os.path.realpath(p) for p in result["sys_path"]])
        self.assertEqual(os.path.realpath(result["cwd"]), os.path.realpath(self.code_dir))

        expired = self.invoke_ok({}, deadline_ms=int(time.time() * 1000) - 1000)
        self.assertEqual(expired["remaining"], 0)

    def test_print_and_logging_lines(self):
        proc = self.start({"lambda_function.py": """
            import logging, sys
            logger = logging.getLogger()
            logger.info("not shown at the default level")
            logger.warning("at init")
            def lambda_handler(event, context):
                print("hello from print", event["n"])
                print("to stderr", file=sys.stderr)
                logger.warning("warned %s", event["n"])
                logger.debug("not shown either")
                logging.getLogger("app").error("from a named logger")
                return "ok"
            """})
        self.assertEqual(self.invoke_ok({"n": 7}, request_id="req-log"), "ok")
        proc.wait_line("stdout", lambda line: line == "hello from print 7", timeout=2)
        proc.wait_line("stderr", lambda line: line == "to stderr", timeout=2)
        warned = LOG_LINE.match(proc.wait_line("stdout", lambda line: "warned 7" in line, timeout=2))
        self.assertIsNotNone(warned)
        self.assertEqual((warned["level"], warned["request_id"], warned["message"]), ("WARNING", "req-log", "warned 7"))
        named = LOG_LINE.match(proc.wait_line("stdout", lambda line: "from a named logger" in line))
        self.assertEqual((named["level"], named["request_id"]), ("ERROR", "req-log"))
        at_init = LOG_LINE.match(proc.wait_line("stdout", lambda line: "at init" in line))
        self.assertEqual((at_init["level"], at_init["request_id"]), ("WARNING", ""))
        stdout = proc.output("stdout")
        self.assertFalse([line for line in stdout if "not shown" in line])
        # The log time is the current UTC time.
        logged = calendar.timegm(time.strptime(warned["time"][:19], "%Y-%m-%dT%H:%M:%S"))
        self.assertLess(abs(logged - time.time()), 60)

    def test_log_level_and_json_format_from_environment(self):
        proc = self.start({"lambda_function.py": """
            import logging
            def lambda_handler(event, context):
                logging.getLogger("app").info("info %d", 1, extra={"table": "t"})
                raise KeyError("missing")
            """}, env={"AWS_LAMBDA_LOG_LEVEL": "INFO", "AWS_LAMBDA_LOG_FORMAT": "JSON"})
        _, (kind, _, _) = self.invoke({}, request_id="req-json")
        self.assertEqual(kind, "error")
        info = json.loads(proc.wait_line("stdout", lambda line: '"info 1"' in line))
        self.assertEqual((info["level"], info["message"], info["logger"], info["requestId"], info["table"]),
                         ("INFO", "info 1", "app", "req-json", "t"))
        self.assertRegex(info["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        error = json.loads(proc.wait_line("stdout", lambda line: '"KeyError"' in line))
        self.assertEqual((error["level"], error["errorType"], error["errorMessage"], error["requestId"]),
                         ("ERROR", "KeyError", "'missing'", "req-json"))

    def test_handler_error_is_posted_and_logged(self):
        proc = self.start({"lambda_function.py": """
            def helper():
                raise ValueError("boom")

            def lambda_handler(event, context):
                print("before the error")
                helper()
            """})
        _, (kind, headers, body) = self.invoke({}, request_id="req-err")
        self.assertEqual(kind, "error")
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), "ValueError")
        error = json.loads(body)
        self.assertEqual(list(error), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual((error["errorMessage"], error["errorType"], error["requestId"]),
                         ("boom", "ValueError", "req-err"))
        source = os.path.join(self.code_dir, "lambda_function.py")
        self.assertEqual(len(error["stackTrace"]), 2)
        first_frame = '  File "%s", line 7, in lambda_handler\n    helper()' % source
        self.assertTrue(error["stackTrace"][0].startswith(first_frame), error["stackTrace"])
        self.assertTrue(error["stackTrace"][1].startswith('  File "%s", line 3, in helper\n' % source))
        self.assertFalse([frame for frame in error["stackTrace"] if "bootstrap.py" in frame])

        head = proc.wait_line("stdout", lambda line: line.startswith("[ERROR] ValueError"))
        stdout = proc.output("stdout")
        at = stdout.index(head)
        self.assertEqual(stdout[at:at + 4], [
            "[ERROR] ValueError: boom",
            "Traceback (most recent call last):",
            '  File "%s", line 7, in lambda_handler' % source,
            "    helper()",
        ])
        self.assertLess(stdout.index("before the error"), at)

        # The process keeps serving after a handler error.
        _, (kind, _, _) = self.invoke({})
        self.assertEqual(kind, "error")

    def test_unserializable_result_is_a_marshal_error(self):
        self.start({"lambda_function.py": """
            import decimal
            def lambda_handler(event, context):
                if event.get("decimal"):
                    return {"count": decimal.Decimal("3"), "price": decimal.Decimal("12.3456789012345678901")}
                return {"items": {1, 2}}
            """})
        _, (kind, headers, body) = self.invoke({}, request_id="req-marshal")
        self.assertEqual(kind, "error")
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), "Runtime.MarshalError")
        self.assertEqual(json.loads(body), {
            "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
            "errorType": "Runtime.MarshalError", "requestId": "req-marshal", "stackTrace": []})
        # Decimals (as boto3's DynamoDB returns numbers) are written as JSON numbers, exactly.
        _, (kind, _, body) = self.invoke({"decimal": True})
        self.assertEqual((kind, body), ("response", b'{"count": 3, "price": 12.3456789012345678901}'))

    def test_invalid_event_json_is_an_unmarshal_error(self):
        self.start({"lambda_function.py": "def lambda_handler(event, context):\n    return event\n"})
        _, (kind, headers, body) = self.invoke(None, raw_body=b"{not json")
        self.assertEqual(kind, "error")
        self.assertEqual(headers.get("Lambda-Runtime-Function-Error-Type"), "Runtime.UnmarshalError")
        self.assertTrue(json.loads(body)["errorMessage"].startswith("Unable to unmarshal input: "))

    def test_handler_in_a_subfolder_package(self):
        files = {
            "handlers/__init__.py": "",
            "handlers/chat.py": """
                from shared import greeting
                def on_message(event, context):
                    return {"module": __name__, "text": greeting(event["name"])}
                """,
            "shared.py": "def greeting(name):\n    return 'hi ' + name\n",
        }
        for handler in ("handlers/chat.on_message", "handlers.chat.on_message"):
            with self.subTest(handler=handler):
                self.api = FakeRuntimeApi()
                self.addCleanup(self.api.close)
                self.start(files, handler)
                self.assertEqual(self.invoke_ok({"name": "bob"}), {"module": "handlers.chat", "text": "hi bob"})


class InitErrorTests(BootstrapTestCase):
    def test_import_module_error(self):
        proc, error = self.expect_init_error(
            {"lambda_function.py": "import not_installed_module_x\ndef lambda_handler(e, c):\n    pass\n"},
            "lambda_function.lambda_handler", "Runtime.ImportModuleError",
            "Unable to import module 'lambda_function': No module named 'not_installed_module_x'")
        self.assertEqual(error["stackTrace"], [])

    def test_missing_module_with_slash_handler(self):
        self.expect_init_error({}, "handlers/missing.handler", "Runtime.ImportModuleError",
                               "Unable to import module 'handlers/missing': No module named 'handlers'")

    def test_handler_not_found(self):
        self.expect_init_error({"lambda_function.py": "def other(e, c):\n    pass\n"},
                               "lambda_function.lambda_handler", "Runtime.HandlerNotFound",
                               "Handler 'lambda_handler' missing on module 'lambda_function'")

    def test_user_code_syntax_error(self):
        source_text = "import json\n\nanswer = = 42\n"
        try:  # the wording of the message depends on the Python version
            compile(source_text, "lambda_function.py", "exec")
        except SyntaxError as exc:
            expected = str(exc)
        proc, error = self.expect_init_error(
            {"lambda_function.py": source_text}, "lambda_function.lambda_handler", "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'lambda_function': " + expected)
        self.assertRegex(expected, r"\(lambda_function\.py, line 3\)$")
        source = os.path.join(self.code_dir, "lambda_function.py")
        self.assertEqual(error["stackTrace"], ['  File "%s" Line 3\n    answer = = 42\n' % source])
        stdout = proc.output("stdout")
        at = stdout.index('  File "%s" Line 3' % source)
        self.assertEqual(stdout[at + 1], "    answer = = 42")

    def test_malformed_handler_name(self):
        self.expect_init_error({"lambda_function.py": ""}, "lambda_function", "Runtime.MalformedHandlerName",
                               "Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)")

    def test_exception_at_module_level(self):
        proc, error = self.expect_init_error(
            {"lambda_function.py": "import os\nTABLE = os.environ['TABLE_NAME']\n"},
            "lambda_function.lambda_handler", "KeyError", "'TABLE_NAME'")
        source = os.path.join(self.code_dir, "lambda_function.py")
        self.assertTrue(error["stackTrace"][0].startswith('  File "%s", line 2, in <module>' % source),
                        error["stackTrace"])
        self.assertFalse([f for f in error["stackTrace"] if "bootstrap.py" in f or "importlib" in f])


class RoutingTests(unittest.TestCase):
    """The routing decision itself, without botocore."""

    @classmethod
    def setUpClass(cls):
        cls.bootstrap = load_bootstrap_module()

    def test_service_names(self):
        service = self.bootstrap.aws_service_for_host
        self.assertEqual(service("abc123.execute-api.us-east-1.amazonaws.com"), "execute-api")
        self.assertEqual(service("execute-api.eu-west-1.amazonaws.com"), "execute-api")
        self.assertEqual(service("dynamodb.us-east-1.amazonaws.com"), "dynamodb")
        self.assertEqual(service("123456789012.ddb.us-east-1.amazonaws.com"), "dynamodb")
        self.assertEqual(service("sts.amazonaws.com"), "sts")
        self.assertEqual(service("sqs.us-east-1.amazonaws.com"), "sqs")
        self.assertEqual(service("bucket.s3.us-east-1.amazonaws.com"), "s3")
        self.assertIsNone(service("example.com"))
        self.assertIsNone(service("127.0.0.1"))

    def test_routes(self):
        router = self.bootstrap.EmulatorRouter("http://127.0.0.1:8080", "execute-api, dynamodb")
        self.assertEqual(router.route("https://abc.execute-api.us-east-1.amazonaws.com/prod/%40connections/x?a=1"),
                         ("redirect", "http://127.0.0.1:8080/prod/%40connections/x?a=1",
                          "abc.execute-api.us-east-1.amazonaws.com"))
        self.assertEqual(router.route("https://dynamodb.us-east-1.amazonaws.com/"),
                         ("redirect", "http://127.0.0.1:8080/", "dynamodb.us-east-1.amazonaws.com"))
        self.assertEqual(router.route("https://127.0.0.1:8080/prod/@connections/x"),
                         ("redirect", "http://127.0.0.1:8080/prod/@connections/x", "127.0.0.1:8080"))
        self.assertEqual(router.route("https://localhost:8080/prod"),
                         ("redirect", "http://127.0.0.1:8080/prod", "localhost:8080"))
        self.assertIsNone(router.route("http://127.0.0.1:8080/prod"))
        self.assertIsNone(router.route("https://127.0.0.1:8081/prod"))
        self.assertIsNone(router.route("https://example.com/x"))
        self.assertEqual(router.route("https://sts.amazonaws.com/"), (
            "refuse", "apigw-ws-emulator does not serve sts (the function called https://sts.amazonaws.com/);"
                      " it serves: execute-api, dynamodb"))


@unittest.skipUnless(HAVE_BOTO3, "needs boto3 (Debian: apt-get install python3-boto3)")
class BotocoreTests(BootstrapTestCase):
    def setUp(self):
        super().setUp()
        self.emulator = FakeEmulator()
        self.addCleanup(self.emulator.close)

    def start_with_emulator(self, source, services="execute-api"):
        return self.start({"lambda_function.py": source},
                          env={"APIGW_EMULATOR_URL": self.emulator.url, "APIGW_EMULATOR_SERVICES": services})

    def test_execute_api_endpoint_is_redirected_to_the_emulator(self):
        self.start_with_emulator("""
            import boto3
            def lambda_handler(event, context):
                client = boto3.client("apigatewaymanagementapi", endpoint_url=event["endpoint"])
                client.post_to_connection(ConnectionId="conn-1", Data=b'{"msg":"hi"}')
                return "sent"
            """)
        endpoint = "https://abc123.execute-api.us-east-1.amazonaws.com/prod"
        self.assertEqual(self.invoke_ok({"endpoint": endpoint}), "sent")
        self.assertEqual(len(self.emulator.requests), 1)
        request = self.emulator.requests[0]
        self.assertEqual(request["method"], "POST")
        self.assertEqual(request["path"], "/prod/@connections/conn-1")
        self.assertEqual(request["body"], b'{"msg":"hi"}')
        self.assertEqual(request["headers"]["Host"], "abc123.execute-api.us-east-1.amazonaws.com")
        self.assertIn("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", request["headers"]["Authorization"])
        self.assertIn("/execute-api/aws4_request", request["headers"]["Authorization"])

    def test_https_to_the_emulator_itself_becomes_plain_http(self):
        self.start_with_emulator("""
            import boto3
            def lambda_handler(event, context):
                client = boto3.client("apigatewaymanagementapi", endpoint_url=event["endpoint"])
                client.post_to_connection(ConnectionId="c2", Data=b"x")
                return "sent"
            """)
        for host in ("127.0.0.1", "localhost"):
            with self.subTest(host=host):
                count = len(self.emulator.requests)
                endpoint = "https://%s:%d/dev" % (host, self.emulator.port)
                self.assertEqual(self.invoke_ok({"endpoint": endpoint}), "sent")
                request = self.emulator.requests[count]
                self.assertEqual((request["method"], request["path"], request["body"]),
                                 ("POST", "/dev/@connections/c2", b"x"))
                self.assertEqual(request["headers"]["Host"], "%s:%d" % (host, self.emulator.port))

    def test_dynamodb_is_redirected_when_served(self):
        self.start_with_emulator("""
            import boto3
            def lambda_handler(event, context):
                return boto3.client("dynamodb").list_tables()["TableNames"]
            """, services="execute-api,dynamodb")
        self.assertEqual(self.invoke_ok({}), ["connections"])
        request = self.emulator.requests[0]
        self.assertEqual((request["method"], request["path"]), ("POST", "/"))
        self.assertEqual(request["headers"]["Host"], "dynamodb.us-east-1.amazonaws.com")
        self.assertEqual(request["headers"]["X-Amz-Target"], "DynamoDB_20120810.ListTables")

    def test_unserved_service_fails_at_once(self):
        proc = self.start_with_emulator("""
            import socket, time
            import boto3, botocore.config, botocore.exceptions

            connects = []
            original_connect = socket.socket.connect
            def recording_connect(self, address):
                connects.append(str(address))
                return original_connect(self, address)
            socket.socket.connect = recording_connect

            def lambda_handler(event, context):
                config = botocore.config.Config(retries={"mode": event["mode"]})
                client = boto3.client("sts", config=config)
                del connects[:]
                start = time.monotonic()
                try:
                    client.get_caller_identity()
                    outcome = {"type": None}
                except Exception as exc:
                    outcome = {"type": type(exc).__name__, "message": str(exc),
                               "botocore": isinstance(exc, botocore.exceptions.BotoCoreError)}
                outcome["elapsed"] = time.monotonic() - start
                outcome["connects"] = list(connects)
                return outcome
            """, services="execute-api,dynamodb")
        expected = ("apigw-ws-emulator does not serve sts (the function called https://sts.amazonaws.com/);"
                    " it serves: execute-api, dynamodb")
        for mode in ("legacy", "standard"):
            with self.subTest(mode=mode):
                outcome = self.invoke_ok({"mode": mode}, request_id="req-" + mode)
                self.assertEqual(outcome["type"], "ServiceNotServedError")
                self.assertEqual(outcome["message"], expected)
                self.assertTrue(outcome["botocore"])
                self.assertLess(outcome["elapsed"], 2.0)
                self.assertEqual(outcome["connects"], [])
                line = LOG_LINE.match(proc.wait_line("stderr", lambda l: "\treq-%s\t" % mode in l))
                self.assertEqual((line["level"], line["message"]), ("ERROR", expected))
        self.assertEqual(self.emulator.requests, [])


if __name__ == "__main__":
    unittest.main()
