#!/usr/bin/env python3
"""boto3's DynamoDB client and the AWS CLI (Debian's awscli) against the emulator's DynamoDB
endpoint, on its own port: the table operations (CreateTable, DescribeTable, ListTables,
UpdateTable, DeleteTable) with DynamoDB's answers and errors, and the CLI commands a learner
types.

    APIGW_EMULATOR=/path/to/apigw-ws-emulator python3 test_dynamodb.py

Needs Debian's python3-boto3 and awscli.
"""
import json
import os
import re
import subprocess
import time
import unittest
import urllib.error
import urllib.request
import zlib

# Keep the machine's AWS profile, config files and proxies out of the test.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

from emulator_process import Emulator  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "dynamodb-config.json")
AWS_CLI = "/usr/bin/aws"  # Debian's awscli; an `aws` earlier on PATH may be another install
EMU = None


def setUpModule():
    global EMU
    EMU = Emulator(CONFIG)


def tearDownModule():
    EMU.stop()


def client(emulator=None, key="AKIDEXAMPLE", secret="secret", **config):
    return boto3.client(
        "dynamodb", endpoint_url=(emulator or EMU).endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=botocore.config.Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}, **config))


def error_of(call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None


class Credentials(unittest.TestCase):
    """Any key is an administrator's, but a key the emulator knows must sign right; with
    --strict-credentials only known keys may call."""

    def test_a_known_key_with_a_wrong_secret_is_refused(self):
        self.assertEqual(error_of(client(key="AKIDADMIN", secret="wrong").list_tables)[0],
                         "InvalidSignatureException")
        self.assertIn("simplechat_connections",
                      client(key="AKIDADMIN", secret="adminsecret").list_tables()["TableNames"])
        self.assertIn("simplechat_connections", client(key="AKIDANYONE").list_tables()["TableNames"])

    def test_strict_credentials_refuse_unknown_keys_and_unsigned_calls(self):
        strict = Emulator(CONFIG, "--strict-credentials")
        try:
            self.assertEqual(error_of(client(strict, key="AKIDANYONE").list_tables),
                             ("UnrecognizedClientException", "The security token included in the request is invalid."))
            self.assertEqual(error_of(client(strict, signature_version=botocore.UNSIGNED).list_tables),
                             ("MissingAuthenticationTokenException", "Request is missing Authentication Token"))
            self.assertEqual(error_of(client(strict, key="AKIDADMIN", secret="wrong").list_tables)[0],
                             "InvalidSignatureException")
            self.assertIn("simplechat_connections",
                          client(strict, key="AKIDADMIN", secret="adminsecret").list_tables()["TableNames"])
        finally:
            strict.stop()


def rooms_table(name, **extra):
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "roomId", "AttributeType": "S"},
                                 {"AttributeName": "sentAt", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "roomId", "KeyType": "HASH"},
                      {"AttributeName": "sentAt", "KeyType": "RANGE"}],
        **extra}


