// What function code calls lands on the emulator, never the internet: the AWS SDKs as Lambda
// functions use them (SDK v3 bundled with the runtime, aws-sdk v2 shipped with the code, boto3),
// with endpoints written the ways real code writes them, judged by the function's policy.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tests/support/json_doc.hpp"
#include "tests/support/log_sink.hpp"
#include "tests/support/test_server.hpp"
#include "tests/support/ws_client.hpp"

namespace apigw::functions_test {
namespace {

using namespace apigw::test_support;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class code_folder {
 public:
  code_folder() {
    char tmpl[] = "/tmp/apigw-sdk-calls-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~code_folder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& file, const std::string& text) const {
    fs::create_directories((path_ / file).parent_path());
    std::ofstream(path_ / file) << text;
  }
  // The function's own node_modules: the test clients' packages (aws-sdk v2 among them).
  void link_node_modules() const {
    fs::create_directory_symlink(fs::path(APIGW_SOURCE_DIR) / "tests/sdk/node_modules", path_ / "node_modules");
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

// Route "run" (two-way) runs Fn, given as a lambda integration's JSON.
std::string api(const std::string& function) {
  return R"({"routeSelectionExpression":"$request.body.action","routes":[)"
         R"({"routeKey":"run","integration":"Fn","routeResponseSelectionExpression":"$default"}],)"
         R"("integrations":{"Fn":)" + function + "}}";
}

std::string lambda(const std::string& runtime, const std::string& handler, const std::string& dir,
                   const std::string& extra = "") {
  return R"({"type":"lambda","runtime":")" + runtime + R"(","handler":")" + handler + R"(","codeUri":")" + dir +
         "\"" + extra + "}";
}

// A policy that allows ManageConnections on nothing this API has.
constexpr const char* kNoManageConnections =
    R"(,"policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"arn:aws:execute-api:us-east-1:123456789012:otherapi/*"}]})";

// The function answers {"action":"run"} with its caller's connection id, and
// {"action":"run","to":ID,"data":TEXT} by posting TEXT to connection ID ("sent", or the error).
struct two_clients {
  explicit two_clients(test_server& server) : sender(15s), receiver(15s) {
    EXPECT_TRUE(sender.connect(server.options()).upgraded);
    EXPECT_TRUE(receiver.connect(server.options()).upgraded);
    EXPECT_TRUE(receiver.send_text(R"({"action":"run"})"));
    receiver_id = receiver.read().data;
  }
  std::string post(const std::string& data) {
    EXPECT_TRUE(sender.send_text(R"({"action":"run","to":")" + receiver_id + R"(","data":")" + data + "\"}"));
    return sender.read(15s).data;
  }
  ws_client sender;
  ws_client receiver;
  std::string receiver_id;
};

constexpr const char* kSdkV3 = R"(
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
export const handler = async (event) => {
  const { apiId, stage, connectionId } = event.requestContext;
  const body = JSON.parse(event.body);
  if (!body.to) return { statusCode: 200, body: connectionId };
  // As the AWS sample chat app builds it.
  const client = new ApiGatewayManagementApiClient({
    endpoint: `https://${apiId}.execute-api.${process.env.AWS_REGION}.amazonaws.com/${stage}`,
  });
  try {
    await client.send(new PostToConnectionCommand({ ConnectionId: body.to, Data: body.data }));
    return { statusCode: 200, body: "sent" };
  } catch (e) {
    console.error("post failed", e.name, e.message);
    return { statusCode: 500, body: `${e.name}: ${e.message}` };
  }
};
)";

TEST(SdkCalls, NodeSdkV3EsModuleWithAnAmazonawsEndpointPostsToAnotherConnection) {
  code_folder code;
  code.write("index.mjs", kSdkV3);
  test_server server(api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)")));
  two_clients c(server);
  EXPECT_EQ(c.post("hello from v3"), "sent");
  auto f = c.receiver.read(5s);
  EXPECT_TRUE(f.is_text("hello from v3")) << f;
}

TEST(SdkCalls, TheFunctionsPolicyJudgesItsCalls) {
  code_folder code;
  code.write("index.mjs", kSdkV3);
  log_sink log;
  test_server server(api(lambda("nodejs20.x", "index.handler", code.path(), std::string(R"(,"timeout":10)") + kNoManageConnections)),
                     {}, test_server_options{2, "", &log});
  two_clients c(server);
  const std::string answer = c.post("not allowed");
  const std::string expected_start =
      "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to perform: "
      "execute-api:ManageConnections on resource: arn:aws:execute-api:us-east-1:123456789012:";
  const std::string expected_end = "/dev/POST/@connections/" + c.receiver_id;
  EXPECT_EQ(answer.rfind(expected_start, 0), 0u) << answer;
  EXPECT_EQ(answer.size() >= expected_end.size() ? answer.substr(answer.size() - expected_end.size()) : answer,
            expected_end);
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "\tERROR\tpost failed AccessDeniedException")) << log.dump();
  EXPECT_EQ(c.receiver.read(300ms).type, apigw::frame::kind::timeout);  // nothing was posted
}

