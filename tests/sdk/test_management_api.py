#!/usr/bin/env python3
"""boto3's apigatewaymanagementapi client against a running emulator: post_to_connection,
get_connection, delete_connection, GoneException and PayloadTooLargeException, with the
endpoint given with and without the stage.

    APIGW_EMULATOR=/path/to/apigw-ws-emulator python3 test_management_api.py

Needs Debian's python3-boto3 and python3-websocket (websocket-client). The emulator binary
defaults to ../../build/emulator/apigw-ws-emulator (relative to this file).
"""
import datetime
import json
import os
import re
import time
import unittest

# Keep the machine's AWS profile, config files and proxies out of the test.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import websocket  # noqa: E402

from emulator_process import Emulator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "config.json")
USER_AGENT = "sdk-test-client/1.0"
ISO_MILLIS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def payload(n, seed=1):
    """Deterministic printable ASCII of n bytes."""
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = 0x21 + ((x >> 16) % 94)
    return bytes(out)


class WsClient:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=5, header=["User-Agent: " + USER_AGENT])

    def recv(self):
        """The next data message: (opcode, bytes). A close frame gives (OPCODE_CLOSE, code)."""
        opcode, data = self.ws.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            # websocket-client has answered the close frame; it leaves the TCP socket open
            # (the emulator would wait for it before it can stop), so close it now.
            self.ws.shutdown()
            return opcode, int.from_bytes(data[:2], "big") if len(data) >= 2 else None
        return opcode, data

    def whoami(self):
        self.ws.send(json.dumps({"action": "whoami"}))
        opcode, data = self.recv()
        return json.loads(data)["requestContext"]

    def assert_nothing_pending(self, test, wait=0.2):
        self.ws.settimeout(wait)
        try:
            got = self.ws.recv_data()
            test.fail("unexpected message: %r" % (got,))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(5)

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


EMU = None


def setUpModule():
    global EMU
    EMU = Emulator(CONFIG)


def tearDownModule():
    code = EMU.stop()
    if code != 0:
        raise AssertionError("emulator exit status on SIGTERM: %r" % code)


