// The message and $disconnect flows without sockets: the gateway's error frames byte for byte,
// route responses, timeouts, and what the trace says.
#include "emulator/core/message_flow.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "flow_test_support.hpp"

namespace apigw::emulator {
namespace {

using flow_test::api_fixture;
using flow_test::collecting_sink;
using flow_test::counting_runner;
using flow_test::deferred_runner;
using flow_test::str;

std::string api_json(const std::string& stage_extra = "", bool with_default = false) {
  return R"({
    "apiId": "abcdefghij",
    "routeSelectionExpression": "$request.body.action",
    "stage": {"name": "dev")" + stage_extra + R"(},
    "routes": [
      {"routeKey": "$disconnect", "integration": "mock"},
      {"routeKey": "echo", "integration": "echo", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "quiet", "integration": "echo"},
      {"routeKey": "fail", "integration": "boom", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "slow", "integration": "echo", "routeResponseSelectionExpression": "$default"})" +
         std::string(with_default ? R"(, {"routeKey": "$default", "integration": "echo",
                                        "routeResponseSelectionExpression": "$default"})" : "") + R"(
    ],
    "integrations": {"echo": {"handler": "echo"}, "mock": {"handler": "mock"},
                     "boom": {"handler": "mock", "options": {"throw": "no"}}}
  })";
}

std::shared_ptr<const connection_info> connection() {
  auto info = std::make_shared<connection_info>();
  info->id = "conn0000000001=";
  info->connected_at = std::chrono::system_clock::now();
  info->source_ip = "127.0.0.1";
  info->domain_name = "localhost:8080";
  return info;
}

std::string error_frame(const std::string& message, const std::string& request_id) {
  return R"({"message": ")" + message + R"(", "connectionId":"conn0000000001=", "requestId":")" + request_id + R"("})";
}

TEST(MessageFlowTest, AMessageNoRouteTakesGetsTheForbiddenFrameAndATraceRecord) {
  api_fixture api(api_json());
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"sendMessage"})");
  EXPECT_EQ(runner.calls, 0);
  const auto record = api.last_record();
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].data, error_frame("Forbidden", str(record["requestId"])));
  EXPECT_FALSE(sink.frames[0].binary);
  EXPECT_EQ(str(record["why"]), "no route");
  EXPECT_EQ(str(record["selection"]), "sendMessage");
  EXPECT_EQ(record["status"].GetInt(), 403);
}

TEST(MessageFlowTest, AMessageThatIsNotJsonFallsBackToDefault) {
  api_fixture api(api_json("", true));
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), "hello");
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].data, "hello");
  EXPECT_EQ(str(api.last_record()["why"]), "fell back to $default");
  EXPECT_TRUE(api.last_record()["selection"].IsNull());
}

TEST(MessageFlowTest, ATwoWayRouteAnswersAndAOneWayRouteDoesNot) {
  api_fixture api(api_json());
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"echo","n":1})");
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].data, R"({"action":"echo","n":1})");
  EXPECT_EQ(str(api.last_record()["why"]), "exact match");
  flow.on_message(connection(), R"({"action":"quiet"})");
  EXPECT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(runner.calls, 2);
  EXPECT_EQ(api.records(), 2u);
}

// An echo that says it may block, as an embedding program's handler does by default: its calls
// go to the worker pool, and may run after on_message() has returned.
class blocking_echo final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context&) override {
    apigw::handler_result r;
    r.status_code = 200;
    r.body.emplace(event["body"].GetString(), event["body"].GetStringLength());
    return r;
  }
};

// The built-in handlers and "blocking_echo".
apigw::handler_registry with_blocking_echo() {
  auto registry = apigw::handler_registry::with_builtins();
  registry.add("blocking_echo", [](const rapidjson::Value&) -> std::variant<std::unique_ptr<apigw::handler>, std::string> {
    return std::make_unique<blocking_echo>();
  });
  return registry;
}

// The flow keeps what it needs of a message before on_message() returns when the call may
// outlive it: the session's read buffer is reused at once. Short bodies are kept in the call
// itself, longer ones apart; either way the handler, running later, reads the whole body.
TEST(MessageFlowTest, TheHandlerReadsTheWholeBodyAfterTheReadBufferIsReused) {
  const auto registry = with_blocking_echo();
  std::string json = api_json();
  json.replace(json.find(R"("echo": {"handler": "echo"})"), std::string_view(R"("echo": {"handler": "echo"})").size(),
               R"("echo": {"handler": "blocking_echo"})");
  api_fixture api(json, registry);
  deferred_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  std::vector<std::string> sent;
  for (const std::size_t size : {30u, 255u, 256u, 257u, 5000u}) {
    std::string body = R"({"action":"echo","d":")";
    body += std::string(size - body.size() - 2, static_cast<char>('a' + sent.size()));
    body += R"("})";
    ASSERT_EQ(body.size(), size);
    std::string buffer = body;
    flow.on_message(connection(), buffer);
    buffer.assign(buffer.size(), '#');
    sent.push_back(body);
  }
  EXPECT_TRUE(sink.frames.empty()) << "the calls ran before the buffer was reused";
  runner.settle_all();
  ASSERT_EQ(sink.frames.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sink.frames[i].data, sent[i]) << sent[i].size();
}