TEST(SdkCalls, AwsSdkV2ShippedWithTheCodePostsThroughTheEmulator) {
  code_folder code;
  code.link_node_modules();
  code.write("app.js", R"(
const AWS = require("aws-sdk");
exports.handler = async (event) => {
  const { domainName, stage, connectionId } = event.requestContext;
  const body = JSON.parse(event.body);
  if (!body.to) return { statusCode: 200, body: connectionId };
  // As older code builds it: the API's own domain name, over https.
  const api = new AWS.ApiGatewayManagementApi({ apiVersion: "2018-11-29", endpoint: `https://${domainName}/${stage}` });
  await api.postToConnection({ ConnectionId: body.to, Data: body.data }).promise();
  return { statusCode: 200, body: "sent" };
};
)");
  test_server server(api(lambda("nodejs20.x", "app.handler", code.path(), R"(,"timeout":10)")));
  two_clients c(server);
  EXPECT_EQ(c.post("hello from v2"), "sent");
  auto f = c.receiver.read(5s);
  EXPECT_TRUE(f.is_text("hello from v2")) << f;
}

TEST(SdkCalls, Boto3PostsThroughTheEmulator) {
  code_folder code;
  code.write("lambda_function.py", R"(import json, os
import boto3

def lambda_handler(event, context):
    rc = event["requestContext"]
    body = json.loads(event["body"])
    if "to" not in body:
        return {"statusCode": 200, "body": rc["connectionId"]}
    client = boto3.client("apigatewaymanagementapi",
        endpoint_url="https://%s.execute-api.%s.amazonaws.com/%s" % (rc["apiId"], os.environ["AWS_REGION"], rc["stage"]))
    client.post_to_connection(ConnectionId=body["to"], Data=body["data"].encode())
    return {"statusCode": 200, "body": "sent"}
)");
  test_server server(api(lambda("python3.11", "lambda_function.lambda_handler", code.path(), R"(,"timeout":10)")));
  two_clients c(server);
  EXPECT_EQ(c.post("hello from boto3"), "sent");
  auto f = c.receiver.read(5s);
  EXPECT_TRUE(f.is_text("hello from boto3")) << f;
}

TEST(SdkCalls, AServiceTheEmulatorDoesNotServeFailsAtOnceAndTheLogSaysSo) {
  code_folder code;
  code.write("lambda_function.py", R"(import boto3, time
def lambda_handler(event, context):
    started = time.time()
    try:
        boto3.client("sts").get_caller_identity()
        return {"body": "reached sts"}
    except Exception as e:
        return {"body": "%s %s" % (type(e).__name__, "at once" if time.time() - started < 2 else "slowly")}
)");
  log_sink log;
  test_server server(api(lambda("python3.11", "lambda_function.lambda_handler", code.path(), R"(,"timeout":10)")), {},
                     test_server_options{2, "", &log});
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data, "ServiceNotServedError at once");  // no retries, no timeout
  EXPECT_TRUE(log.wait_for(1, 5s, "Fn", "", "apigw-ws-emulator does not serve sts (the function called https://sts.")) << log.dump();
}

}  // namespace
}  // namespace apigw::functions_test

namespace apigw::functions_test {
namespace {

constexpr const char* kTable =
    R"("tables":[{"TableName":"chat","KeySchema":[{"AttributeName":"connectionId","KeyType":"HASH"}],)"
    R"("AttributeDefinitions":[{"AttributeName":"connectionId","AttributeType":"S"}]}],)";

std::string table_api(const std::string& function) {
  return std::string(R"({"routeSelectionExpression":"$request.body.action",)") + kTable +
         R"("routes":[{"routeKey":"run","integration":"Fn","routeResponseSelectionExpression":"$default"}],)"
         R"("integrations":{"Fn":)" + function + "}}";
}

constexpr const char* kDocumentClient = R"(
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, ScanCommand, DeleteCommand } from "@aws-sdk/lib-dynamodb";
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (event) => {
  const id = event.requestContext.connectionId;
  try {
    await db.send(new PutCommand({ TableName: "chat", Item: { connectionId: id, n: 1 } }));
    const scanned = await db.send(new ScanCommand({ TableName: "chat" }));
    await db.send(new DeleteCommand({ TableName: "chat", Key: { connectionId: id } }));
    const after = await db.send(new ScanCommand({ TableName: "chat" }));
    return { body: `${scanned.Items.length} ${scanned.Items[0].connectionId === id} ${after.Count}` };
  } catch (e) {
    console.error(e.name, e.message);
    return { body: `${e.name}: ${e.message}` };
  }
};
)";

