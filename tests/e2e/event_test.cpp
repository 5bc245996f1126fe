// The event handlers receive (docs/behaviour.md, "The event a handler receives"): every
// requestContext field with its type and format, and the top-level keys of CONNECT, MESSAGE and
// DISCONNECT events.
#include "tests/e2e/e2e_common.hpp"

#include <atomic>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <set>

namespace apigw::e2e {
namespace {

long long now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// dd/MMM/yyyy:HH:mm:ss +0000 for EPOCH_SECONDS (English month names, UTC).
std::string aws_request_time(long long epoch_seconds) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

struct expected_context {
  std::string event_type;
  std::string route_key;
  std::string connection_id;  // "" on the first event: only the format is checked
  std::string domain_name;
  std::optional<std::string> user_agent;
  long long before_ms;  // the event happened between these two instants
  long long after_ms;
};

// Checks the requestContext every event carries.
void expect_request_context(const json_doc& e, const expected_context& x) {
  SCOPED_TRACE(e.text());
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e.at("requestContext") && e.at("requestContext")->IsObject());
  EXPECT_EQ(e.str("requestContext.eventType"), x.event_type);
  EXPECT_EQ(e.str("requestContext.routeKey"), x.route_key);
  EXPECT_EQ(e.str("requestContext.messageDirection"), "IN");
  EXPECT_EQ(e.str("requestContext.stage"), "dev");
  EXPECT_EQ(e.str("requestContext.apiId"), "e2eapi0001");
  EXPECT_EQ(e.str("requestContext.domainName"), x.domain_name);

  const auto connection_id = e.str("requestContext.connectionId").value_or("");
  EXPECT_TRUE(is_id(connection_id)) << connection_id;
  if (!x.connection_id.empty()) {
    EXPECT_EQ(connection_id, x.connection_id);
  }
  const auto request_id = e.str("requestContext.requestId").value_or("");
  EXPECT_TRUE(is_id(request_id)) << request_id;
  EXPECT_EQ(e.str("requestContext.extendedRequestId"), request_id);

  const auto epoch = e.int64("requestContext.requestTimeEpoch");
  ASSERT_TRUE(epoch.has_value()) << "requestTimeEpoch is not an integer";
  EXPECT_GE(*epoch, x.before_ms - 1000);
  EXPECT_LE(*epoch, x.after_ms + 1000);
  const auto connected_at = e.int64("requestContext.connectedAt");
  ASSERT_TRUE(connected_at.has_value()) << "connectedAt is not an integer";
  EXPECT_LE(*connected_at, *epoch);
  EXPECT_GT(*connected_at, x.before_ms - 60000);

  const auto request_time = e.str("requestContext.requestTime").value_or("");
  static const std::regex time_re(
      R"(^\d{2}/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/\d{4}:\d{2}:\d{2}:\d{2} \+0000$)");
  EXPECT_TRUE(std::regex_match(request_time, time_re)) << request_time;
  // The same instant as requestTimeEpoch (to the second, in UTC).
  const long long seconds = *epoch / 1000;
  EXPECT_TRUE(request_time == aws_request_time(seconds) || request_time == aws_request_time(seconds - 1) ||
              request_time == aws_request_time(seconds + 1))
      << request_time << " vs epoch " << *epoch << " = " << aws_request_time(seconds);

  EXPECT_EQ(e.str("requestContext.identity.sourceIp"), "127.0.0.1");
  if (x.user_agent) {
    EXPECT_EQ(e.str("requestContext.identity.userAgent"), *x.user_agent);
  } else {
    EXPECT_FALSE(e.has("requestContext.identity.userAgent"));
  }

  if (x.event_type == "MESSAGE") {
    const auto message_id = e.str("requestContext.messageId").value_or("");
    EXPECT_TRUE(is_id(message_id)) << message_id;
  } else {
    EXPECT_FALSE(e.has("requestContext.messageId"));
  }
  if (x.event_type == "DISCONNECT") {
    EXPECT_TRUE(e.int64("requestContext.disconnectStatusCode").has_value());
    EXPECT_TRUE(e.str("requestContext.disconnectReason").has_value());
  } else {
    EXPECT_FALSE(e.has("requestContext.disconnectStatusCode"));
    EXPECT_FALSE(e.has("requestContext.disconnectReason"));
  }
  EXPECT_EQ(e.boolean("isBase64Encoded"), false);
}

class EventTest : public e2e_test {
 protected:
  void start_with_stage(std::string stage) {
    api_config api;
    api.stage = std::move(stage);
    api.add_route("$connect", "rec")
        .add_route("$disconnect", "rec")
        .add_route("whoami", "inspect", true)
        .add_route("$default", "inspect", true)
        .add_integration("rec", recorder_integration());
    start(api);
  }

