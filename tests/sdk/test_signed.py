#!/usr/bin/env python3
"""SigV4 against a running emulator (signed-config.json: "requireSignedManagementCalls": true and
a $connect route with "authorizationType": "AWS_IAM"), with boto3 and botocore's signers:

- management calls signed by boto3's apigatewaymanagementapi client: accepted with the right
  secret; 403 with AWS's error code and message for a wrong secret, an unknown key and a policy
  without the call;
- $connect URLs presigned by botocore.auth.SigV4QueryAuth (service execute-api): accepted with
  the right secret; 403 with a wrong secret and once expired.

    APIGW_EMULATOR=/path/to/apigw-ws-emulator python3 test_signed.py

Needs Debian's python3-boto3 and python3-websocket (websocket-client).
"""
import json
import os
import re
import time
import unittest
import urllib.parse
import warnings

# Keep the machine's AWS profile, config files and proxies out of the test.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
              "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# boto3's pooled connections stay open until the process ends; that is not what is tested.
warnings.simplefilter("ignore", ResourceWarning)

import boto3  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.config  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.exceptions  # noqa: E402
import websocket  # noqa: E402

from emulator_process import Emulator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "signed-config.json")
REGION = "us-east-1"
ADMIN = ("AKIASDKADMIN", "admin-secret")
READER = ("AKIASDKREADER", "reader-secret")
MISMATCH = re.compile(
    r"^The request signature we calculated does not match the signature you provided\. Check your AWS "
    r"Secret Access Key and signing method\. Consult the service documentation for details\.\n\n"
    r"The Canonical String for this request should have been\n'")


EMU = None


def setUpModule():
    global EMU
    EMU = Emulator(CONFIG)


def tearDownModule():
    code = EMU.stop()
    if code != 0:
        raise AssertionError("emulator exit status on SIGTERM: %r" % code)


def presigned_url(key, expires=300):
    """A ws:// URL for $connect, presigned by botocore's SigV4QueryAuth."""
    credentials = botocore.credentials.Credentials(*key)
    request = botocore.awsrequest.AWSRequest(method="GET", url="http://127.0.0.1:%d/%s" % (EMU.port, EMU.stage))
    botocore.auth.SigV4QueryAuth(credentials, "execute-api", REGION, expires=expires).add_auth(request)
    return "ws://" + request.url[len("http://"):]


def handshake(url):
    """(websocket, None) when the upgrade succeeded; (None, status) when it was refused."""
    try:
        return websocket.create_connection(url, timeout=5), None
    except websocket.WebSocketBadStatusException as err:
        return None, err.status_code


def connect_signed(key=ADMIN):
    ws, status = handshake(presigned_url(key))
    if ws is None:
        raise AssertionError("presigned $connect refused with %r" % status)
    ws.send(json.dumps({"action": "whoami"}))
    return ws, json.loads(ws.recv())["requestContext"]


def client(key):
    """boto3's client signing with KEY; .sent lists the URLs of its requests as sent."""
    api = boto3.client(
        "apigatewaymanagementapi", endpoint_url="http://127.0.0.1:%d/%s" % (EMU.port, EMU.stage),
        region_name=REGION, aws_access_key_id=key[0], aws_secret_access_key=key[1],
        config=botocore.config.Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))
    api.sent = []
    api.meta.events.register("before-send.apigatewaymanagementapi",
                             lambda request, **kwargs: api.sent.append(request.url))
    return api


class SignedManagementCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ws, cls.ctx = connect_signed()
        cls.id = cls.ctx["connectionId"]

    @classmethod
    def tearDownClass(cls):
        cls.ws.close()

    def assertForbidden(self, call, code, message, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kwargs)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"], code)
        if isinstance(message, re.Pattern):
            self.assertRegex(err["Error"]["Message"], message)
        else:
            self.assertEqual(err["Error"]["Message"], message)
        return err

    def assertNothingDelivered(self):
        self.ws.settimeout(0.2)
        try:
            self.fail("unexpected message: %r" % (self.ws.recv(),))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(5)

    def test_right_secret_all_three_calls(self):
        api = client(ADMIN)
        ws, ctx = connect_signed()
        api.post_to_connection(ConnectionId=ctx["connectionId"], Data=b"signed by boto3")
        self.assertEqual(ws.recv(), "signed by boto3")
        info = api.get_connection(ConnectionId=ctx["connectionId"])
        self.assertEqual(info["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(info["Identity"]["SourceIp"], "127.0.0.1")
        out = api.delete_connection(ConnectionId=ctx["connectionId"])
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 204)
        opcode, data = ws.recv_data()
        self.assertEqual(opcode, websocket.ABNF.OPCODE_CLOSE)
        self.assertEqual(int.from_bytes(data[:2], "big"), 1000)
        ws.shutdown()

    def test_wrong_secret_is_invalid_signature(self):
        api = client((ADMIN[0], "not-the-secret"))
        err = self.assertForbidden(api.post_to_connection, "InvalidSignatureException", MISMATCH,
                                   ConnectionId=self.id, Data=b"x")
        # The canonical request AWS shows: the path as boto3 sent it, encoded once more.
        sent_path = urllib.parse.urlsplit(api.sent[-1]).path
        self.assertTrue(sent_path.endswith(self.id.replace("=", "%3D")), sent_path)
        self.assertIn("'POST\n%s\n" % urllib.parse.quote(sent_path, safe="/~"), err["Error"]["Message"])
        self.assertIn("%253D\n", err["Error"]["Message"])
        self.assertNotIn("admin-secret", err["Error"]["Message"])
        self.assertForbidden(api.delete_connection, "InvalidSignatureException", MISMATCH, ConnectionId=self.id)
        self.assertNothingDelivered()

    def test_unknown_key_is_unrecognized(self):
        api = client(("AKIANOBODY", "whatever"))
        self.assertForbidden(api.get_connection, "UnrecognizedClientException",
                             "The security token included in the request is invalid.", ConnectionId=self.id)

    def test_policy_without_the_call_is_access_denied(self):
        api = client(READER)
        self.assertEqual(api.get_connection(ConnectionId=self.id)["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertForbidden(
            api.post_to_connection, "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: "
            "execute-api:ManageConnections on resource: "
            "arn:aws:execute-api:us-east-1:123456789012:sdksigned1/%s/POST/@connections/%s" % (EMU.stage, self.id),
            ConnectionId=self.id, Data=b"x")
        self.assertNothingDelivered()


class PresignedConnect(unittest.TestCase):
    def test_right_secret_connects_with_the_signer_in_the_identity(self):
        ws, ctx = connect_signed(READER)
        self.assertEqual(ctx["identity"]["accessKey"], READER[0])
        self.assertEqual(ctx["identity"]["userArn"], "arn:aws:iam::123456789012:user/reader")
        ws.close()

    def test_wrong_secret_is_refused(self):
        ws, status = handshake(presigned_url((ADMIN[0], "not-the-secret")))
        self.assertIsNone(ws)
        self.assertEqual(status, 403)

    def test_expired_url_is_refused(self):
        url = presigned_url(ADMIN, expires=1)
        time.sleep(2.1)
        ws, status = handshake(url)
        self.assertIsNone(ws)
        self.assertEqual(status, 403)

    def test_unsigned_is_refused(self):
        ws, status = handshake("ws://127.0.0.1:%d/%s" % (EMU.port, EMU.stage))
        self.assertIsNone(ws)
        self.assertEqual(status, 403)


if __name__ == "__main__":
    unittest.main(verbosity=2)
