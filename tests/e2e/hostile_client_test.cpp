// Hostile clients (issue: "never crash the server or affect other connections"): garbage
// handshakes, oversized headers, half-open sockets, invalid UTF-8, broken frames. After each,
// another client still connects and echoes.
#include <initializer_list>
#include <thread>

#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

class HostileClientTest : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("$connect", "rec")
        .add_route("$disconnect", "rec")
        .add_route("echo", "echo", true)
        .add_route("$default", "rec")
        .add_integration("rec", recorder_integration());
    start(api);
  }

  ::testing::AssertionResult server_is_healthy() {
    ws_client client;
    const auto hs = client.connect(server_->options());
    if (!hs.upgraded) return ::testing::AssertionFailure() << "upgrade failed: " << hs.status << " " << hs.error;
    return round_trip(client, R"({"action":"echo","ok":true})", R"({"action":"echo","ok":true})");
  }

  // A raw connection that completed the WebSocket upgrade.
  std::unique_ptr<raw_connection> raw_websocket() {
    auto raw = std::make_unique<raw_connection>();
    if (!raw->connect("127.0.0.1", server_->port()) ||
        !raw->send(upgrade_request("/" + server_->stage(), server_->host_port()))) {
      ADD_FAILURE() << "raw connect failed";
      return nullptr;
    }
    const auto res = raw->read_http_response();
    if (res.status != 101) {
      ADD_FAILURE() << "raw upgrade got " << res.status;
      return nullptr;
    }
    return raw;
  }

  // Answers the server's close frame as a well-behaved client would, and closes the socket.
  static void answer_close(raw_connection& raw, const ws_frame& server_close) {
    raw.send(masked_frame(ws_opcode::close, server_close.payload.substr(0, 2)));
    raw.wait_for_close(2s);
    raw.close();
  }

  std::size_t messages() const { return recorder_->events("MESSAGE").size(); }
};

TEST_F(HostileClientTest, GarbageInsteadOfAHandshakeIsDropped) {
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  // A TLS ClientHello-like prefix, control bytes, then an end of "headers".
  std::string garbage("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  garbage += " \x01\x02 garbage\r\n\r\n";
  ASSERT_TRUE(raw.send(garbage));
  const auto res = raw.read_http_response();
  EXPECT_TRUE(res.status == 0 || res.status == 400) << res.status;
  EXPECT_TRUE(raw.wait_for_close(5s)) << "the server kept a garbage connection open";
  EXPECT_TRUE(server_is_healthy());
}

TEST_F(HostileClientTest, OversizedHeadersAreRefused) {
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  const std::string big = "X-Big: " + std::string(64 * 1024, 'a') + "\r\n";
  raw.send(upgrade_request("/" + server_->stage(), server_->host_port(), big));  // may fail midway
  const auto res = raw.read_http_response();
  EXPECT_NE(res.status, 101);
  EXPECT_TRUE(res.status == 0 || res.status >= 400) << res.status;
  EXPECT_TRUE(raw.wait_for_close(5s));
  EXPECT_EQ(recorder_->events("CONNECT").size(), 0u);
  EXPECT_TRUE(server_is_healthy());
}

TEST_F(HostileClientTest, HalfOpenAndSilentSocketsDoNotBlockOthers) {
  std::vector<std::unique_ptr<raw_connection>> idle;
  for (int i = 0; i < 20; ++i) {
    auto raw = std::make_unique<raw_connection>();
    ASSERT_TRUE(raw->connect("127.0.0.1", server_->port()));
    if (i % 2 == 0) {
      // Half a request line and headers, never finished.
      ASSERT_TRUE(raw->send("GET /" + server_->stage() + " HTTP/1.1\r\nHost: x\r\nUpgrade: websock"));
    }
    idle.push_back(std::move(raw));
  }
  // An upgraded connection that sends half a frame header, and one that never sends anything.
  auto half_frame = raw_websocket();
  ASSERT_TRUE(half_frame);
  ASSERT_TRUE(half_frame->send(std::string("\x81\xfe", 2)));
  auto silent = open();
  ASSERT_TRUE(silent);

  const auto began = steady::now();
  EXPECT_TRUE(server_is_healthy());
  EXPECT_TRUE(server_is_healthy());
  EXPECT_LT(elapsed_ms(began), 2000);
}

TEST_F(HostileClientTest, InvalidUtf8TextFrameClosesWith1007) {
  auto raw = raw_websocket();
  ASSERT_TRUE(raw);
  const std::string id = last_connection_id();
  ASSERT_TRUE(raw->send(masked_frame(ws_opcode::text, "\xc3\x28 bad \xff")));
  const auto frame = raw->read_frame();
  ASSERT_TRUE(frame.has_value()) << "no close frame";
  EXPECT_EQ(frame->opcode, ws_opcode::close);
  EXPECT_EQ(frame->close_code(), 1007);
  answer_close(*raw, *frame);
  const auto e = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), 1007) << e->text();
  EXPECT_EQ(e->str("requestContext.disconnectReason"), "Invalid frame payload data") << e->text();
  EXPECT_EQ(messages(), 0u);
  EXPECT_TRUE(server_is_healthy());
}

