// The $connect route and the upgrade (docs/behaviour.md): the 101 waits for the
// integration, whose status decides the handshake; subprotocols only from the handler; 426 for
// plain GETs; the query string reaches the event.
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

// $connect runs the recorder; "echo" is a two-way echo.
class ConnectTest : public e2e_test {
 protected:
  void start_with_connect(std::string connect_integration, std::string limits = "") {
    api_config api;
    api.limits = std::move(limits);
    api.add_route("$connect", "connect")
        .add_route("echo", "echo", true)
        .add_integration("connect", std::move(connect_integration));
    start(api);
  }

  handshake_result handshake(connect_options o) {
    ws_client client;
    return client.connect(o);
  }
};

TEST_F(ConnectTest, UpgradeWaitsForTheConnectIntegration) {
  start_with_connect(builtin("mock", R"({"statusCode":200,"delayMillis":400})"));
  const auto began = steady::now();
  ws_client client;
  const auto hs = client.connect(server_->options());
  EXPECT_TRUE(hs.upgraded) << hs.error;
  EXPECT_EQ(hs.status, 101);
  EXPECT_GE(elapsed_ms(began), 380);
}

TEST_F(ConnectTest, SuccessOrNoStatusCodeAccepts) {
  start_with_connect(recorder_integration());
  const std::optional<int> statuses[] = {std::nullopt, 200, 201, 204, 299};
  for (const auto& status : statuses) {
    SCOPED_TRACE(status ? std::to_string(*status) : "no statusCode");
    recorder::reply r;
    r.status_code = status;
    recorder_->set_reply(r);
    ws_client client;
    const auto hs = client.connect(server_->options());
    EXPECT_TRUE(hs.upgraded) << hs.error;
    EXPECT_EQ(hs.status, 101);
    if (hs.upgraded) {
      EXPECT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
    }
  }
}

TEST_F(ConnectTest, NonSuccessStatusRefusesTheHandshakeWithThatStatusAndNoBody) {
  start_with_connect(recorder_integration());
  for (int status : {400, 401, 403, 404, 429, 500, 503}) {
    SCOPED_TRACE(status);
    recorder::reply r;
    r.status_code = status;
    r.body = "handler body must not be sent";
    r.headers = {{"X-Handler", "no"}};
    recorder_->set_reply(r);
    const auto hs = handshake(server_->options());
    EXPECT_FALSE(hs.upgraded);
    EXPECT_EQ(hs.status, status);
    EXPECT_EQ(hs.body, "");
    EXPECT_FALSE(hs.header("X-Handler").has_value());
  }
}