class ManagementApiBase:
    """The same tests for each endpoint form; subclasses set WITH_STAGE."""
    WITH_STAGE = True

    @classmethod
    def setUpClass(cls):
        base = "http://127.0.0.1:%d" % EMU.port
        cls.endpoint = base + "/" + EMU.stage if cls.WITH_STAGE else base
        cls.api = cls.make_client(cls.endpoint)
        url = "ws://127.0.0.1:%d/%s" % (EMU.port, EMU.stage)
        cls.a = WsClient(url)
        cls.b = WsClient(url)
        cls.ctx_a = cls.a.whoami()
        cls.id_a = cls.ctx_a["connectionId"]
        cls.id_b = cls.b.whoami()["connectionId"]

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()

    @classmethod
    def make_client(cls, endpoint):
        client = boto3.client(
            "apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=botocore.config.Config(connect_timeout=5, read_timeout=10,
                                          retries={"max_attempts": 1}))
        # The raw HTTP exchange of the last call, before boto3 parses it.
        client.raw = {}

        def record(http_response, **kwargs):
            client.raw.update(status=http_response.status_code,
                              headers=dict(http_response.headers),
                              body=http_response.content)

        def record_request(request, **kwargs):
            auth = request.headers.get("Authorization")
            client.raw.update(url=request.url,
                              authorization=auth.decode() if isinstance(auth, bytes) else auth)

        client.meta.events.register("before-send.apigatewaymanagementapi", record_request)
        client.meta.events.register("after-call.apigatewaymanagementapi", record)
        return client

    def assertGone(self, call, **kwargs):
        with self.assertRaises(self.api.exceptions.GoneException) as cm:
            call(**kwargs)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "GoneException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 410)
        self.assertTrue(err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith("GoneException"))

    def test_1_post_delivers_exact_bytes(self):
        text = 'héllo {"n":1} ✓ 𝄞 end='
        out = self.api.post_to_connection(ConnectionId=self.id_a, Data=text.encode("utf-8"))
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.api.raw["body"], b"")
        self.assertTrue(self.api.raw["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        prefix = "/%s/" % EMU.stage if self.WITH_STAGE else "/"
        self.assertRegex(self.api.raw["url"], r"^http://127\.0\.0\.1:%d%s(@|%%40)connections/" % (EMU.port, prefix))
        opcode, data = self.a.recv()
        self.assertEqual(opcode, websocket.ABNF.OPCODE_TEXT)
        self.assertEqual(data, text.encode("utf-8"))
        # Data as str: boto3 sends its UTF-8 bytes.
        self.api.post_to_connection(ConnectionId=self.id_a, Data='{"kind":"str"}')
        self.assertEqual(self.a.recv(), (websocket.ABNF.OPCODE_TEXT, b'{"kind":"str"}'))

    def test_2_post_100kb_intact(self):
        data = payload(100 * 1024, 7)
        self.api.post_to_connection(ConnectionId=self.id_a, Data=data)
        opcode, got = self.a.recv()
        self.assertEqual(opcode, websocket.ABNF.OPCODE_TEXT)
        self.assertEqual(len(got), len(data))
        self.assertTrue(got == data, "100 KB payload differs")

    def test_3_post_exactly_128kb(self):
        data = payload(128 * 1024, 9)
        self.api.post_to_connection(ConnectionId=self.id_a, Data=data)
        self.assertTrue(self.a.recv()[1] == data, "128 KB payload differs")

    def test_4_get_connection(self):
        out = self.api.get_connection(ConnectionId=self.id_a)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 200)
        connected, last = out["ConnectedAt"], out["LastActiveAt"]
        self.assertIsInstance(connected, datetime.datetime)
        self.assertEqual(connected.utcoffset(), datetime.timedelta(0))
        self.assertEqual(round(connected.timestamp() * 1000), self.ctx_a["connectedAt"])
        self.assertGreaterEqual(last, connected)
        self.assertLess(abs(time.time() - last.timestamp()), 60)
        self.assertEqual(out["Identity"], {"SourceIp": "127.0.0.1", "UserAgent": USER_AGENT})
        raw = json.loads(self.api.raw["body"])
        self.assertEqual(sorted(raw), ["connectedAt", "identity", "lastActiveAt"])
        self.assertRegex(raw["connectedAt"], ISO_MILLIS_UTC)
        self.assertRegex(raw["lastActiveAt"], ISO_MILLIS_UTC)

    def test_5_delete_connection(self):
        self.b.assert_nothing_pending(self)
        out = self.api.delete_connection(ConnectionId=self.id_b)
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertEqual(self.b.recv(), (websocket.ABNF.OPCODE_CLOSE, 1000))
        self.assertTrue(self.a.ws.connected)

    def test_6_gone_after_delete(self):
        self.assertGone(self.api.post_to_connection, ConnectionId=self.id_b, Data=b"x")
        self.assertGone(self.api.get_connection, ConnectionId=self.id_b)
        self.assertGone(self.api.delete_connection, ConnectionId=self.id_b)

    def test_7_gone_for_unknown_id(self):
        self.assertGone(self.api.get_connection, ConnectionId="AAAAAAAAAAAAAAA=")
        self.assertGone(self.api.post_to_connection, ConnectionId="no-such-id", Data=b"x")

    def test_8_payload_too_large(self):
        with self.assertRaises(self.api.exceptions.PayloadTooLargeException) as cm:
            self.api.post_to_connection(ConnectionId=self.id_a, Data=payload(129 * 1024, 3))
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "PayloadTooLargeException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 413)
        self.api.post_to_connection(ConnectionId=self.id_a, Data=b"still here")
        self.assertEqual(self.a.recv(), (websocket.ABNF.OPCODE_TEXT, b"still here"))


class EndpointWithStage(ManagementApiBase, unittest.TestCase):
    WITH_STAGE = True

    def test_9_endpoint_from_event(self):
        """handler code building https://{domainName}/{stage} reaches the API with http://."""
        api = self.make_client("http://%s/%s" % (self.ctx_a["domainName"], self.ctx_a["stage"]))
        api.post_to_connection(ConnectionId=self.id_a, Data=b"via domainName")
        self.assertEqual(self.a.recv(), (websocket.ABNF.OPCODE_TEXT, b"via domainName"))


class EndpointWithoutStage(ManagementApiBase, unittest.TestCase):
    WITH_STAGE = False


if __name__ == "__main__":
    unittest.main(verbosity=2)