class TableOperations(unittest.TestCase):
    def setUp(self):
        self.db = client()

    def tearDown(self):
        self.db.close()

    def error(self, call, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call(**kwargs)
        return cm.exception.response["Error"]["Code"], cm.exception.response["Error"]["Message"]

    def test_answers_carry_dynamodbs_request_id_and_the_crc32_of_their_body(self):
        shape = re.compile(r"^[A-Z0-9]{52}$")
        listed = self.db.list_tables()["ResponseMetadata"]["RequestId"]
        self.assertRegex(listed, shape)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.db.describe_table(TableName="no_such_table")
        refused = cm.exception.response["ResponseMetadata"]["RequestId"]
        self.assertRegex(refused, shape)
        self.assertNotEqual(listed, refused)

        request = urllib.request.Request(
            EMU.endpoint + "/", data=b"{}", method="POST",
            headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
            self.assertEqual(answer.headers["Content-Type"], "application/x-amz-json-1.0")
            self.assertEqual(answer.headers["Content-Length"], str(len(body)))
            self.assertEqual(answer.headers["x-amz-crc32"], str(zlib.crc32(body)))
            self.assertRegex(answer.headers["x-amzn-RequestId"], shape)

    def test_a_created_table_is_described_listed_used_and_deleted(self):
        created = self.db.create_table(**rooms_table("rooms", BillingMode="PAY_PER_REQUEST"))["TableDescription"]
        self.assertEqual(created["TableName"], "rooms")
        self.assertEqual(created["TableStatus"], "ACTIVE")
        self.assertEqual(created["TableArn"], "arn:aws:dynamodb:us-east-1:123456789012:table/rooms")
        self.assertEqual(created["KeySchema"], [{"AttributeName": "roomId", "KeyType": "HASH"},
                                                {"AttributeName": "sentAt", "KeyType": "RANGE"}])
        self.assertEqual(created["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(created["ItemCount"], 0)
        self.db.get_waiter("table_exists").wait(TableName="rooms", WaiterConfig={"Delay": 1, "MaxAttempts": 2})

        self.assertIn("rooms", self.db.list_tables()["TableNames"])
        self.db.put_item(TableName="rooms", Item={"roomId": {"S": "lobby"}, "sentAt": {"N": "1"}})
        self.assertEqual(self.db.describe_table(TableName="rooms")["Table"]["ItemCount"], 1)

        deleted = self.db.delete_table(TableName="rooms")["TableDescription"]
        self.assertEqual(deleted["TableStatus"], "DELETING")
        self.assertEqual(deleted["ItemCount"], 1)
        self.assertEqual(self.error(self.db.describe_table, TableName="rooms"),
                         ("ResourceNotFoundException", "Requested resource not found: Table: rooms not found"))
        self.assertEqual(self.error(self.db.get_item, TableName="rooms",
                                    Key={"roomId": {"S": "lobby"}, "sentAt": {"N": "1"}}),
                         ("ResourceNotFoundException", "Requested resource not found"))
        self.db.get_waiter("table_not_exists").wait(TableName="rooms", WaiterConfig={"Delay": 1, "MaxAttempts": 2})

        # A table made again starts empty.
        self.db.create_table(**rooms_table("rooms", BillingMode="PAY_PER_REQUEST"))
        self.assertEqual(self.db.scan(TableName="rooms")["Count"], 0)
        self.db.delete_table(TableName="rooms")

    def test_a_declared_table_is_described_with_its_settings(self):
        table = self.db.describe_table(TableName="simplechat_connections")["Table"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["AttributeDefinitions"], [{"AttributeName": "connectionId", "AttributeType": "S"}])

    def test_a_table_that_exists_is_not_created_again(self):
        self.assertEqual(
            self.error(self.db.create_table, TableName="simplechat_connections",
                       AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
                       BillingMode="PAY_PER_REQUEST"),
            ("ResourceInUseException", "Table already exists: simplechat_connections"))

    def test_provisioned_billing_needs_throughput_and_on_demand_refuses_it(self):
        self.assertEqual(
            self.error(self.db.create_table, **rooms_table("tbl_one")),
            ("ValidationException", "One or more parameter values were invalid: ReadCapacityUnits and "
             "WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"))
        self.assertEqual(
            self.error(self.db.create_table, **rooms_table(
                "tbl_one", BillingMode="PAY_PER_REQUEST",
                ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})),
            ("ValidationException", "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
             "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"))
        self.assertNotIn("tbl_one", self.db.list_tables()["TableNames"])

    def test_secondary_indexes_through_boto3s_resource(self):
        from boto3.dynamodb.conditions import Attr, Key
        table_name = "indexed"
        self.db.create_table(**rooms_table(
            table_name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "roomId", "AttributeType": "S"},
                                  {"AttributeName": "sentAt", "AttributeType": "N"},
                                  {"AttributeName": "author", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "byAuthor",
                                     "KeySchema": [{"AttributeName": "author", "KeyType": "HASH"},
                                                   {"AttributeName": "sentAt", "KeyType": "RANGE"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}]))
        try:
            described = self.db.describe_table(TableName=table_name)["Table"]
            [index] = described["GlobalSecondaryIndexes"]
            self.assertEqual((index["IndexName"], index["IndexStatus"]), ("byAuthor", "ACTIVE"))
            self.assertTrue(index["IndexArn"].endswith(":table/indexed/index/byAuthor"), index["IndexArn"])
            table = boto3.resource(
                "dynamodb", endpoint_url=EMU.endpoint, region_name="us-east-1",
                aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret").Table(table_name)
            with table.batch_writer() as batch:
                for room, sent, author in (("r1", 3, "ann"), ("r2", 1, "ann"), ("r1", 2, "bo"), ("r3", 4, None)):
                    item = {"roomId": room, "sentAt": sent, "text": "hi"}
                    if author:
                        item["author"] = author
                    batch.put_item(Item=item)
            page = table.query(IndexName="byAuthor", KeyConditionExpression=Key("author").eq("ann"),
                               ScanIndexForward=False)
            self.assertEqual(page["Items"], [{"roomId": "r1", "sentAt": 3, "author": "ann"},
                                             {"roomId": "r2", "sentAt": 1, "author": "ann"}])
            page = table.query(IndexName="byAuthor", Limit=1,
                               KeyConditionExpression=Key("author").eq("ann") & Key("sentAt").gte(1))
            self.assertEqual(page["LastEvaluatedKey"], {"roomId": "r2", "sentAt": 1, "author": "ann"})
            rest = table.query(IndexName="byAuthor", ExclusiveStartKey=page["LastEvaluatedKey"],
                               KeyConditionExpression=Key("author").eq("ann"))
            self.assertEqual([i["sentAt"] for i in rest["Items"]], [3])
            scanned = table.scan(IndexName="byAuthor", FilterExpression=Attr("sentAt").lt(3))
            self.assertEqual(sorted(i["roomId"] for i in scanned["Items"]), ["r1", "r2"])
            # Parallel Scan: the segments together hold every item once.
            seen = []
            for segment in range(3):
                seen += [i["roomId"] + str(i["sentAt"])
                         for i in table.scan(Segment=segment, TotalSegments=3)["Items"]]
            self.assertEqual(sorted(seen), ["r12", "r13", "r21", "r34"])
            with self.assertRaises(botocore.exceptions.ClientError) as raised:
                table.put_item(Item={"roomId": "r9", "sentAt": 9, "author": 5})
            self.assertEqual(raised.exception.response["Error"], {
                "Code": "ValidationException",
                "Message": "One or more parameter values were invalid: Type mismatch for Index Key author "
                           "Expected: S Actual: N IndexName: byAuthor"})
            with self.assertRaises(botocore.exceptions.ClientError) as raised:
                table.query(IndexName="byRoom", KeyConditionExpression=Key("roomId").eq("r1"))
            self.assertEqual(raised.exception.response["Error"]["Message"],
                             "The table does not have the specified index: byRoom")
        finally:
            self.db.delete_table(TableName=table_name)

    def test_a_key_schema_mistake_names_where(self):
        code, message = self.error(
            self.db.create_table, TableName="bad", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}])
        self.assertEqual((code, message), (
            "ValidationException",
            "CreateTable.KeySchema[0].AttributeName: attribute connectionId has no entry in AttributeDefinitions; "
            "add its type there"))

    def test_list_tables_pages(self):
        for name in ("page_a", "page_b", "page_c"):
            self.db.create_table(**rooms_table(name, BillingMode="PAY_PER_REQUEST"))
        try:
            first = self.db.list_tables(Limit=2)
            self.assertEqual(first["TableNames"], ["page_a", "page_b"])
            self.assertEqual(first["LastEvaluatedTableName"], "page_b")
            rest = self.db.list_tables(ExclusiveStartTableName="page_b", Limit=2)
            self.assertEqual(rest["TableNames"], ["page_c", "simplechat_connections"])
            self.assertNotIn("LastEvaluatedTableName", rest)
            names = [n for page in self.db.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
                     for n in page["TableNames"]]
            self.assertEqual(names, sorted(names))
            self.assertTrue({"page_a", "page_b", "page_c", "simplechat_connections"} <= set(names))
            self.assertEqual(self.error(self.db.list_tables, Limit=101)[0], "ValidationException")
        finally:
            for name in ("page_a", "page_b", "page_c"):
                self.db.delete_table(TableName=name)

    def test_update_table_keeps_billing(self):
        self.db.create_table(**rooms_table("billed", BillingMode="PAY_PER_REQUEST"))
        updated = self.db.update_table(TableName="billed", BillingMode="PROVISIONED",
                                       ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
        throughput = updated["TableDescription"]["ProvisionedThroughput"]
        self.assertEqual((throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]), (3, 4))
        self.assertNotIn("BillingModeSummary", updated["TableDescription"])
        described = self.db.describe_table(TableName="billed")["Table"]
        self.assertEqual(described["ProvisionedThroughput"]["WriteCapacityUnits"], 4)
        self.db.delete_table(TableName="billed")
        self.assertEqual(self.error(self.db.update_table, TableName="billed", BillingMode="PAY_PER_REQUEST")[0],
                         "ResourceNotFoundException")

    def test_deletion_protection_is_enforced(self):
        # Debian's botocore (1.29) predates DeletionProtectionEnabled: the calls go as raw JSON.
        def call(operation, body):
            request = urllib.request.Request(
                EMU.endpoint + "/", data=json.dumps(body).encode(), method="POST",
                headers={"X-Amz-Target": "DynamoDB_20120810." + operation,
                         "Content-Type": "application/x-amz-json-1.0"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    return answer.status, json.loads(answer.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        status, created = call("CreateTable", rooms_table("guarded", BillingMode="PAY_PER_REQUEST",
                                                          DeletionProtectionEnabled=True))
        self.assertEqual((status, created["TableDescription"]["DeletionProtectionEnabled"]), (200, True))
        self.assertEqual(call("DeleteTable", {"TableName": "guarded"}), (400, {
            "__type": "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
            "message": "Resource cannot be deleted as it is currently protected against deletion. "
                       "Disable deletion protection first."}))
        status, updated = call("UpdateTable", {"TableName": "guarded", "DeletionProtectionEnabled": False})
        self.assertEqual((status, updated["TableDescription"]["DeletionProtectionEnabled"]), (200, False))
        self.assertEqual(call("DeleteTable", {"TableName": "guarded"})[0], 200)


class TimeToLive(unittest.TestCase):
    def test_expired_items_disappear_once_time_to_live_is_on(self):
        db = client()
        self.addCleanup(db.close)
        db.create_table(**rooms_table("ttl_rooms", BillingMode="PAY_PER_REQUEST"))
        self.addCleanup(db.delete_table, TableName="ttl_rooms")
        now = int(time.time())
        db.put_item(TableName="ttl_rooms", Item={"roomId": {"S": "r"}, "sentAt": {"N": "1"},
                                                 "expiresAt": {"N": str(now - 10)}})
        db.put_item(TableName="ttl_rooms", Item={"roomId": {"S": "r"}, "sentAt": {"N": "2"},
                                                 "expiresAt": {"N": str(now + 3600)}})
        self.assertEqual(db.describe_time_to_live(TableName="ttl_rooms")["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "DISABLED"})
        self.assertEqual(db.update_time_to_live(
            TableName="ttl_rooms", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )["TimeToLiveSpecification"], {"Enabled": True, "AttributeName": "expiresAt"})
        self.assertEqual(db.describe_time_to_live(TableName="ttl_rooms")["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"})
        left = db.query(TableName="ttl_rooms", KeyConditionExpression="roomId = :r",
                        ExpressionAttributeValues={":r": {"S": "r"}})["Items"]
        self.assertEqual([item["sentAt"]["N"] for item in left], ["2"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            db.update_time_to_live(TableName="ttl_rooms",
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
        self.assertEqual(cm.exception.response["Error"], {"Code": "ValidationException",
                                                          "Message": "TimeToLive is already enabled"})


class Transactions(unittest.TestCase):
    def setUp(self):
        self.db = client()

    def tearDown(self):
        self.db.close()

    def test_a_canceled_transaction_gives_boto3_its_cancellation_reasons(self):
        self.db.put_item(TableName="simplechat_connections", Item={"connectionId": {"S": "tx-taken"}})
        actions = [
            {"Put": {"TableName": "simplechat_connections", "Item": {"connectionId": {"S": "tx-new"}}}},
            {"Put": {"TableName": "simplechat_connections", "Item": {"connectionId": {"S": "tx-taken"}},
                     "ConditionExpression": "attribute_not_exists(connectionId)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ]
        with self.assertRaises(self.db.exceptions.TransactionCanceledException) as cm:
            self.db.transact_write_items(TransactItems=actions)
        response = cm.exception.response
        self.assertEqual(response["Error"]["Message"], "Transaction cancelled, please refer cancellation reasons for "
                         "specific reasons [None, ConditionalCheckFailed]")
        self.assertEqual(response["CancellationReasons"], [
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
             "Item": {"connectionId": {"S": "tx-taken"}}}])
        self.assertNotIn("Item", self.db.get_item(TableName="simplechat_connections",
                                                  Key={"connectionId": {"S": "tx-new"}}))

        self.db.delete_item(TableName="simplechat_connections", Key={"connectionId": {"S": "tx-taken"}})
        self.db.transact_write_items(TransactItems=actions)
        got = self.db.transact_get_items(TransactItems=[
            {"Get": {"TableName": "simplechat_connections", "Key": {"connectionId": {"S": k}}}}
            for k in ("tx-new", "tx-taken", "tx-none")])
        self.assertEqual(got["Responses"], [{"Item": {"connectionId": {"S": "tx-new"}}},
                                            {"Item": {"connectionId": {"S": "tx-taken"}}}, {}])
        for k in ("tx-new", "tx-taken"):
            self.db.delete_item(TableName="simplechat_connections", Key={"connectionId": {"S": k}})


class AwsCli(unittest.TestCase):
    """The commands of the lab and of docs/store.md, as a learner types them."""

    def aws(self, *args, check=True):
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        done = subprocess.run([AWS_CLI, *args, "--endpoint-url", EMU.endpoint, "--output", "json"],
                              env=env, capture_output=True, text=True, timeout=60)
        if check:
            self.assertEqual(done.returncode, 0, done.stderr)
        return done

    def test_scan_shows_what_put_item_wrote(self):
        self.aws("dynamodb", "put-item", "--table-name", "simplechat_connections",
                 "--item", '{"connectionId": {"S": "cli-1"}}')
        scanned = json.loads(self.aws("dynamodb", "scan", "--table-name", "simplechat_connections").stdout)
        self.assertIn({"connectionId": {"S": "cli-1"}}, scanned["Items"])
        self.aws("dynamodb", "delete-item", "--table-name", "simplechat_connections",
                 "--key", '{"connectionId": {"S": "cli-1"}}')

    def test_create_table_wait_and_delete(self):
        self.aws("dynamodb", "create-table", "--table-name", "cli_rooms",
                 "--attribute-definitions", "AttributeName=roomId,AttributeType=S",
                 "--key-schema", "AttributeName=roomId,KeyType=HASH",
                 "--billing-mode", "PAY_PER_REQUEST")
        self.aws("dynamodb", "wait", "table-exists", "--table-name", "cli_rooms")
        described = json.loads(self.aws("dynamodb", "describe-table", "--table-name", "cli_rooms").stdout)
        self.assertEqual(described["Table"]["TableStatus"], "ACTIVE")
        self.aws("dynamodb", "delete-table", "--table-name", "cli_rooms")
        missing = self.aws("dynamodb", "describe-table", "--table-name", "cli_rooms", check=False)
        self.assertEqual(missing.returncode, 254)
        self.assertIn("An error occurred (ResourceNotFoundException) when calling the DescribeTable operation: "
                      "Requested resource not found: Table: cli_rooms not found", missing.stderr)

    def error(self, done):
        """The CLI's exit status and the line it prints for a service error."""
        return done.returncode, done.stderr.strip()

    def test_items_queries_batches_transactions_and_time_to_live(self):
        self.aws("dynamodb", "create-table", "--table-name", "cli_messages",
                 "--attribute-definitions", "AttributeName=roomId,AttributeType=S",
                 "AttributeName=sentAt,AttributeType=N",
                 "--key-schema", "AttributeName=roomId,KeyType=HASH", "AttributeName=sentAt,KeyType=RANGE",
                 "--billing-mode", "PAY_PER_REQUEST")
        self.addCleanup(self.aws, "dynamodb", "delete-table", "--table-name", "cli_messages")
        self.aws("dynamodb", "batch-write-item", "--request-items", json.dumps({"cli_messages": [
            {"PutRequest": {"Item": {"roomId": {"S": "lobby"}, "sentAt": {"N": str(t)}, "text": {"S": f"m{t}"}}}}
            for t in (1, 2, 3)]}))

        queried = json.loads(self.aws(
            "dynamodb", "query", "--table-name", "cli_messages",
            "--key-condition-expression", "roomId = :r AND sentAt >= :t",
            "--expression-attribute-values", '{":r": {"S": "lobby"}, ":t": {"N": "2"}}',
            "--projection-expression", "#t", "--expression-attribute-names", '{"#t": "text"}',
            "--no-scan-index-forward").stdout)
        self.assertEqual(queried["Items"], [{"text": {"S": "m3"}}, {"text": {"S": "m2"}}])
        self.assertEqual(queried["Count"], 2)

        updated = json.loads(self.aws(
            "dynamodb", "update-item", "--table-name", "cli_messages",
            "--key", '{"roomId": {"S": "lobby"}, "sentAt": {"N": "1"}}',
            "--update-expression", "SET edits = if_not_exists(edits, :zero) + :one",
            "--expression-attribute-values", '{":zero": {"N": "0"}, ":one": {"N": "1"}}',
            "--return-values", "UPDATED_NEW").stdout)
        self.assertEqual(updated, {"Attributes": {"edits": {"N": "1"}}})

        got = json.loads(self.aws("dynamodb", "batch-get-item", "--request-items", json.dumps({"cli_messages": {
            "Keys": [{"roomId": {"S": "lobby"}, "sentAt": {"N": "1"}}],
            "ProjectionExpression": "edits"}})).stdout)
        self.assertEqual(got["Responses"], {"cli_messages": [{"edits": {"N": "1"}}]})
        self.assertEqual(got["UnprocessedKeys"], {})

        # DynamoDB's errors, as the CLI prints them (exit status 254 for a service error).
        self.assertEqual(self.error(self.aws(
            "dynamodb", "put-item", "--table-name", "cli_messages",
            "--item", '{"roomId": {"S": "lobby"}, "sentAt": {"N": "1"}}',
            "--condition-expression", "attribute_not_exists(roomId)", check=False)),
            (254, "An error occurred (ConditionalCheckFailedException) when calling the PutItem operation: "
                  "The conditional request failed"))
        self.assertEqual(self.error(self.aws(
            "dynamodb", "transact-write-items", "--transact-items", json.dumps([
                {"Put": {"TableName": "cli_messages", "Item": {"roomId": {"S": "lobby"}, "sentAt": {"N": "9"}}}},
                {"ConditionCheck": {"TableName": "cli_messages",
                                    "Key": {"roomId": {"S": "lobby"}, "sentAt": {"N": "2"}},
                                    "ConditionExpression": "attribute_not_exists(sentAt)"}}]), check=False)),
            (254, "An error occurred (TransactionCanceledException) when calling the TransactWriteItems operation: "
                  "Transaction cancelled, please refer cancellation reasons for specific reasons "
                  "[None, ConditionalCheckFailed]"))
        self.assertEqual(self.error(self.aws(
            "dynamodb", "scan", "--table-name", "cli_messages", "--filter-expression", "size > :n",
            "--expression-attribute-values", '{":n": {"N": "1"}}', check=False)),
            (254, "An error occurred (ValidationException) when calling the Scan operation: "
                  "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: size"))
        self.assertEqual(self.error(self.aws(
            "dynamodb", "get-item", "--table-name", "cli_messages", "--key", '{"roomId": {"S": "lobby"}}',
            check=False)),
            (254, "An error occurred (ValidationException) when calling the GetItem operation: "
                  "The provided key element does not match the schema"))
        # Nothing of the failed calls was written.
        scanned = json.loads(self.aws("dynamodb", "scan", "--table-name", "cli_messages", "--select", "COUNT").stdout)
        self.assertEqual(scanned["Count"], 3)

        # An item that expired a minute ago is gone once time to live is on.
        self.aws("dynamodb", "put-item", "--table-name", "cli_messages", "--item", json.dumps(
            {"roomId": {"S": "lobby"}, "sentAt": {"N": "4"}, "expiresAt": {"N": str(int(time.time()) - 60)}}))
        self.assertEqual(json.loads(self.aws(
            "dynamodb", "update-time-to-live", "--table-name", "cli_messages",
            "--time-to-live-specification", "Enabled=true,AttributeName=expiresAt").stdout),
            {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expiresAt"}})
        self.assertEqual(json.loads(self.aws(
            "dynamodb", "describe-time-to-live", "--table-name", "cli_messages").stdout),
            {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}})
        scanned = json.loads(self.aws("dynamodb", "scan", "--table-name", "cli_messages").stdout)
        self.assertEqual(sorted(int(i["sentAt"]["N"]) for i in scanned["Items"]), [1, 2, 3])

        tables = json.loads(self.aws("dynamodb", "list-tables").stdout)
        self.assertIn("cli_messages", tables["TableNames"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