// The 101 carries the handshake's fields and nothing else: no server banner (Beast adds one of
// its own, which the emulator leaves out), a subprotocol only when $connect chose one. A refused
// handshake carries no banner either.
TEST_F(ConnectTest, TheHandshakesAnswersCarryOnlyWhatApiGatewaysDo) {
  start_with_connect(recorder_integration());
  const auto field_names = [](const handshake_result& hs) {
    std::vector<std::string> names;
    for (const auto& [name, value] : hs.headers) {
      std::string lower;
      for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      names.push_back(lower);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  recorder_->set_reply(recorder::reply{});
  const auto accepted = handshake(server_->options());
  ASSERT_TRUE(accepted.upgraded) << accepted.error;
  EXPECT_EQ(field_names(accepted), (std::vector<std::string>{"connection", "sec-websocket-accept", "upgrade"}));

  recorder::reply refuse;
  refuse.status_code = 403;
  recorder_->set_reply(refuse);
  const auto refused = handshake(server_->options());
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(refused.header("Server").has_value());
}

TEST_F(ConnectTest, ThrowingConnectIntegrationGives502) {
  start_with_connect(recorder_integration());
  recorder::reply r;
  r.throw_message = "connect fails";
  recorder_->set_reply(r);
  const auto hs = handshake(server_->options());
  EXPECT_FALSE(hs.upgraded);
  EXPECT_EQ(hs.status, 502);
}

TEST_F(ConnectTest, ThrowingBlockingConnectIntegrationGives502) {
  start_with_connect(builtin("mock", R"({"throw":"slow failure","delayMillis":20})"));
  const auto hs = handshake(server_->options());
  EXPECT_FALSE(hs.upgraded);
  EXPECT_EQ(hs.status, 502);
}

TEST_F(ConnectTest, ConnectIntegrationTimeoutGives504) {
  start_with_connect(builtin("mock", R"({"statusCode":200,"delayMillis":1500})"),
                     R"("integrationTimeoutMillis":100)");
  const auto began = steady::now();
  const auto hs = handshake(server_->options());
  EXPECT_FALSE(hs.upgraded);
  EXPECT_EQ(hs.status, 504);
  EXPECT_LT(elapsed_ms(began), 1200);
}

// A $connect handler still running on the worker pool when the server stops must not make
// stop() wait out its whole grace period (the handler here ends 1.5 s after it started).
TEST_F(ConnectTest, StopIsPromptWhileATimedOutConnectIntegrationStillRuns) {
  start_with_connect(builtin("mock", R"({"statusCode":200,"delayMillis":1500})"),
                     R"("integrationTimeoutMillis":100)");
  EXPECT_EQ(handshake(server_->options()).status, 504);
  const auto began = steady::now();
  server_->stop();
  EXPECT_LT(elapsed_ms(began), 3000);
}

TEST_F(ConnectTest, SubprotocolIsNotChosenWhenTheHandlerReturnsNone) {
  start_with_connect(recorder_integration());
  auto o = server_->options();
  o.subprotocols = {"chat"};
  const auto hs = handshake(o);
  EXPECT_TRUE(hs.upgraded) << hs.error;  // the server sends 101...
  EXPECT_FALSE(hs.subprotocol.has_value()) << *hs.subprotocol;
  EXPECT_FALSE(browser_accepts(hs, o.subprotocols));  // ...and a browser fails its handshake
  // The handler saw what the client offered.
  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(field_of(connects[0], "headers", "Sec-WebSocket-Protocol"), "chat");
}

TEST_F(ConnectTest, SubprotocolAndOnlyItIsCopiedFromTheHandler) {
  start_with_connect(recorder_integration());
  recorder::reply r;
  r.status_code = 200;
  r.body = "not in the 101";
  r.headers = {{"Sec-WebSocket-Protocol", "superchat"}, {"X-Extra", "1"}};
  recorder_->set_reply(r);
  auto o = server_->options();
  o.subprotocols = {"chat", "superchat"};
  ws_client client;
  const auto hs = client.connect(o);
  EXPECT_TRUE(hs.upgraded) << hs.error;
  EXPECT_EQ(hs.subprotocol, "superchat");
  EXPECT_TRUE(browser_accepts(hs, o.subprotocols));
  EXPECT_FALSE(hs.header("X-Extra").has_value());
  EXPECT_EQ(hs.body, "");
  EXPECT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
}

TEST_F(ConnectTest, NoConnectRouteAcceptsAndPicksNoSubprotocol) {
  api_config api;
  api.add_route("echo", "echo", true);
  start(api);
  auto o = server_->options();
  o.subprotocols = {"chat"};
  ws_client client;
  const auto hs = client.connect(o);
  EXPECT_TRUE(hs.upgraded) << hs.error;
  EXPECT_EQ(hs.status, 101);
  EXPECT_FALSE(hs.subprotocol.has_value());
  EXPECT_TRUE(round_trip(client, R"({"action":"echo","x":1})", R"({"action":"echo","x":1})"));
}

TEST_F(ConnectTest, StageAndRootPathsBothAcceptWebSockets) {
  start_with_connect(recorder_integration());
  for (const std::string& target : {"/" + server_->stage(), std::string("/")}) {
    SCOPED_TRACE(target);
    ws_client client;
    const auto hs = client.connect(server_->options(target));
    EXPECT_TRUE(hs.upgraded) << hs.error;
    if (hs.upgraded) {
      EXPECT_TRUE(round_trip(client, R"({"action":"echo"})", R"({"action":"echo"})"));
    }
  }
  EXPECT_EQ(recorder_->events("CONNECT").size(), 2u);
}

TEST_F(ConnectTest, PlainGetWithoutUpgradeGets426) {
  start_with_connect(recorder_integration());
  for (const std::string& request : {"GET /" + server_->stage(), "GET /" + server_->stage() + "/", std::string("POST /")}) {
    SCOPED_TRACE(request);
    raw_connection raw;
    ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
    ASSERT_TRUE(raw.send(request + " HTTP/1.1\r\nHost: " + server_->host_port() + "\r\nContent-Length: 0\r\n\r\n"));
    const auto res = raw.read_http_response();
    EXPECT_EQ(res.status, 426);
    EXPECT_EQ(res.body, "Upgrade Required");
  }
  // A plain GET is no connection: $connect never ran.
  EXPECT_EQ(recorder_->events("CONNECT").size(), 0u);
}

// The root path is a WebSocket path too, but a browser's plain GET there gets the lab's chat page.
TEST_F(ConnectTest, PlainGetOnTheRootServesTheChatPage) {
  start_with_connect(recorder_integration());
  raw_connection raw;
  ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
  ASSERT_TRUE(raw.send("GET / HTTP/1.1\r\nHost: " + server_->host_port() + "\r\n\r\n"));
  const auto res = raw.read_http_response();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body.rfind("<!doctype html>", 0), 0u) << res.body.substr(0, 80);
  EXPECT_EQ(recorder_->events("CONNECT").size(), 0u);
}

TEST_F(ConnectTest, QueryStringReachesTheConnectEvent) {
  start_with_connect(recorder_integration());
  auto c = open("/" + server_->stage() + "?name=ann&room=r1&room=r2");
  ASSERT_TRUE(c);
  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  const auto& e = connects[0];
  EXPECT_EQ(e.str("queryStringParameters.name"), "ann");
  EXPECT_TRUE(e.str("queryStringParameters.room").has_value()) << e.text();
  EXPECT_EQ(e.strings("multiValueQueryStringParameters.name"), std::vector<std::string>{"ann"});
  EXPECT_EQ(e.strings("multiValueQueryStringParameters.room"), (std::vector<std::string>{"r1", "r2"}));
}

TEST_F(ConnectTest, QueryParametersAreAbsentWithoutAQuery) {
  start_with_connect(recorder_integration());
  auto c = open();
  ASSERT_TRUE(c);
  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_FALSE(connects[0].has("queryStringParameters")) << connects[0].text();
  EXPECT_FALSE(connects[0].has("multiValueQueryStringParameters")) << connects[0].text();
}

}  // namespace
}  // namespace apigw::e2e

namespace apigw::e2e {
namespace {

class HandshakeTest : public e2e_test {};

// A request no WebSocket server accepts is refused before $connect: neither $connect nor
// $disconnect runs for it.
TEST_F(HandshakeTest, InvalidHandshakeRunsNeitherConnectNorDisconnect) {
  api_config api;
  api.add_route("$connect", "rec").add_route("$disconnect", "rec").add_integration("rec", recorder_integration());
  start(api);
  const std::string head = "GET /" + server_->stage() + " HTTP/1.1\r\nHost: " + server_->host_port() +
                           "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n";
  struct row {
    std::string request;
    int status;
  } rows[] = {
      {head + "Sec-WebSocket-Version: 13\r\n\r\n", 400},                                    // no key
      {head + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", 426},
  };
  for (const auto& r : rows) {
    raw_connection raw;
    ASSERT_TRUE(raw.connect("127.0.0.1", server_->port()));
    ASSERT_TRUE(raw.send(r.request));
    EXPECT_EQ(raw.read_http_response().status, r.status);
  }
  EXPECT_FALSE(recorder_->wait_for(1, std::chrono::milliseconds(300)));
  EXPECT_TRUE(recorder_->events().empty());
}

}  // namespace
}  // namespace apigw::e2e
