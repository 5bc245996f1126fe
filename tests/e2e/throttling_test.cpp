// Stage throttling (docs/behaviour.md, "Limits"): a token bucket of burstLimit refilled at
// rateLimit per second, one for handshakes (429, empty body) and one for messages (the
// "Too Many Requests" frame, the connection stays open), shared by every connection of the stage.
#include "tests/e2e/e2e_common.hpp"

#include <thread>

namespace apigw::e2e {
namespace {

class ThrottlingTest : public e2e_test {
 protected:
  // $connect, $default and $disconnect run the recorder; "echo" echoes.
  void start_throttled(std::string_view throttling) {
    api_config api;
    if (!throttling.empty()) api.stage = R"({"name":"dev","throttling":)" + std::string(throttling) + "}";
    api.add_route("$connect", "rec")
        .add_route("$default", "rec")
        .add_route("$disconnect", "rec")
        .add_route("echo", "echo", true)
        .add_integration("rec", recorder_integration());
    start(api);
  }

  http_response raw_handshake() {
    raw_connection raw;
    if (!raw.connect("127.0.0.1", server_->port())) return {};
    raw.send(upgrade_request("/dev", server_->host_port()));
    return raw.read_http_response();
  }
};

TEST_F(ThrottlingTest, HandshakesBeyondTheBurstGet429WithAnEmptyBody) {
  start_throttled(R"({"rateLimit":0,"burstLimit":2})");
  auto first = open();
  auto second = open();
  ASSERT_TRUE(first && second);
  const auto refused = raw_handshake();
  ASSERT_TRUE(refused.complete);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.reason, "Too Many Requests");
  EXPECT_EQ(refused.body, "");
  EXPECT_EQ(refused.header("Content-Length"), "0");
  // $connect did not run for it, and no $disconnect follows.
  EXPECT_EQ(recorder_->events("CONNECT").size(), 2u);
  ws_client client;
  EXPECT_EQ(client.connect(server_->options()).status, 429);
  // The connections already open are not affected.
  EXPECT_TRUE(round_trip(*first, R"({"action":"echo"})", R"({"action":"echo"})"));
  first->close(1000);
  second->close(1000);
  ASSERT_TRUE(recorder_->wait_for(2, 2s, "DISCONNECT"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(recorder_->events("DISCONNECT").size(), 2u);
}

TEST_F(ThrottlingTest, TokensComeBackAtTheRate) {
  start_throttled(R"({"rateLimit":10,"burstLimit":1})");
  EXPECT_TRUE(open());
  EXPECT_EQ(raw_handshake().status, 429);
  std::this_thread::sleep_for(150ms);  // 10 per second: one token after 100 ms
  EXPECT_TRUE(open());
}

TEST_F(ThrottlingTest, MessagesBeyondTheBurstGetTooManyRequestsAndTheConnectionStaysOpen) {
  start_throttled(R"({"rateLimit":0,"burstLimit":3})");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(round_trip(*client, R"({"action":"echo","i":)" + std::to_string(i) + "}",
                           R"({"action":"echo","i":)" + std::to_string(i) + "}"));
  }
  ASSERT_TRUE(client->send_text(R"({"action":"echo","i":3})"));
  const auto m = client->read();
  EXPECT_TRUE(is_error_frame(m, "Too Many Requests", id));
  // A throttled message reaches no route, one-way routes included.
  ASSERT_TRUE(client->send_text("to $default"));
  EXPECT_TRUE(is_error_frame(client->read(), "Too Many Requests", id));
  EXPECT_TRUE(recorder_->events("MESSAGE").empty());
  // The connection is still open: it closes normally.
  EXPECT_TRUE(client->close(1000).is_close(1000, ""));
  const auto disconnect = recorder_->wait_for_disconnect(id, 2s);
  ASSERT_TRUE(disconnect);
  EXPECT_EQ(disconnect->int64("requestContext.disconnectStatusCode"), 1000);
}

TEST_F(ThrottlingTest, TheMessageBucketIsSharedByTheStagesConnections) {
  start_throttled(R"({"rateLimit":0,"burstLimit":2})");
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(round_trip(*a, R"({"action":"echo"})", R"({"action":"echo"})"));
  EXPECT_TRUE(round_trip(*b, R"({"action":"echo"})", R"({"action":"echo"})"));
  ASSERT_TRUE(b->send_text(R"({"action":"echo"})"));
  EXPECT_TRUE(is_error_frame(b->read(), "Too Many Requests", ""));
  ASSERT_TRUE(a->send_text(R"({"action":"echo"})"));
  EXPECT_TRUE(is_error_frame(a->read(), "Too Many Requests", ""));
}

TEST_F(ThrottlingTest, WithoutThrottlingNothingIsRefused) {
  start_throttled("");
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(open());
    ASSERT_TRUE(clients.back());
  }
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(round_trip(*clients[static_cast<std::size_t>(i) % clients.size()], R"({"action":"echo"})",
                           R"({"action":"echo"})"));
  }
}

}  // namespace
}  // namespace apigw::e2e
