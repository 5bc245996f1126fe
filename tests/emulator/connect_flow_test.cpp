// The $connect flow without sockets: the order of the checks, every status, what the trace says
// and what authorization adds to the connection.
#include "emulator/core/connect_flow.hpp"

#include <atomic>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "flow_test_support.hpp"

namespace apigw::emulator {
namespace {

using flow_test::api_fixture;
using flow_test::counting_runner;
using flow_test::str;

// $connect behind a token authorizer and an API key; the $connect mock answers with a
// subprotocol unless an option says otherwise.
std::string auth_api(const std::string& connect_options = R"({"headers": {"Sec-WebSocket-Protocol": "chat"}})",
                     const std::string& stage_extra = "") {
  return R"({
    "apiId": "abcdefghij",
    "routeSelectionExpression": "$request.body.action",
    "stage": {"name": "dev")" + stage_extra + R"(},
    "apiKeys": ["good-key"],
    "authorizers": {
      "Tokens": {"type": "REQUEST", "handler": "token",
                 "identitySource": ["route.request.querystring.token"],
                 "options": {"tokens": {"alice-token": {"principalId": "alice", "context": {"room": "r1"}},
                                        "revoked-token": {"deny": true}}}}
    },
    "routes": [
      {"routeKey": "$connect", "integration": "connect", "authorizationType": "CUSTOM",
       "authorizerId": "Tokens", "apiKeyRequired": true},
      {"routeKey": "$default", "integration": "connect"}
    ],
    "integrations": {"connect": {"handler": "mock", "options": )" + connect_options + R"(}}
  })";
}

std::shared_ptr<const connection_info> connection(const std::string& query) {
  auto info = std::make_shared<connection_info>();
  info->id = "conn0000000001=";
  info->connected_at = std::chrono::system_clock::now();
  info->source_ip = "127.0.0.1";
  info->domain_name = "localhost:8080";
  info->local_port = 8080;
  info->query = query;
  return info;
}

handshake request(const std::string& target, header_list extra = {}) {
  handshake h;
  h.method = "GET";
  h.target = target;
  h.headers = {{"Host", "localhost:8080"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"},
               {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, {"Sec-WebSocket-Version", "13"}};
  for (auto& field : extra) h.headers.push_back(std::move(field));
  h.received = std::chrono::system_clock::now();
  return h;
}

struct run_result {
  std::optional<connect_result> result;
  std::shared_ptr<const connection_info> info;
};

run_result run_flow(api_fixture& api, integration_runner& runner, const std::string& query,
                    header_list extra = {}) {
  run_result out;
  auto flow = std::make_shared<connect_flow>(api.ctx, runner, connection(query),
                                             request("/dev" + (query.empty() ? "" : "?" + query), std::move(extra)));
  flow->start([&](connect_result r) { out.result = std::move(r); });
  out.info = flow->info();
  return out;
}

TEST(ConnectFlowTest, ThrottlingComesBeforeTheAuthorizerAndTheIntegration) {
  api_fixture api(auth_api(R"({})", R"(, "throttling": {"rateLimit": 0, "burstLimit": 0})"));
  counting_runner runner;
  const auto r = run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 429);
  EXPECT_EQ(runner.calls, 0);
  EXPECT_EQ(r.result->record.error, "Too Many Requests");
  EXPECT_EQ(r.result->record.route_key, "$connect");
}

TEST(ConnectFlowTest, AMissingIdentitySourceIs401WithoutRunningTheAuthorizer) {
  api_fixture api(auth_api());
  counting_runner runner;
  const auto r = run_flow(api, runner, "room=r1", {{"x-api-key", "good-key"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 401);
  EXPECT_EQ(runner.calls, 0);
  EXPECT_EQ(r.result->record.error, "identity source missing or empty: route.request.querystring.token");
}

TEST(ConnectFlowTest, TheAuthorizerDecidesBeforeTheApiKeyIsLookedAt) {
  api_fixture api(auth_api());
  counting_runner runner;
  // A denied token with a wrong key: the authorizer's 403, not the key's.
  const auto r = run_flow(api, runner, "token=revoked-token", {{"x-api-key", "wrong"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 403);
  EXPECT_EQ(runner.calls, 1);  // the authorizer only
  EXPECT_NE(r.result->record.error->find("the authorizer's policy"), std::string::npos) << *r.result->record.error;
}

TEST(ConnectFlowTest, AnUnknownTokenIs401) {
  api_fixture api(auth_api());
  counting_runner runner;
  const auto r = run_flow(api, runner, "token=nobody", {{"x-api-key", "good-key"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 401);
  EXPECT_EQ(r.result->record.error, "Unauthorized");
}

TEST(ConnectFlowTest, TheApiKeyIsCheckedAfterTheAuthorizerAndBeforeTheIntegration) {
  api_fixture api(auth_api());
  counting_runner runner;
  auto r = run_flow(api, runner, "token=alice-token");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 403);
  EXPECT_EQ(r.result->record.error, "API key missing");
  EXPECT_EQ(runner.calls, 1);  // the authorizer, not $connect

  counting_runner again;
  r = run_flow(api, again, "token=alice-token", {{"x-api-key", "wrong"}});
  EXPECT_EQ(r.result->status, 403);
  EXPECT_EQ(r.result->record.error, "API key not accepted");
}

TEST(ConnectFlowTest, AnAcceptedHandshakeCarriesTheSubprotocolAndTheCompletedConnection) {
  api_fixture api(auth_api());
  counting_runner runner;
  const auto r = run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 101);
  EXPECT_EQ(r.result->subprotocol, "chat");
  EXPECT_EQ(runner.calls, 2);  // the authorizer, then $connect
  EXPECT_EQ(runner.calls_in_place, 1);  // $connect's mock answers while its call starts
  ASSERT_TRUE(r.info->authorizer());
  EXPECT_EQ(r.info->authorizer()->principal_id, "alice");
  ASSERT_EQ(r.info->authorizer()->context.size(), 1u);
  EXPECT_EQ(r.info->authorizer()->context[0].second, "r1");
  ASSERT_TRUE(r.info->api_key());
  EXPECT_EQ(*r.info->api_key(), "good-key");
  EXPECT_EQ(r.result->record.status, 101);
  EXPECT_EQ(r.result->record.integration, "connect");
  EXPECT_EQ(r.result->record.connection, r.info);
  EXPECT_EQ(r.result->info, r.info);
}

TEST(ConnectFlowTest, TheIntegrationsStatusFailureAndTimeoutBecomeTheHandshakesStatus) {
  counting_runner runner;
  {
    api_fixture api(auth_api(R"({"statusCode": 401})"));
    EXPECT_EQ(run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}}).result->status, 401);
  }
  {
    api_fixture api(auth_api(R"({"throw": "boom"})"));
    EXPECT_EQ(run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}}).result->status, 502);
  }
  {
    // The authorizer runs inline; $connect's integration times out.
    struct connect_times_out final : integration_runner {
      void run(bool, std::shared_ptr<integration_call> call) override { take(*call); }
      void run_here(integration_call& call) override { take(call); }
      void take(integration_call& call) {
        if (calls++ == 0) {
          flow_test::run_now(call);
        } else {
          call.finish(true);
        }
      }
      int calls = 0;
    } runner;
    api_fixture api(auth_api());
    const auto r = run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}});
    EXPECT_EQ(r.result->status, 504);
    EXPECT_EQ(r.result->record.error, "Endpoint request timed out");
    EXPECT_DOUBLE_EQ(r.result->record.latency_ms, api.ctx.timeout_ms());
  }
}

