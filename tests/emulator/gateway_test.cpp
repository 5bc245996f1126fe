#include "emulator/core/gateway.hpp"

#include <map>
#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "config/config_loader.hpp"

namespace apigw::emulator {
namespace {

config::api_spec load(const std::string& json) {
  auto r = config::load_text(json, "test.json");
  if (!r) throw std::runtime_error(r.error());
  return *std::move(r);
}

std::unique_ptr<gateway> make(const std::string& json,
                              const apigw::handler_registry& registry = apigw::handler_registry::with_builtins()) {
  auto made = gateway::create(load(json), registry);
  if (!made) throw std::runtime_error(made.error());
  return std::move(*made);
}

std::string create_error(const std::string& json) {
  auto made = gateway::create(load(json), apigw::handler_registry::with_builtins());
  return made ? std::string("(created)") : made.error();
}

const char* const kApi = R"({
  "apiId": "abcdefghij",
  "routeSelectionExpression": "$request.body.action",
  "stage": {"name": "dev", "variables": {"env": "local"}},
  "routes": [
    {"routeKey": "$connect", "integration": "ok"},
    {"routeKey": "$disconnect", "integration": "ok"},
    {"routeKey": "echo", "integration": "echo", "routeResponseSelectionExpression": "$default"},
    {"routeKey": "quiet", "integration": "echo"},
    {"routeKey": "$default", "integration": "ok"}
  ],
  "integrations": {
    "ok": {"handler": "mock"},
    "echo": {"handler": "echo"}
  }
})";

connection_info sample_connection() {
  connection_info info;
  info.id = "RsGpzfNaoE0CIqg=";
  info.connected_at = std::chrono::system_clock::time_point{std::chrono::milliseconds(1705503499229)};
  info.source_ip = "127.0.0.1";
  info.user_agent = "test-agent/1.0";
  info.domain_name = "localhost:8080";
  info.local_port = 8080;
  info.query = "token=abc%20def&room=r1&room=r2";
  return info;
}

const header_list kHandshakeHeaders = {{"Host", "localhost:8080"},      {"Connection", "Upgrade"},
                                       {"Upgrade", "websocket"},        {"Sec-WebSocket-Key", "k"},
                                       {"Sec-WebSocket-Version", "13"}, {"User-Agent", "test-agent/1.0"},
                                       {"X-Custom", "a"},               {"X-Custom", "b"}};

gateway::request_ids sample_ids(bool message) {
  gateway::request_ids ids;
  ids.request_id = "RsI83FhYIE0FvxQ=";
  if (message) ids.message_id = "RsI83cCDIE0CIqg=";
  ids.time = std::chrono::system_clock::time_point{std::chrono::milliseconds(1705504440469)};
  return ids;
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

TEST(GatewayTest, SelectsExactRouteElseDefault) {
  auto gw = make(kApi);
  struct row {
    const char* message;
    const char* route;
  } rows[] = {
      {R"({"action":"echo"})", "echo"},
      {R"({"action":"Echo"})", "$default"},   // case-sensitive
      {R"({"action":"missing"})", "$default"},
      {R"({"other":1})", "$default"},
      {"not json", "$default"},
      {"", "$default"},
      {R"([1,2])", "$default"},
      {R"({"action":"$connect"})", "$default"},   // lifecycle routes are never selected
      {R"({"action":"$disconnect"})", "$default"},
  };
  for (const auto& r : rows) {
    const auto* chosen = gw->select(r.message);
    ASSERT_NE(chosen, nullptr) << r.message;
    EXPECT_EQ(chosen->key, r.route) << r.message;
  }
}

TEST(GatewayTest, NoRouteAndNoDefaultSelectsNothing) {
  auto gw = make(R"({"routeSelectionExpression": "$request.body.action",
    "routes": [{"routeKey": "echo", "integration": "e"}], "integrations": {"e": {"handler": "echo"}}})");
  EXPECT_EQ(gw->select(R"({"action":"nope"})"), nullptr);
  EXPECT_EQ(gw->select("garbage"), nullptr);
  EXPECT_NE(gw->select(R"({"action":"echo"})"), nullptr);
}

TEST(GatewayTest, StaticExpressionStillNeedsJson) {
  auto gw = make(R"({"routeSelectionExpression": "echo",
    "routes": [{"routeKey": "echo", "integration": "e"}, {"routeKey": "$default", "integration": "e"}],
    "integrations": {"e": {"handler": "echo"}}})");
  EXPECT_EQ(gw->select(R"({"any":"thing"})")->key, "echo");
  EXPECT_EQ(gw->select("not json")->key, "$default");
}