TEST(DynamoDbCalls, NodeDocumentClientWritesTheStoresTables) {
  code_folder code;
  code.write("index.mjs", kDocumentClient);
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)")));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data, "1 true 0");
}

TEST(DynamoDbCalls, AFunctionWithoutTheTablePolicyGetsAwsAccessDenied) {
  code_folder code;
  code.write("index.mjs", kDocumentClient);
  const std::string policy =
      R"(,"policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:Scan","Resource":"*"}]})";
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)" + policy)));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data,
            "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to "
            "perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/chat because no "
            "identity-based policy allows the dynamodb:PutItem action");
}

TEST(DynamoDbCalls, Boto3ResourceWritesTheStoresTables) {
  code_folder code;
  code.write("lambda_function.py", R"(import boto3
table = boto3.resource("dynamodb").Table("chat")
def lambda_handler(event, context):
    cid = event["requestContext"]["connectionId"]
    table.put_item(Item={"connectionId": cid, "n": 2})
    item = table.get_item(Key={"connectionId": cid})["Item"]
    return {"body": "%s %s" % (item["connectionId"] == cid, item["n"])}
)");
  test_server server(table_api(lambda("python3.11", "lambda_function.lambda_handler", code.path(), R"(,"timeout":10)")));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data, "True 2");
}

constexpr const char* kBatches = R"(
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, BatchWriteCommand, BatchGetCommand } from "@aws-sdk/lib-dynamodb";
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async () => {
  try {
    const written = await db.send(new BatchWriteCommand({ RequestItems: { chat: [
      { PutRequest: { Item: { connectionId: "a", n: 1 } } },
      { PutRequest: { Item: { connectionId: "b", n: 2 } } },
    ] } }));
    await db.send(new BatchWriteCommand({ RequestItems: { chat: [{ DeleteRequest: { Key: { connectionId: "a" } } }] } }));
    const read = await db.send(new BatchGetCommand({ RequestItems: { chat: {
      Keys: [{ connectionId: "a" }, { connectionId: "b" }], ProjectionExpression: "n" } } }));
    return { body: JSON.stringify([written.UnprocessedItems, read.Responses.chat, read.UnprocessedKeys]) };
  } catch (e) {
    return { body: `${e.name}: ${e.message}` };
  }
};
)";

TEST(DynamoDbCalls, NodeDocumentClientBatchesWritesAndReads) {
  code_folder code;
  code.write("index.mjs", kBatches);
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)")));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data, R"([{},[{"n":2}],{}])");
}

TEST(DynamoDbCalls, ABatchIsJudgedOnItsOwnActionForEachTable) {
  code_folder code;
  code.write("index.mjs", kBatches);
  const std::string policy =
      R"(,"policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*"}]})";
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)" + policy)));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data,
            "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to "
            "perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/chat because "
            "no identity-based policy allows the dynamodb:BatchWriteItem action");
}

TEST(DynamoDbCalls, Boto3BatchWriterAndBatchGetItem) {
  code_folder code;
  code.write("lambda_function.py", R"(import boto3
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table("chat")
def lambda_handler(event, context):
    with table.batch_writer() as batch:
        for i in range(30):  # two BatchWriteItem calls: at most 25 requests each
            batch.put_item(Item={"connectionId": "c%02d" % i, "n": i})
    got = dynamodb.batch_get_item(RequestItems={"chat": {"Keys": [{"connectionId": "c07"}, {"connectionId": "c29"}]}})
    ns = sorted(int(item["n"]) for item in got["Responses"]["chat"])
    return {"body": "%d %s %s" % (table.scan(Select="COUNT")["Count"], ns, got["UnprocessedKeys"])}
)");
  test_server server(table_api(lambda("python3.11", "lambda_function.lambda_handler", code.path(), R"(,"timeout":10)")));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data, "30 [7, 29] {}");
}