  // Sends a whoami message and returns the MESSAGE event inspect sent back.
  json_doc whoami(ws_client& client, const std::string& text) {
    if (!client.send_text(text)) return json_doc();
    const auto m = client.read();
    if (m.type != ws_message::kind::text) {
      ADD_FAILURE() << "no inspect reply: " << m;
      return json_doc();
    }
    return json_doc(m.data);
  }
};

TEST_F(EventTest, ConnectMessageAndDisconnectEventsCarryEveryField) {
  start_with_stage(R"({"name":"dev","variables":{"env":"local","color":"blue"}})");
  const long long before = now_epoch_ms();
  auto client = open("/dev?a=1&b=2&b=3",
                     {{"User-Agent", "e2e-agent/1.0"}, {"X-Custom", "v1"}, {"X-Multi", "m1"}, {"X-Multi", "m2"}});
  ASSERT_TRUE(client);
  const std::string text = R"({"action":"whoami","data":"hi"})";
  const auto message = whoami(*client, text);
  const auto message2 = whoami(*client, text);
  ASSERT_EQ(client->close(1000, "bye").type, ws_message::kind::close);
  const std::string host = server_->host_port();

  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  const auto& connect = connects[0];
  const std::string id = connect.str("requestContext.connectionId").value_or("");
  const auto disconnect_event = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(disconnect_event.has_value());
  const auto& disconnect = *disconnect_event;
  const long long after = now_epoch_ms();

  expected_context x{"CONNECT", "$connect", "", host, "e2e-agent/1.0", before, after};
  expect_request_context(connect, x);
  x.event_type = "MESSAGE";
  x.route_key = "whoami";
  x.connection_id = id;
  expect_request_context(message, x);
  expect_request_context(message2, x);
  x.event_type = "DISCONNECT";
  x.route_key = "$disconnect";
  expect_request_context(disconnect, x);

  // One connection: one connectedAt; every event its own request id; every message its own id.
  const auto connected_at = connect.int64("requestContext.connectedAt");
  EXPECT_EQ(message.int64("requestContext.connectedAt"), connected_at);
  EXPECT_EQ(disconnect.int64("requestContext.connectedAt"), connected_at);
  const std::set<std::string> request_ids = {
      connect.str("requestContext.requestId").value_or("1"), message.str("requestContext.requestId").value_or("2"),
      message2.str("requestContext.requestId").value_or("3"), disconnect.str("requestContext.requestId").value_or("4")};
  EXPECT_EQ(request_ids.size(), 4u);
  EXPECT_NE(message.str("requestContext.messageId"), message2.str("requestContext.messageId"));
  EXPECT_NE(message.str("requestContext.messageId"), message.str("requestContext.requestId"));

  {
    SCOPED_TRACE(connect.text());
    // The handshake's headers less Connection and Upgrade, plus the X-Forwarded-* trio.
    EXPECT_EQ(field_of(connect, "headers", "Host"), host);
    EXPECT_EQ(field_of(connect, "headers", "User-Agent"), "e2e-agent/1.0");
    EXPECT_EQ(field_of(connect, "headers", "X-Custom"), "v1");
    EXPECT_EQ(field_of(connect, "headers", "Sec-WebSocket-Version"), "13");
    EXPECT_TRUE(has_field(connect, "headers", "Sec-WebSocket-Key"));
    EXPECT_FALSE(has_field(connect, "headers", "Connection"));
    EXPECT_FALSE(has_field(connect, "headers", "Upgrade"));
    EXPECT_EQ(connect.str("headers.X-Forwarded-For"), "127.0.0.1");
    EXPECT_EQ(connect.str("headers.X-Forwarded-Port"), std::to_string(server_->port()));
    EXPECT_EQ(connect.str("headers.X-Forwarded-Proto"), "http");
    // multiValueHeaders: the same names, every value.
    auto header_names = connect.keys("headers");
    auto multi_names = connect.keys("multiValueHeaders");
    std::sort(header_names.begin(), header_names.end());
    std::sort(multi_names.begin(), multi_names.end());
    EXPECT_EQ(header_names, multi_names);
    EXPECT_EQ(connect.strings("multiValueHeaders.X-Forwarded-For"), std::vector<std::string>{"127.0.0.1"});
    for (const auto& name : connect.keys("multiValueHeaders")) {
      if (iequals(name, "X-Multi")) {
        EXPECT_EQ(connect.strings("multiValueHeaders." + name), (std::vector<std::string>{"m1", "m2"}));
      }
      if (iequals(name, "X-Custom")) {
        EXPECT_EQ(connect.strings("multiValueHeaders." + name), std::vector<std::string>{"v1"});
      }
    }
    EXPECT_TRUE(has_field(connect, "multiValueHeaders", "X-Multi"));
    EXPECT_EQ(connect.str("queryStringParameters.a"), "1");
    EXPECT_EQ(connect.strings("multiValueQueryStringParameters.b"), (std::vector<std::string>{"2", "3"}));
    EXPECT_FALSE(connect.has("body"));
    EXPECT_EQ(connect.str("stageVariables.env"), "local");
    EXPECT_EQ(connect.str("stageVariables.color"), "blue");
  }
  {
    SCOPED_TRACE(message.text());
    EXPECT_EQ(message.str("body"), text);
    EXPECT_FALSE(message.has("headers"));
    EXPECT_FALSE(message.has("multiValueHeaders"));
    EXPECT_FALSE(message.has("queryStringParameters"));
    EXPECT_FALSE(message.has("multiValueQueryStringParameters"));
    EXPECT_EQ(message.str("stageVariables.env"), "local");
    EXPECT_EQ(message.str("stageVariables.color"), "blue");
  }
  {
    SCOPED_TRACE(disconnect.text());
    auto names = disconnect.keys("headers");
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"Host", "X-Forwarded-For", "x-api-key", "x-restapi"}));
    EXPECT_EQ(disconnect.str("headers.Host"), host);
    EXPECT_EQ(disconnect.str("headers.x-api-key"), "");
    EXPECT_EQ(disconnect.str("headers.X-Forwarded-For"), "");
    EXPECT_EQ(disconnect.str("headers.x-restapi"), "");
    EXPECT_EQ(disconnect.strings("multiValueHeaders.Host"), std::vector<std::string>{host});
    EXPECT_EQ(disconnect.strings("multiValueHeaders.x-api-key"), std::vector<std::string>{""});
    EXPECT_EQ(disconnect.int64("requestContext.disconnectStatusCode"), 1000);
    EXPECT_EQ(disconnect.str("requestContext.disconnectReason"), "bye");
    EXPECT_FALSE(disconnect.has("body"));
    EXPECT_FALSE(disconnect.has("queryStringParameters"));
    EXPECT_FALSE(disconnect.has("multiValueQueryStringParameters"));
    EXPECT_EQ(disconnect.str("stageVariables.env"), "local");
  }
}