TEST(GatewayTest, ErrorFramesAreByteExact) {
  EXPECT_EQ(gateway::error_frame("Forbidden", "XDmENcnwIE0CFEQ=", "XDmGEE2RoE0FRdQ="),
            R"({"message": "Forbidden", "connectionId":"XDmENcnwIE0CFEQ=", "requestId":"XDmGEE2RoE0FRdQ="})");
}

TEST(GatewayTest, MessageEventHasEveryField) {
  auto gw = make(kApi);
  rapidjson::Document event;
  const auto info = sample_connection();
  const auto ids = sample_ids(true);
  const std::string body = R"({"action":"echo","data":"hi"})";
  gw->events().message_event(event, info, gw->select(body)->key, ids, body);
  EXPECT_EQ(compact(event),
            R"({"requestContext":{"routeKey":"echo","messageId":"RsI83cCDIE0CIqg=","eventType":"MESSAGE",)"
            R"("extendedRequestId":"RsI83FhYIE0FvxQ=","requestTime":"17/Jan/2024:15:14:00 +0000",)"
            R"("messageDirection":"IN","stage":"dev","connectedAt":1705503499229,"requestTimeEpoch":1705504440469,)"
            R"("identity":{"sourceIp":"127.0.0.1","userAgent":"test-agent/1.0"},"requestId":"RsI83FhYIE0FvxQ=",)"
            R"("domainName":"localhost:8080","connectionId":"RsGpzfNaoE0CIqg=","apiId":"abcdefghij"},)"
            R"("body":"{\"action\":\"echo\",\"data\":\"hi\"}","isBase64Encoded":false,"stageVariables":{"env":"local"}})");
}

TEST(GatewayTest, ConnectEventCarriesHeadersAndQuery) {
  auto gw = make(kApi);
  rapidjson::Document event;
  const auto info = sample_connection();
  const auto ids = sample_ids(false);
  gw->events().connect_event(event, info, kHandshakeHeaders, ids);
  const auto& headers = event["headers"];
  EXPECT_FALSE(headers.HasMember("Connection"));
  EXPECT_FALSE(headers.HasMember("Upgrade"));
  EXPECT_STREQ(headers["Host"].GetString(), "localhost:8080");
  EXPECT_STREQ(headers["X-Custom"].GetString(), "b");
  EXPECT_STREQ(headers["X-Forwarded-For"].GetString(), "127.0.0.1");
  EXPECT_STREQ(headers["X-Forwarded-Port"].GetString(), "8080");
  EXPECT_STREQ(headers["X-Forwarded-Proto"].GetString(), "http");
  EXPECT_EQ(compact(event["multiValueHeaders"]["X-Custom"]), R"(["a","b"])");
  EXPECT_EQ(compact(event["queryStringParameters"]), R"({"token":"abc def","room":"r2"})");
  EXPECT_EQ(compact(event["multiValueQueryStringParameters"]),
            R"({"token":["abc def"],"room":["r1","r2"]})");
  const auto& ctx = event["requestContext"];
  EXPECT_STREQ(ctx["routeKey"].GetString(), "$connect");
  EXPECT_STREQ(ctx["eventType"].GetString(), "CONNECT");
  EXPECT_FALSE(ctx.HasMember("messageId"));
  EXPECT_FALSE(event.HasMember("body"));
  EXPECT_FALSE(event["isBase64Encoded"].GetBool());
}

TEST(GatewayTest, ConnectEventWithoutQueryHasNoQueryMembers) {
  auto gw = make(kApi);
  rapidjson::Document event;
  auto info = sample_connection();
  info.query.clear();
  gw->events().connect_event(event, info, kHandshakeHeaders, sample_ids(false));
  EXPECT_FALSE(event.HasMember("queryStringParameters"));
  EXPECT_FALSE(event.HasMember("multiValueQueryStringParameters"));
}

TEST(GatewayTest, DisconnectEventHasStatusAndFixedHeaders) {
  auto gw = make(kApi);
  rapidjson::Document event;
  const auto info = sample_connection();
  const auto ids = sample_ids(false);
  gw->events().disconnect_event(event, info, ids, 1005, "Client-side close frame status not set");
  EXPECT_EQ(compact(event["headers"]),
            R"({"Host":"localhost:8080","x-api-key":"","X-Forwarded-For":"","x-restapi":""})");
  EXPECT_EQ(compact(event["multiValueHeaders"]),
            R"({"Host":["localhost:8080"],"x-api-key":[""],"X-Forwarded-For":[""],"x-restapi":[""]})");
  const auto& ctx = event["requestContext"];
  EXPECT_EQ(ctx["disconnectStatusCode"].GetInt(), 1005);
  EXPECT_STREQ(ctx["disconnectReason"].GetString(), "Client-side close frame status not set");
  EXPECT_STREQ(ctx["eventType"].GetString(), "DISCONNECT");
  EXPECT_STREQ(ctx["routeKey"].GetString(), "$disconnect");
}

