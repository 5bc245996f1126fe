// $disconnect (docs/behaviour.md): it runs exactly once after every connection that
// completed $connect, whoever ended it, with disconnectStatusCode/disconnectReason per the table.
#include "tests/e2e/e2e_common.hpp"

#include <thread>

namespace apigw::e2e {
namespace {

class DisconnectTest : public e2e_test {
 protected:
  void start_with(std::string limits = "") {
    api_config api;
    api.limits = std::move(limits);
    api.add_route("$connect", "rec")
        .add_route("$disconnect", "rec")
        .add_route("echo", "echo", true)
        .add_integration("rec", recorder_integration());
    start(api);
  }

  // The DISCONNECT event of ID; fails the test when it does not come.
  json_doc disconnect_of(const std::string& id) {
    auto e = recorder_->wait_for_disconnect(id, 5s);
    if (!e) {
      ADD_FAILURE() << "no $disconnect for " << id;
      return json_doc();
    }
    return *e;
  }

  static void expect_code_and_reason(const json_doc& e, int code, std::string_view reason) {
    EXPECT_EQ(e.int64("requestContext.disconnectStatusCode"), code) << e.text();
    EXPECT_EQ(e.str("requestContext.disconnectReason"), reason) << e.text();
  }

  // DISCONNECT events per connection id, counted after the server stopped (nothing can follow).
  std::map<std::string, int> disconnect_counts() const {
    std::map<std::string, int> counts;
    for (const auto& e : recorder_->events("DISCONNECT")) {
      ++counts[e.str("requestContext.connectionId").value_or("?")];
    }
    return counts;
  }
};

struct close_case {
  std::optional<int> code;  // nullopt: a close frame without status
  std::string reason;
  int expected_code;
  std::string expected_reason;
};

TEST_F(DisconnectTest, ClientCloseGivesCodeAndReason) {
  start_with();
  const std::vector<close_case> cases = {
      {std::nullopt, "", 1005, "Client-side close frame status not set"},
      {4000, "bye", 4000, "bye"},
      // The client's empty reason reaches $disconnect as it was sent, as published captures of
      // AWS's events show (aws-lambda-go's apigw-websocket-request-disconnect.json: 1001, "").
      {1000, "", 1000, ""},
      {1000, "done", 1000, "done"},
      {1001, "", 1001, ""},
      {1001, "tab closed", 1001, "tab closed"},
      {1002, "", 1002, ""},
      {1003, "", 1003, ""},
      {1007, "", 1007, ""},
      {1008, "", 1008, ""},
      {1009, "", 1009, ""},
      {1011, "", 1011, ""},
      {3000, "", 3000, ""},
      {4001, "", 4001, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code ? std::to_string(*c.code) + " \"" + c.reason + "\"" : "no status");
    auto client = open();
    ASSERT_TRUE(client);
    const std::string id = last_connection_id();
    // Half the closes happen while a read is pending, as in a real client.
    if (c.expected_code % 2 == 0) {
      EXPECT_EQ(client->read(5ms).type, ws_message::kind::timeout);
    }
    const auto answer = c.code ? client->close(*c.code, c.reason) : client->close_without_status();
    EXPECT_EQ(answer.type, ws_message::kind::close) << answer;
    expect_code_and_reason(disconnect_of(id), c.expected_code, c.expected_reason);
  }
}

TEST_F(DisconnectTest, TcpDropGives1006) {
  start_with();
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  client->drop();
  expect_code_and_reason(disconnect_of(id), 1006, "Connection closed abnormally");
}

TEST_F(DisconnectTest, IdleTimeoutClosesWithGoingAway) {
  start_with(R"("idleTimeoutSeconds":0.3)");
  const auto began = steady::now();
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  const auto m = client->read(5s);
  EXPECT_TRUE(m.is_close(1001, "Going away")) << m;
  EXPECT_GE(elapsed_ms(began), 280);
  EXPECT_LT(elapsed_ms(began), 2000);
  expect_code_and_reason(disconnect_of(id), 1001, "Going away");
}

TEST_F(DisconnectTest, MaximumDurationClosesWithGoingAwayDespiteTraffic) {
  start_with(R"("idleTimeoutSeconds":0.3,"maxConnectionSeconds":0.5)");
  const auto began = steady::now();
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  ws_message closed;
  int echoes = 0;
  while (elapsed_ms(began) < 3000) {
    const std::string msg = R"({"action":"echo","n":)" + std::to_string(echoes) + "}";
    if (!client->send_text(msg)) {
      closed = client->read();
      break;
    }
    const auto m = client->read();
    if (m.type != ws_message::kind::text) {
      closed = m;
      break;
    }
    EXPECT_EQ(m.data, msg);
    ++echoes;
    const auto pause = client->read(100ms);  // nothing is due; the close frame may be
    if (pause.type != ws_message::kind::timeout) {
      closed = pause;
      break;
    }
  }
  EXPECT_TRUE(closed.is_close(1001, "Going away")) << closed;
  EXPECT_GE(elapsed_ms(began), 480);
  EXPECT_GE(echoes, 3);  // traffic kept flowing until the end
  expect_code_and_reason(disconnect_of(id), 1001, "Going away");
}

// (decision) $disconnect is a connection's last event: a message whose integration is still
// running when the client leaves is answered (or times out) first, so that the trace and the
// function logs read in order.
TEST_F(DisconnectTest, DisconnectWaitsForTheMessageIntegrationsStillRunning) {
  api_config api;
  api.add_route("$connect", "rec")
      .add_route("$disconnect", "rec")
      .add_route("slow", "slow")
      .add_integration("rec", recorder_integration())
      .add_integration("slow", builtin("mock", R"({"statusCode":200,"delayMillis":700})"));
  start(api);
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  ASSERT_TRUE(client->send_text(R"({"action":"slow"})"));
  std::this_thread::sleep_for(100ms);  // the slow integration is running now
  const auto closed = steady::now();
  const auto answer = client->close(1000, "bye");
  EXPECT_EQ(answer.close_code, 1000) << answer;
  const auto e = disconnect_of(id);
  EXPECT_GE(elapsed_ms(closed), 450);
  expect_code_and_reason(e, 1000, "bye");
}

TEST_F(DisconnectTest, ServerStopClosesWithGoingAwayAndRunsDisconnect) {
  start_with();
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  // The client answers the server's close while stop() waits for the close handshakes.
  std::thread stopper([this] { server_->stop(); });
  const auto m = client->read();
  stopper.join();
  EXPECT_TRUE(m.is_close(1001, "Going away")) << m;
  // stop() returns after $disconnect ran.
  const auto events = recorder_->events("DISCONNECT");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].str("requestContext.connectionId"), id);
  expect_code_and_reason(events[0], 1001, "Going away");
}