TEST_F(EventTest, OptionalFieldsAreAbsentWhenThereIsNothingToCarry) {
  start_with_stage(R"({"name":"dev"})");
  const long long before = now_epoch_ms();
  auto client = open();  // no query, no User-Agent
  ASSERT_TRUE(client);
  const auto message = whoami(*client, R"({"action":"whoami"})");
  client->close(1000, "");
  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  const std::string id = connects[0].str("requestContext.connectionId").value_or("");
  const auto disconnect = recorder_->wait_for_disconnect(id, 5s);
  ASSERT_TRUE(disconnect.has_value());
  const long long after = now_epoch_ms();

  expected_context x{"CONNECT", "$connect", id, server_->host_port(), std::nullopt, before, after};
  expect_request_context(connects[0], x);
  x.event_type = "MESSAGE";
  x.route_key = "whoami";
  expect_request_context(message, x);
  x.event_type = "DISCONNECT";
  x.route_key = "$disconnect";
  expect_request_context(*disconnect, x);

  for (const json_doc* e : {&connects[0], &message, &*disconnect}) {
    SCOPED_TRACE(e->text());
    EXPECT_FALSE(e->has("stageVariables"));
    EXPECT_FALSE(e->has("queryStringParameters"));
    EXPECT_FALSE(e->has("multiValueQueryStringParameters"));
  }
  EXPECT_FALSE(has_field(connects[0], "headers", "User-Agent"));
}

TEST_F(EventTest, DomainNameIsTheHostHeaderOfTheHandshake) {
  start_with_stage(R"({"name":"dev"})");
  auto o = server_->options();
  o.host_header = "localhost:" + std::to_string(server_->port());
  auto client = open_with(o);
  ASSERT_TRUE(client);
  const auto message = whoami(*client, R"({"action":"whoami"})");
  EXPECT_EQ(message.str("requestContext.domainName"), *o.host_header) << message.text();
  const auto connects = recorder_->events("CONNECT");
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(connects[0].str("requestContext.domainName"), *o.host_header);

  auto other = o;
  other.host_header = "example.test:9999";
  auto second = open_with(other);
  ASSERT_TRUE(second);
  const auto message2 = whoami(*second, R"({"action":"whoami"})");
  EXPECT_EQ(message2.str("requestContext.domainName"), "example.test:9999") << message2.text();
}

