// Service limits (docs/behaviour.md, "Limits"): message and frame sizes close with 1009, binary
// frames with 1003, the idle timer (reset by data frames, not by pings) and the integration
// timeout - all with small configured limits.
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

// A JSON message routed to "echo" that is exactly SIZE bytes long.
std::string echo_message(std::size_t size) {
  std::string m = R"({"action":"echo","pad":")";
  const std::string tail = "\"}";
  m.append(size - m.size() - tail.size(), 'x');
  return m + tail;
}

// The recorder serves $connect, $disconnect and a two-way $default answering "routed".
class LimitsTest : public e2e_test {
 protected:
  void start_with(std::string limits) {
    api_config api;
    api.limits = std::move(limits);
    api.add_route("$connect", "rec")
        .add_route("$disconnect", "rec")
        .add_route("$default", "rec", true)
        .add_route("echo", "echo", true)
        .add_integration("rec", recorder_integration());
    start(api);
    recorder::reply r;
    r.status_code = 200;
    r.body = "routed";
    recorder_->set_reply(r);
  }

  // MESSAGE events of connection ID.
  std::size_t messages_of(const std::string& id) const {
    std::size_t n = 0;
    for (const auto& e : recorder_->events("MESSAGE")) {
      if (e.str("requestContext.connectionId") == id) ++n;
    }
    return n;
  }

  // Expects the server to close with CODE and $disconnect to say CODE and REASON (its standard
  // name), with no message of the connection routed. The close frame's own reason text is not
  // specified for these closes.
  void expect_server_close(ws_client& client, const std::string& id, int code,
                           std::string_view reason) {
    const auto m = client.read();
    EXPECT_EQ(m.type, ws_message::kind::close) << m;
    EXPECT_EQ(m.close_code, code) << m;
    const auto e = recorder_->wait_for_disconnect(id, 5s);
    ASSERT_TRUE(e.has_value()) << "no $disconnect";
    EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), code) << e->text();
    EXPECT_EQ(e->str("requestContext.disconnectReason"), reason) << e->text();
    EXPECT_EQ(messages_of(id), 0u);
  }
};

TEST_F(LimitsTest, MessageOverMaxMessageBytesCloses1009) {
  start_with(R"("maxMessageBytes":1024,"maxFrameBytes":512)");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  // Every frame is small: only the message limit can trip.
  ASSERT_TRUE(client->send_frames(std::string(1025, 'a'), 256));
  expect_server_close(*client, id, 1009, "Message too big");
}

TEST_F(LimitsTest, MessageAtMaxMessageBytesIsRouted) {
  start_with(R"("maxMessageBytes":1024,"maxFrameBytes":512)");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  const std::string body(1024, 'a');
  ASSERT_TRUE(client->send_frames(body, 256));
  EXPECT_TRUE(client->read().is_text("routed"));
  const auto messages = recorder_->events("MESSAGE");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].str("body"), body);
}

TEST_F(LimitsTest, DefaultMessageLimitIs128KiB) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_frames(echo_message(131072), 16384));
  EXPECT_TRUE(client->read().is_text(echo_message(131072)));
  auto second = open();
  ASSERT_TRUE(second);
  const std::string second_id = last_connection_id();
  ASSERT_TRUE(second->send_frames(std::string(131073, 'a'), 16384));
  expect_server_close(*second, second_id, 1009, "Message too big");
  EXPECT_TRUE(client->is_open());
}

TEST_F(LimitsTest, FrameOverDefaultMaxFrameBytesCloses1009) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  ASSERT_TRUE(client->send_text(std::string(40 * 1024, 'a')));  // one 40 KB frame
  expect_server_close(*client, id, 1009, "Message too big");
}

TEST_F(LimitsTest, FrameAtDefaultMaxFrameBytesIsRouted) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_text(std::string(32768, 'a')));  // one frame of exactly 32 KB
  EXPECT_TRUE(client->read().is_text("routed"));
}

TEST_F(LimitsTest, SameMessageInTwoFramesIsRouted) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string msg = echo_message(40 * 1024);
  ASSERT_TRUE(client->send_frames(msg, 20 * 1024));
  const auto m = client->read();
  EXPECT_EQ(m.type, ws_message::kind::text) << m;
  EXPECT_TRUE(m.data == msg) << "echo of " << m.data.size() << " bytes differs";
}

// The session reads the first 256 bytes of a message into a buffer of its own and the rest into
// another: messages on either side of that boundary, in one frame or in several (the first of
// them shorter than the boundary), come back whole.
TEST_F(LimitsTest, MessagesAroundTheFirstReadBoundaryAreWhole) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  for (const std::size_t size : {255u, 256u, 257u, 600u}) {
    for (const std::size_t frame : {size, std::size_t{50}, std::size_t{256}}) {
      const std::string msg = echo_message(size);
      ASSERT_TRUE(client->send_frames(msg, frame));
      const auto m = client->read();
      EXPECT_EQ(m.type, ws_message::kind::text) << m;
      EXPECT_EQ(m.data, msg) << size << " bytes in frames of " << frame;
    }
  }
  // Invalid UTF-8 beyond the first 256 bytes is still found.
  auto second = open();
  ASSERT_TRUE(second);
  std::string bad = echo_message(400);
  bad[300] = '\xff';
  ASSERT_TRUE(second->send_text(bad));
  expect_server_close(*second, last_connection_id(), 1007, "Invalid frame payload data");
}