TEST(GatewayTest, StageVariablesOnlyWhenDefined) {
  auto gw = make(R"({"routeSelectionExpression": "$request.body.action",
    "routes": [{"routeKey": "$default", "integration": "e"}], "integrations": {"e": {"handler": "echo"}}})");
  rapidjson::Document event;
  const auto info = sample_connection();
  const auto ids = sample_ids(true);
  gw->events().message_event(event, info, gw->select("x")->key, ids, "x");
  EXPECT_FALSE(event.HasMember("stageVariables"));
}

gateway::outcome returned(std::optional<int> status, std::optional<std::string> body, bool base64 = false) {
  gateway::outcome o;
  o.result.status_code = status;
  o.result.body = std::move(body);
  o.result.is_base64_encoded = base64;
  return o;
}

// The built-in echo reads the body of its event and the built-in mock nothing, so their calls get
// only that; every other handler, whatever its name, gets the whole event.
TEST(GatewayTest, OnlyTheBuiltInEchoAndMockAreSparedTheWholeEvent) {
  auto gw = make(R"({
    "routeSelectionExpression": "$request.body.action",
    "routes": [
      {"routeKey": "$connect", "integration": "mock"},
      {"routeKey": "echo", "integration": "echo"},
      {"routeKey": "inspect", "integration": "inspect"},
      {"routeKey": "$default", "integration": "own"}
    ],
    "integrations": {
      "mock": {"handler": "mock"}, "echo": {"handler": "echo"}, "inspect": {"handler": "inspect"},
      "own": {"handler": "own"}
    }
  })", [] {
    auto registry = apigw::handler_registry::with_builtins();
    struct own final : apigw::handler {
      apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override { return {}; }
    };
    registry.add_instance("own", std::make_shared<own>());
    return registry;
  }());
  std::map<std::string, routes::event_use> reads;
  for (const auto& r : gw->routes()) reads[r->key] = r->reads;
  EXPECT_EQ(reads.at("$connect"), routes::event_use::nothing);
  EXPECT_EQ(reads.at("echo"), routes::event_use::body);
  EXPECT_EQ(reads.at("inspect"), routes::event_use::whole);
  EXPECT_EQ(reads.at("$default"), routes::event_use::whole);

  // An embedding program's own "echo" replaces the built-in one: it gets the whole event.
  auto replaced = apigw::handler_registry::with_builtins();
  struct own_echo final : apigw::handler {
    apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override { return {}; }
  };
  replaced.add_instance("echo", std::make_shared<own_echo>());
  auto gw2 = make(kApi, replaced);
  for (const auto& r : gw2->routes()) {
    if (r->key == "echo") {
      EXPECT_EQ(r->reads, routes::event_use::whole);
    }
  }
}

TEST(GatewayTest, MessageReplies) {
  auto gw = make(kApi);
  const auto info = sample_connection();
  const auto ids = sample_ids(true);
  const auto& two_way = *gw->select(R"({"action":"echo"})");
  const auto& one_way = *gw->select(R"({"action":"quiet"})");

  auto r = gateway::message_reply(two_way, returned(200, "hello"), info, ids);
  EXPECT_TRUE(r.send);
  EXPECT_FALSE(r.binary);
  EXPECT_EQ(r.data, "hello");

  r = gateway::message_reply(two_way, returned(500, std::nullopt), info, ids);  // any status, empty body
  EXPECT_TRUE(r.send);
  EXPECT_EQ(r.data, "");

  r = gateway::message_reply(two_way, returned(200, "aGk=", true), info, ids);
  EXPECT_TRUE(r.binary);
  EXPECT_EQ(r.data, "hi");

  r = gateway::message_reply(two_way, returned(200, "not base64!", true), info, ids);
  EXPECT_FALSE(r.binary);
  EXPECT_EQ(r.data, gateway::error_frame("Internal server error", info.id, ids.request_id));

  EXPECT_FALSE(gateway::message_reply(one_way, returned(200, "dropped"), info, ids).send);
  EXPECT_FALSE(gateway::message_reply(one_way, returned(403, "dropped"), info, ids).send);

  gateway::outcome failed;
  failed.failed = true;
  r = gateway::message_reply(one_way, std::move(failed), info, ids);
  EXPECT_TRUE(r.send);
  EXPECT_EQ(r.data, R"({"message": "Internal server error", "connectionId":"RsGpzfNaoE0CIqg=", "requestId":"RsI83FhYIE0FvxQ="})");
}