TEST_F(HostileClientTest, UnmaskedClientFrameEndsTheConnection) {
  auto raw = raw_websocket();
  ASSERT_TRUE(raw);
  const std::string id = last_connection_id();
  ASSERT_TRUE(raw->send(std::string("\x81\x05hello", 7)));  // RFC 6455: clients must mask
  const auto frame = raw->read_frame();
  if (frame) {
    EXPECT_EQ(frame->opcode, ws_opcode::close);
    EXPECT_EQ(frame->close_code(), 1002);
    answer_close(*raw, *frame);
  }
  EXPECT_TRUE(recorder_->wait_for_disconnect(id, 5s).has_value());
  EXPECT_EQ(messages(), 0u);
  EXPECT_TRUE(server_is_healthy());
}

TEST_F(HostileClientTest, FrameHeaderClaimingAHugeLengthCloses1009AtOnce) {
  auto raw = raw_websocket();
  ASSERT_TRUE(raw);
  const std::string id = last_connection_id();
  // A masked text frame header announcing 2^40 bytes; the payload never comes.
  std::string header = "\x81\xff";
  header += std::string("\x00\x00\x01\x00\x00\x00\x00\x00", 8);
  header += "\x01\x02\x03\x04";
  ASSERT_TRUE(raw->send(header));
  const auto frame = raw->read_frame();
  ASSERT_TRUE(frame.has_value()) << "the server waited for the payload";
  EXPECT_EQ(frame->opcode, ws_opcode::close);
  EXPECT_EQ(frame->close_code(), 1009);
  EXPECT_TRUE(server_is_healthy());
}

// Frame sizes are read from the headers as they pass; a header that arrives in pieces, split
// between reads, is measured the same as one read whole.
TEST_F(HostileClientTest, AFrameHeaderArrivingInPiecesIsMeasuredWhole) {
  auto raw = raw_websocket();
  ASSERT_TRUE(raw);
  const std::string id = last_connection_id();
  const auto send_in_pieces = [&](const std::string& frame, std::initializer_list<std::size_t> cuts) {
    std::size_t at = 0;
    for (const std::size_t cut : cuts) {
      if (!raw->send(frame.substr(at, cut - at))) return false;
      at = cut;
      std::this_thread::sleep_for(30ms);
    }
    return raw->send(frame.substr(at));
  };
  const std::string small = R"({"action":"echo","pieces":true})";
  ASSERT_TRUE(send_in_pieces(masked_frame(ws_opcode::text, small), {1, 3}));
  const auto echoed = raw->read_frame();
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->payload, small);
  // 40 KB in one frame, over the 32 KB frame limit: the 2-byte length and the mask come apart.
  std::string big = R"({"action":"echo","d":")" + std::string(40 * 1024, 'x') + R"("})";
  ASSERT_TRUE(send_in_pieces(masked_frame(ws_opcode::text, big), {1, 3, 5, 7}));
  const auto frame = raw->read_frame();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, ws_opcode::close);
  EXPECT_EQ(frame->close_code(), 1009);
  answer_close(*raw, *frame);
  EXPECT_TRUE(recorder_->wait_for_disconnect(id, 5s).has_value());
  EXPECT_TRUE(server_is_healthy());
}

TEST_F(HostileClientTest, ClientThatVanishesMidMessageIsCleanedUp) {
  auto raw = raw_websocket();
  ASSERT_TRUE(raw);
  const std::string id = last_connection_id();
  // The first frame of a fragmented message, then the socket is gone.
  ASSERT_TRUE(raw->send(masked_frame(ws_opcode::text, R"({"action":)", false)));
  raw->close();
  const auto e = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->int64("requestContext.disconnectStatusCode"), 1006);
  EXPECT_EQ(messages(), 0u);
  EXPECT_TRUE(server_is_healthy());
}

}  // namespace
}  // namespace apigw::e2e