TEST_F(EventTest, FallbackMessageEventHasRouteKeyDefault) {
  start_with_stage(R"({"name":"dev"})");
  auto client = open();
  ASSERT_TRUE(client);
  const auto message = whoami(*client, "plain text");
  EXPECT_EQ(message.str("requestContext.routeKey"), "$default") << message.text();
  EXPECT_EQ(message.str("requestContext.eventType"), "MESSAGE");
  EXPECT_EQ(message.str("body"), "plain text");
}

TEST_F(EventTest, ConnectionIdsAreDistinctPerConnection) {
  start_with_stage(R"({"name":"dev"})");
  std::set<std::string> ids;
  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(open());
    ASSERT_TRUE(clients.back());
    const auto message = whoami(*clients.back(), R"({"action":"whoami"})");
    const auto id = message.str("requestContext.connectionId").value_or("");
    EXPECT_TRUE(is_id(id)) << id;
    EXPECT_EQ(id, last_connection_id());
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 5u);
}

// A handler that checks that every string of the event it gets (names and values) is a C string,
// as RapidJSON promises: GetString() ends where GetStringLength() says, so that a handler may
// write std::string(v.GetString()) or parse the body from it. Answers "checked", and keeps the
// paths of the strings that are not.
class c_string_checker final : public apigw::handler {
 public:
  explicit c_string_checker(bool may_block) : may_block_(may_block) {}

  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context&) override {
    check(event, "");
    ++calls;
    apigw::handler_result r;
    r.status_code = 200;
    r.body = "checked";
    return r;
  }
  bool may_block() const override { return may_block_; }

  std::vector<std::string> not_c_strings() const {
    std::lock_guard lock(mutex_);
    return bad_;
  }
  std::atomic<int> calls{0};

 private:
  void check(const rapidjson::Value& v, const std::string& path) {
    if (v.IsString() && std::strlen(v.GetString()) != v.GetStringLength()) {
      std::lock_guard lock(mutex_);
      bad_.push_back(path + " (" + std::to_string(v.GetStringLength()) + " characters, " +
                     std::to_string(std::strlen(v.GetString())) + " before a NUL)");
    }
    if (v.IsArray()) {
      for (rapidjson::SizeType i = 0; i < v.Size(); ++i) check(v[i], path + "[" + std::to_string(i) + "]");
    }
    if (v.IsObject()) {
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        const std::string name(m->name.GetString(), m->name.GetStringLength());
        check(m->name, path + "." + name + " (the name)");
        check(m->value, path + "." + name);
      }
    }
  }

  const bool may_block_;
  mutable std::mutex mutex_;
  std::vector<std::string> bad_;
};

// Every string of every event an in-process handler reads is a C string: the ids, the body (a
// short message after a longer one, whose bytes are still in the buffers behind it), the
// disconnect reason; for a handler answering on the connection's thread and one on the pool.
TEST(EventStringsTest, EveryStringAnInProcessHandlerReadsIsACString) {
  for (const bool may_block : {false, true}) {
    SCOPED_TRACE(may_block ? "a handler on the worker pool" : "a handler answering in place");
    auto checker = std::make_shared<c_string_checker>(may_block);
    api_config api;
    api.add_route("$connect", "check").add_route("$disconnect", "check").add_route("$default", "check", true)
        .add_integration("check", builtin("checker"));
    test_server server(api.json(), {{"checker", checker}}, 2);
    ws_client client;
    ASSERT_TRUE(client.connect(server.options("")).upgraded);
    const std::string longer = R"({"action":"longer","data":")" + std::string(200, 'x') + R"("})";
    const std::string longest = R"({"action":"longest","data":")" + std::string(3000, 'y') + R"("})";
    for (const std::string& m : {longer, std::string(R"({"action":"short"})"), longest,
                                 std::string(R"({"a":1})"), std::string("plain text")}) {
      ASSERT_TRUE(client.send_text(m));
      ASSERT_TRUE(client.read().is_text("checked")) << m.substr(0, 40);
    }
    client.close(4000, "a reason of the client's");
    for (int i = 0; i < 500 && checker->calls.load() < 7; ++i) std::this_thread::sleep_for(10ms);  // $disconnect
    ASSERT_EQ(checker->calls.load(), 7);
    EXPECT_EQ(checker->not_c_strings(), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace apigw::e2e
