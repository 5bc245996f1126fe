// A slow handler on one connection must not delay other connections (architecture: handlers
// that block run off the io threads).
#include <atomic>
#include <map>
#include <string>

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

// A handler on the worker pool that sends, for {"action":"burst","tag":T,"n":N,"to":[ids]}, the
// frames "T:0" … "T:N-1" to each connection of TO, in that order, and answers "T:sent".
class burst_handler final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    rapidjson::Document body;
    body.Parse(event["body"].GetString());
    if (body.HasParseError() || !body.IsObject() || !body["tag"].IsString() || !body["n"].IsInt() ||
        !body["to"].IsArray()) {
      throw std::runtime_error(std::string("expected {\"tag\":T,\"n\":N,\"to\":[ids]}, got ") + event["body"].GetString());
    }
    const std::string tag = body["tag"].GetString();
    const int n = body["n"].GetInt();
    for (int i = 0; i < n; ++i) {
      for (const auto& id : body["to"].GetArray()) {
        const auto r = context.connections().post_to_connection(id.GetString(), tag + ":" + std::to_string(i));
        if (r.status != 200) ++failed_posts;
      }
    }
    apigw::handler_result r;
    r.status_code = 200;
    r.body = tag + ":sent";
    return r;
  }
  bool may_block() const override { return true; }

  std::atomic<int> failed_posts{0};
};

// Frames that worker threads send to connections of both I/O threads arrive whole, none lost,
// each sender's in the order it sent them, while two bursts run at once; and a connection's own
// replies still come in between.
class ConcurrencyBurstTest : public e2e_test {};

TEST_F(ConcurrencyBurstTest, FramesFromTheWorkerPoolArriveInOrderOnEveryIoThread) {
  auto burst = std::make_shared<burst_handler>();
  api_config api;
  api.add_route("$connect", "rec").add_route("burst", "burst", true).add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration())
      .add_integration("burst", builtin("burst"));
  start(api, {{"burst", burst}}, {});  // two I/O threads

  constexpr int kClients = 6;
  constexpr int kFrames = 300;
  std::vector<std::unique_ptr<ws_client>> clients;
  std::string to = "[";
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(open());
    ASSERT_TRUE(clients.back());
    to += (i ? ",\"" : "\"") + last_connection_id() + "\"";
  }
  to += "]";
  const auto request = [&](const char* tag) {
    return std::string(R"({"action":"burst","tag":")") + tag + R"(","n":)" + std::to_string(kFrames) +
           R"(,"to":)" + to + "}";
  };
  ASSERT_TRUE(clients[0]->send_text(request("a")));
  ASSERT_TRUE(clients[1]->send_text(request("b")));
  ASSERT_TRUE(clients[2]->send_text(R"({"action":"echo","n":1})"));

  for (int c = 0; c < kClients; ++c) {
    std::map<std::string, int> next;  // tag: the number expected next
    bool echoed = c != 2;
    int replies = 0;
    while (next["a"] < kFrames || next["b"] < kFrames || !echoed || replies < (c < 2 ? 1 : 0)) {
      const auto m = clients[c]->read();
      ASSERT_EQ(m.type, ws_message::kind::text) << "client " << c << " after a:" << next["a"] << " b:" << next["b"];
      if (m.data == R"({"action":"echo","n":1})") {
        echoed = true;
        continue;
      }
      const auto colon = m.data.find(':');
      ASSERT_NE(colon, std::string::npos) << m.data;
      const std::string tag = m.data.substr(0, colon), rest = m.data.substr(colon + 1);
      if (rest == "sent") {
        ++replies;
        continue;
      }
      ASSERT_EQ(rest, std::to_string(next[tag])) << "client " << c << ", burst " << tag;
      ++next[tag];
    }
    EXPECT_EQ(clients[c]->read(50ms).type, ws_message::kind::timeout) << "client " << c << " got more";
  }
  EXPECT_EQ(burst->failed_posts.load(), 0);
}

}  // namespace
}  // namespace apigw::e2e
