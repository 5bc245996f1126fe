// A slow handler on one connection must not delay other connections (architecture: handlers
// that block run off the io threads).
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

class ConcurrencyTest : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("slow", "slow", true)
        .add_route("echo", "echo", true)
        .add_integration("slow", builtin("mock", R"({"statusCode":200,"body":"slow-done","delayMillis":1500})"));
    start(api, 2);  // two io threads: more slow handlers than threads
  }
};

TEST_F(ConcurrencyTest, SlowHandlerDoesNotDelayOtherConnections) {
  std::vector<std::unique_ptr<ws_client>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(open());
    ASSERT_TRUE(slow.back());
  }
  auto fast = open();
  ASSERT_TRUE(fast);

  const auto began = steady::now();
  for (auto& c : slow) ASSERT_TRUE(c->send_text(R"({"action":"slow"})"));
  ASSERT_TRUE(round_trip(*fast, R"({"action":"echo","n":1})", R"({"action":"echo","n":1})"));
  ASSERT_TRUE(round_trip(*fast, R"({"action":"echo","n":2})", R"({"action":"echo","n":2})"));
  EXPECT_LT(elapsed_ms(began), 1000) << "the echo waited for the slow handlers";
  // The slow replies are still pending when the echoes are done...
  EXPECT_EQ(slow[0]->read(1ms).type, ws_message::kind::timeout);
  // ...and arrive afterwards.
  for (auto& c : slow) EXPECT_TRUE(c->read().is_text("slow-done"));
  EXPECT_GE(elapsed_ms(began), 1400);
}

TEST_F(ConcurrencyTest, ManyConnectionsEchoIndependently) {
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(open());
    ASSERT_TRUE(clients.back());
  }
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const std::string msg =
          R"({"action":"echo","client":)" + std::to_string(i) + R"(,"round":)" + std::to_string(round) + "}";
      ASSERT_TRUE(clients[i]->send_text(msg));
    }
    for (std::size_t i = 0; i < clients.size(); ++i) {
      const std::string msg =
          R"({"action":"echo","client":)" + std::to_string(i) + R"(,"round":)" + std::to_string(round) + "}";
      EXPECT_TRUE(clients[i]->read().is_text(msg)) << "client " << i;
    }
  }
}

}  // namespace
}  // namespace apigw::e2e