// An in-process handler that cannot block (the built-in echo) answers while its call starts: the
// call is made in place and run with run_here(); one that may block gets a shared call, which
// the runner may keep.
TEST(MessageFlowTest, OnlyAHandlerThatAnswersWhileItStartsRunsInPlace) {
  const auto registry = with_blocking_echo();
  std::string json = api_json();
  json.replace(json.find(R"("boom": {)"), std::string_view(R"("boom": {)").size(),
               R"("blocking": {"handler": "blocking_echo"}, "boom": {)");
  json.replace(json.find(R"({"routeKey": "quiet", "integration": "echo"})"),
               std::string_view(R"({"routeKey": "quiet", "integration": "echo"})").size(),
               R"({"routeKey": "quiet", "integration": "blocking", "routeResponseSelectionExpression": "$default"})");
  api_fixture api(json, registry);
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"echo","n":1})");
  EXPECT_EQ(runner.calls, 1);
  EXPECT_EQ(runner.calls_in_place, 1);
  flow.on_message(connection(), R"({"action":"quiet","n":2})");
  EXPECT_EQ(runner.calls, 2);
  EXPECT_EQ(runner.calls_in_place, 1);
  ASSERT_EQ(sink.frames.size(), 2u);
  EXPECT_EQ(sink.frames[0].data, R"({"action":"echo","n":1})");
  EXPECT_EQ(sink.frames[1].data, R"({"action":"quiet","n":2})");
  EXPECT_EQ(str(api.last_record()["routeKey"]), "quiet");
}

TEST(MessageFlowTest, AFailedIntegrationGetsTheInternalServerErrorFrame) {
  api_fixture api(api_json());
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"fail"})");
  const auto record = api.last_record();
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].data, error_frame("Internal server error", str(record["requestId"])));
  EXPECT_EQ(record["status"].GetInt(), 500);
}

TEST(MessageFlowTest, AnIntegrationThatTimesOutGetsTheTimeoutFrameWith504InTheTrace) {
  api_fixture api(api_json());
  flow_test::timing_out_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"slow"})");
  const auto record = api.last_record();
  ASSERT_EQ(sink.frames.size(), 1u);
  EXPECT_EQ(sink.frames[0].data, error_frame("Endpoint request timed out", str(record["requestId"])));
  EXPECT_EQ(record["status"].GetInt(), 504);
  EXPECT_EQ(str(record["error"]), "Endpoint request timed out");
}

TEST(MessageFlowTest, ThrottledMessagesGetTheTooManyRequestsFrameBeforeRouting) {
  api_fixture api(api_json(R"(, "throttling": {"rateLimit": 0, "burstLimit": 1})"));
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_message(connection(), R"({"action":"echo"})");
  flow.on_message(connection(), R"({"action":"echo"})");
  ASSERT_EQ(sink.frames.size(), 2u);
  const auto record = api.last_record();
  EXPECT_EQ(sink.frames[1].data, error_frame("Too Many Requests", str(record["requestId"])));
  EXPECT_EQ(str(record["why"]), "throttled");
  EXPECT_EQ(record["status"].GetInt(), 429);
  EXPECT_EQ(runner.calls, 1);
}

TEST(MessageFlowTest, DisconnectKeepsTheClientsEmptyReason) {
  api_fixture api(api_json());
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  flow.on_disconnect(connection(), 1001, std::string(), [] {});
  EXPECT_EQ(api.last_record()["closeCode"].GetInt(), 1001);
  EXPECT_EQ(str(api.last_record()["closeReason"]), "");
}

TEST(MessageFlowTest, DisconnectReportsTheStandardReasonWhenTheEmulatorClosedWithoutOne) {
  api_fixture api(api_json());
  counting_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  bool done = false;
  flow.on_disconnect(connection(), 1001, std::nullopt, [&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(runner.calls, 1);
  const auto record = api.last_record();
  EXPECT_EQ(str(record["eventType"]), "DISCONNECT");
  EXPECT_EQ(record["closeCode"].GetInt(), 1001);
  EXPECT_EQ(str(record["closeReason"]), "Going away");
  EXPECT_EQ(str(record["routeKey"]), "$disconnect");
  EXPECT_TRUE(sink.frames.empty());
}

TEST(MessageFlowTest, DisconnectEndsEvenWhenItsIntegrationTimesOut) {
  api_fixture api(api_json());
  flow_test::timing_out_runner runner;
  collecting_sink sink;
  message_flow flow(api.ctx, runner, sink);
  bool done = false;
  flow.on_disconnect(connection(), 1000, "bye", [&] { done = true; });
  EXPECT_TRUE(done);
  EXPECT_EQ(str(api.last_record()["closeReason"]), "bye");
  EXPECT_EQ(api.last_record()["status"].GetInt(), 504);
}

}  // namespace
}  // namespace apigw::emulator