TEST(GatewayTest, ConnectDecisions) {
  EXPECT_EQ(gateway::decide_connect(returned(200, std::nullopt)).status, 101);
  EXPECT_EQ(gateway::decide_connect(returned(204, std::nullopt)).status, 101);
  EXPECT_EQ(gateway::decide_connect(returned(std::nullopt, std::nullopt)).status, 101);
  EXPECT_EQ(gateway::decide_connect(returned(401, "no")).status, 401);
  EXPECT_EQ(gateway::decide_connect(returned(302, std::nullopt)).status, 302);
  gateway::outcome failed;
  failed.failed = true;
  EXPECT_EQ(gateway::decide_connect(failed).status, 502);

  auto with_protocol = returned(200, std::nullopt);
  with_protocol.result.headers = {{"sec-websocket-protocol", "chat"}, {"X-Other", "x"}};
  const auto d = gateway::decide_connect(with_protocol);
  EXPECT_EQ(d.status, 101);
  EXPECT_EQ(d.subprotocol, "chat");
  EXPECT_FALSE(gateway::decide_connect(returned(200, std::nullopt)).subprotocol.has_value());
}

TEST(GatewayTest, InvokeTurnsExceptionsIntoFailures) {
  class thrower final : public apigw::handler {
   public:
    apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override {
      throw std::runtime_error("boom");
    }
  } h;
  apigw::invocation_context context;
  rapidjson::Document event(rapidjson::kObjectType);
  const auto o = call_handler(h, event, context);
  EXPECT_TRUE(o.failed);
  EXPECT_EQ(o.error, "boom");
}

TEST(GatewayTest, StandardCloseReasons) {
  EXPECT_EQ(gateway::standard_close_reason(1000), "Connection Closed Normally");
  EXPECT_EQ(gateway::standard_close_reason(1001), "Going away");
  EXPECT_EQ(gateway::standard_close_reason(1005), "Client-side close frame status not set");
  EXPECT_EQ(gateway::standard_close_reason(1006), "Connection closed abnormally");
  EXPECT_EQ(gateway::standard_close_reason(4000), "");
}

TEST(GatewayTest, CreateReportsWhatIsWrongAndWhere) {
  EXPECT_EQ(create_error(R"({"routeSelectionExpression": "$request.body.action",
      "routes": [{"routeKey": "a", "integration": "x"}], "integrations": {"x": {"handler": "nope"}}})"),
            "test.json: integrations.x.handler: unknown handler \"nope\"; the registered handlers are: "
            "echo, inspect, mock, simplechat-onconnect, simplechat-ondisconnect, simplechat-sendmessage");
  EXPECT_EQ(create_error(R"({"routeSelectionExpression": "$request.body.action",
      "routes": [{"routeKey": "a", "integration": "x"}],
      "integrations": {"x": {"handler": "echo", "policy": {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}}}})"),
            "test.json: integrations.x.policy.Statement[0].Effect: expected \"Allow\" or \"Deny\"");
  EXPECT_EQ(create_error(R"({"routeSelectionExpression": "$request.body.action",
      "routes": [{"routeKey": "a", "integration": "x"}],
      "integrations": {"x": {"handler": "mock", "options": {"statusCode": "200"}}}})"),
            "test.json: integrations.x: options.statusCode: expected an integer HTTP status from 100 to 599");
  EXPECT_EQ(create_error(R"({"routeSelectionExpression": "$request.body.action",
      "routes": [{"routeKey": "a", "integration": "x"}],
      "integrations": {"x": {"handler": "echo", "options": {"loud": true}}}})"),
            "test.json: integrations.x: options.loud: unknown option; allowed: none");
  const std::string bad = create_error(R"({"routeSelectionExpression": "$request.header.x",
      "routes": [{"routeKey": "a", "integration": "x"}], "integrations": {"x": {"handler": "echo"}}})");
  EXPECT_EQ(bad.rfind("test.json: routeSelectionExpression: \"$request.header.x\" at position 0: ", 0), 0u) << bad;
}

}  // namespace
}  // namespace apigw::emulator