constexpr const char* kTransactions = R"js(
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, TransactWriteCommand, TransactGetCommand } from "@aws-sdk/lib-dynamodb";
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const fresh = "attribute_not_exists(connectionId)";
export const handler = async () => {
  const put = { Put: { TableName: "chat", Item: { connectionId: "a" }, ConditionExpression: fresh } };
  try {
    await db.send(new TransactWriteCommand({ TransactItems: [put,
      { ConditionCheck: { TableName: "chat", Key: { connectionId: "b" }, ConditionExpression: fresh } }] }));
    let reasons = "no error";
    try {
      await db.send(new TransactWriteCommand({ TransactItems: [put] }));
    } catch (e) {
      reasons = `${e.name} ${JSON.stringify(e.CancellationReasons)}`;
    }
    const got = await db.send(new TransactGetCommand({ TransactItems: [{ Get: { TableName: "chat", Key: { connectionId: "a" } } }] }));
    return { body: `${reasons} ${JSON.stringify(got.Responses)}` };
  } catch (e) {
    return { body: `${e.name}: ${e.message}` };
  }
};
)js";

TEST(DynamoDbCalls, NodeDocumentClientTransactionsAndTheirCancellationReasons) {
  code_folder code;
  code.write("index.mjs", kTransactions);
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)")));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data,
            R"(TransactionCanceledException [{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}] )"
            R"([{"Item":{"connectionId":"a"}}])");
}

TEST(DynamoDbCalls, ATransactionIsJudgedActionByAction) {
  code_folder code;
  code.write("index.mjs", kTransactions);
  const std::string policy =
      R"(,"policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"*"}]})";
  test_server server(table_api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)" + policy)));
  ws_client c(15s);
  ASSERT_TRUE(c.connect(server.options()).upgraded);
  ASSERT_TRUE(c.send_text(R"({"action":"run"})"));
  EXPECT_EQ(c.read(15s).data,
            "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to "
            "perform: dynamodb:ConditionCheckItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/chat "
            "because no identity-based policy allows the dynamodb:ConditionCheckItem action");
}

// A Query of an index is judged on the index's ARN: a policy that names only the table's does not
// cover it (SAM's DynamoDBCrudPolicy adds TABLE_ARN/index/* for this reason).
TEST(DynamoDbCalls, AQueryOfAnIndexIsJudgedOnTheIndexArn) {
  code_folder code;
  code.write("index.mjs", R"js(
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (event) => {
  try {
    await db.send(new PutCommand({ TableName: "rooms", Item: { connectionId: "c1", room: "lobby" } }));
    const found = await db.send(new QueryCommand({ TableName: "rooms", IndexName: "byRoom",
        KeyConditionExpression: "room = :r", ExpressionAttributeValues: { ":r": "lobby" } }));
    return { body: JSON.stringify(found.Items) };
  } catch (e) {
    return { body: `${e.name}: ${e.message}` };
  }
};
)js");
  const auto api = [&](const std::string& function) {
    return std::string(R"({"routeSelectionExpression":"$request.body.action",)")
           + R"("tables":[{"TableName":"rooms","KeySchema":[{"AttributeName":"connectionId","KeyType":"HASH"}],)"
             R"("AttributeDefinitions":[{"AttributeName":"connectionId","AttributeType":"S"},)"
             R"({"AttributeName":"room","AttributeType":"S"}],"GlobalSecondaryIndexes":[{"IndexName":"byRoom",)"
             R"("KeySchema":[{"AttributeName":"room","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}],)"
             R"("routes":[{"routeKey":"run","integration":"Fn","routeResponseSelectionExpression":"$default"}],)"
             R"("integrations":{"Fn":)" + function + "}}";
  };
  const auto run = [&](const std::string& resources) {
    const std::string policy = R"(,"policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow",)"
                               R"("Action":["dynamodb:PutItem","dynamodb:Query"],"Resource":)" + resources + "}]}";
    test_server server(api(lambda("nodejs20.x", "index.handler", code.path(), R"(,"timeout":10)" + policy)));
    ws_client c(15s);
    EXPECT_TRUE(c.connect(server.options()).upgraded);
    EXPECT_TRUE(c.send_text(R"({"action":"run"})"));
    return c.read(15s).data;
  };
  EXPECT_EQ(run(R"("arn:aws:dynamodb:us-east-1:123456789012:table/rooms")"),
            "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to "
            "perform: dynamodb:Query on resource: arn:aws:dynamodb:us-east-1:123456789012:table/rooms/index/byRoom "
            "because no identity-based policy allows the dynamodb:Query action");
  EXPECT_EQ(run(R"(["arn:aws:dynamodb:us-east-1:123456789012:table/rooms",)"
                R"("arn:aws:dynamodb:us-east-1:123456789012:table/rooms/index/*"])"),
            R"([{"connectionId":"c1","room":"lobby"}])");
}

}  // namespace
}  // namespace apigw::functions_test