TEST_F(LimitsTest, ConfiguredMaxFrameBytesIsEnforced) {
  start_with(R"("maxFrameBytes":1000)");
  auto client = open();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_text(std::string(1000, 'a')));
  EXPECT_TRUE(client->read().is_text("routed"));
  const std::string id = last_connection_id();
  ASSERT_TRUE(client->send_text(std::string(1001, 'a')));
  const auto m = client->read();
  EXPECT_EQ(m.type, ws_message::kind::close) << m;
  EXPECT_EQ(m.close_code, 1009) << m;
  const auto e = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), 1009);
  EXPECT_EQ(messages_of(id), 1u);  // only the first message was routed
}

TEST_F(LimitsTest, BinaryFrameCloses1003) {
  start_with("");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  ASSERT_TRUE(client->send_binary(R"({"action":"echo"})"));
  expect_server_close(*client, id, 1003, "Unsupported data");
}

TEST_F(LimitsTest, DataFramesResetTheIdleTimer) {
  start_with(R"("idleTimeoutSeconds":0.3)");
  auto client = open();
  ASSERT_TRUE(client);
  const auto began = steady::now();
  int n = 0;
  while (elapsed_ms(began) < 1000) {
    const std::string msg = R"({"action":"echo","n":)" + std::to_string(n++) + "}";
    ASSERT_TRUE(round_trip(*client, msg, msg)) << "after " << elapsed_ms(began) << " ms";
    const auto pause = client->read(100ms);
    ASSERT_EQ(pause.type, ws_message::kind::timeout) << pause << " after " << elapsed_ms(began) << " ms";
  }
  EXPECT_TRUE(client->is_open());
  EXPECT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
}

TEST_F(LimitsTest, PingsDoNotResetTheIdleTimer) {
  start_with(R"("idleTimeoutSeconds":0.3)");
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();
  const auto began = steady::now();
  ws_message m;
  while (elapsed_ms(began) < 3000) {
    if (!client->ping()) {
      m = client->read();
      break;
    }
    m = client->read(100ms);
    if (m.type != ws_message::kind::timeout) break;
  }
  EXPECT_TRUE(m.is_close(1001, "Going away")) << m;
  EXPECT_LT(elapsed_ms(began), 1000);
  const auto e = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), 1001);
  EXPECT_EQ(e->str("requestContext.disconnectReason"), "Going away");
}

TEST_F(LimitsTest, MessageIntegrationTimeoutSendsEndpointRequestTimedOut) {
  api_config api;
  api.limits = R"("integrationTimeoutMillis":100)";
  api.add_route("$connect", "rec")
      .add_route("slow", "slow", true)
      .add_route("echo", "echo", true)
      .add_integration("rec", recorder_integration())
      .add_integration("slow", builtin("mock", R"({"statusCode":200,"body":"late","delayMillis":1000})"));
  start(api);
  auto client = open();
  ASSERT_TRUE(client);
  const std::string id = last_connection_id();

  const auto began = steady::now();
  ASSERT_TRUE(client->send_text(R"({"action":"slow"})"));
  EXPECT_TRUE(is_error_frame(client->read(), "Endpoint request timed out", id));
  EXPECT_LT(elapsed_ms(began), 800);
  // The connection stays open, and the late result is never sent.
  EXPECT_TRUE(round_trip(*client, R"({"action":"echo"})", R"({"action":"echo"})"));
  const auto late = client->read(1500ms);
  EXPECT_EQ(late.type, ws_message::kind::timeout) << late;
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

// A message and an over-long frame that arrive in one TCP segment: the message before the frame
// is routed (the limit is about the frame, not about what was read with it), then the
// connection is closed with 1009.
TEST_F(LimitsTest, MessageBeforeAnOverLongFrameInTheSameReadIsStillRouted) {
  start_with("");
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(raw.send(upgrade_request("/" + server_->stage(), server_->host_port())));
  ASSERT_EQ(raw.read_http_response().status, 101);
  ASSERT_TRUE(raw.send(masked_frame(ws_opcode::text, R"({"action":"echo","n":1})") +
                       masked_frame(ws_opcode::text, std::string(40 * 1024, 'a'))));
  const auto first = raw.read_frame();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->opcode, ws_opcode::text);
  EXPECT_EQ(first->payload, R"({"action":"echo","n":1})");
  const auto second = raw.read_frame();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->opcode, ws_opcode::close);
  EXPECT_EQ(second->close_code(), 1009);
}

}  // namespace
}  // namespace apigw::e2e