TEST_F(DisconnectTest, ExactlyOneDisconnectPerConnectionWhoeverEndsIt) {
  start_with();
  std::vector<std::string> ids;
  auto closed = open();
  ASSERT_TRUE(closed);
  ids.push_back(last_connection_id());
  auto dropped = open();
  ASSERT_TRUE(dropped);
  ids.push_back(last_connection_id());
  auto left_open = open();
  ASSERT_TRUE(left_open);
  ids.push_back(last_connection_id());

  closed->close(1000, "");
  disconnect_of(ids[0]);
  dropped->drop();
  disconnect_of(ids[1]);
  // stop() ends the third (which answers the close); afterwards no event can still be on its way.
  std::thread stopper([this] { server_->stop(); });
  EXPECT_EQ(left_open->read().type, ws_message::kind::close);
  stopper.join();

  const auto counts = disconnect_counts();
  EXPECT_EQ(counts.size(), 3u);
  for (const auto& id : ids) {
    const auto it = counts.find(id);
    EXPECT_TRUE(it != counts.end() && it->second == 1) << id;
  }
}

TEST_F(DisconnectTest, RefusedConnectGetsNoDisconnect) {
  start_with();
  recorder::reply refuse;
  refuse.status_code = 403;
  recorder_->set_reply(refuse);
  {
    ws_client client;
    const auto hs = client.connect(server_->options());
    EXPECT_EQ(hs.status, 403);
  }
  const std::string refused_id = last_connection_id();
  ASSERT_TRUE(is_id(refused_id)) << refused_id;

  recorder_->set_reply({});
  auto accepted = open();
  ASSERT_TRUE(accepted);
  const std::string accepted_id = last_connection_id();
  accepted->close(1000, "");
  disconnect_of(accepted_id);
  server_->stop();

  const auto counts = disconnect_counts();
  EXPECT_EQ(counts.count(refused_id), 0u);
  EXPECT_EQ(counts.size(), 1u);
}

}  // namespace
}  // namespace apigw::e2e