TEST(ConnectFlowTest, AnAuthorizerThatTimesOutIs500) {
  api_fixture api(auth_api());
  flow_test::timing_out_runner runner;
  const auto r = run_flow(api, runner, "token=alice-token", {{"x-api-key", "good-key"}});
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 500);
  EXPECT_EQ(r.result->record.error, "authorizer timed out");
}

TEST(ConnectFlowTest, AHandshakeThatCompletesDuringShutdownIs503) {
  // A $connect whose handler may block (a delayed mock) goes to the worker pool, and answers later.
  api_fixture api(auth_api(R"({"delayMillis": 1})"));
  std::atomic<bool> stopping{false};
  api.ctx.stopping = &stopping;
  flow_test::deferred_runner runner;
  std::optional<connect_result> result;
  auto flow = std::make_shared<connect_flow>(api.ctx, runner, connection("token=alice-token"),
                                             request("/dev?token=alice-token", {{"x-api-key", "good-key"}}));
  flow->start([&](connect_result r) { result = std::move(r); });
  runner.settle_all();  // the authorizer
  ASSERT_FALSE(result);
  stopping = true;
  runner.settle_all();  // $connect, which answers after shutdown began
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
}

TEST(ConnectFlowTest, WithoutAConnectRouteEveryHandshakeIsAcceptedWithoutAuthorization) {
  api_fixture api(R"({"apiId": "abcdefghij", "routeSelectionExpression": "$request.body.action",
                      "stage": {"name": "dev"}, "routes": [{"routeKey": "$default", "integration": "e"}],
                      "integrations": {"e": {"handler": "echo"}}})");
  counting_runner runner;
  const auto r = run_flow(api, runner, "");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 101);
  EXPECT_FALSE(r.result->record.route_key);
  EXPECT_EQ(r.result->record.status, 101);
  EXPECT_EQ(runner.calls, 0);
}

TEST(ConnectFlowTest, AnUnsignedHandshakeToAnIamRouteIs403) {
  api_fixture api(R"({"apiId": "abcdefghij", "routeSelectionExpression": "$request.body.action",
                      "stage": {"name": "dev"},
                      "credentials": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "secret",
                                       "arn": "arn:aws:iam::123456789012:user/alice",
                                       "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                         "Action": "execute-api:Invoke", "Resource": "*"}]}}],
                      "routes": [{"routeKey": "$connect", "integration": "e", "authorizationType": "AWS_IAM"}],
                      "integrations": {"e": {"handler": "mock"}}})");
  counting_runner runner;
  const auto r = run_flow(api, runner, "");
  ASSERT_TRUE(r.result);
  EXPECT_EQ(r.result->status, 403);
  EXPECT_EQ(r.result->record.error->rfind("signature: ", 0), 0u) << *r.result->record.error;
  EXPECT_EQ(runner.calls, 0);
}

}  // namespace
}  // namespace apigw::emulator
