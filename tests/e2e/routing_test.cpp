// Route selection end to end (docs/route-selection.md): which route a message reaches, seen
// through two-way mock routes whose bodies name them.
#include "tests/e2e/e2e_common.hpp"

namespace apigw::e2e {
namespace {

constexpr const char* chat_join = R"({"service":"chat","action":"join","data":{"room":"r1"}})";

struct selection_case {
  const char* name;
  std::string expression;
  std::string message;
  std::string expected_route;  // "$default" when the message must fall back
};

// Routes: the expected one (unless $default), decoys that a wrong evaluation would hit, and a
// $default; each two-way mock answers "hit:<its key>".
api_config selection_api(const selection_case& c) {
  api_config api;
  api.expression = c.expression;
  std::vector<std::string> keys = {"join", "chat", "r1", "action", "b"};
  if (c.expected_route != "$default") keys.push_back(c.expected_route);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  keys.push_back("$default");
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string integration = "m" + std::to_string(i);
    api.add_route(keys[i], integration, true);
    api.add_integration(integration, builtin("mock", "{\"body\":" + json_string("hit:" + keys[i]) + "}"));
  }
  return api;
}

TEST(RoutingTest, SelectsTheRouteOfEachExpressionForm) {
  const std::vector<selection_case> cases = {
      {"body path", "$request.body.action", chat_join, "join"},
      {"braced path", "${request.body.action}", chat_join, "join"},
      {"interpolation with literal", "${request.body.service}/${request.body.action}", chat_join, "chat/join"},
      {"missing path is empty", "${request.body.action}-${request.body.missing}", chat_join, "join-"},
      {"nested path", "$request.body.data.room", chat_join, "r1"},
      {"array index", "$request.body.items[1]", R"({"items":["a","b"]})", "b"},
      {"nested array index", "$request.body.data.list[0].name",
       R"({"data":{"list":[{"name":"first"},{"name":"second"}]}})", "first"},
      {"static value", "action", chat_join, "action"},
      {"escaped dollar", "\\$default", chat_join, "$default"},
      {"number is its JSON text", "$request.body.action", R"({"action":1})", "1"},
      {"boolean is its JSON text", "$request.body.action", R"({"action":true})", "true"},
      {"object is compact JSON", "$request.body.action", R"({"action": {"a": 1, "b": [1, 2]}})",
       R"({"a":1,"b":[1,2]})"},
      {"null is empty", "$request.body.action", R"({"action":null})", "$default"},
      {"top-level array resolves to empty", "$request.body.action", R"([{"action":"join"}])", "$default"},
      {"top-level string resolves to empty", "$request.body.action", R"("join")", "$default"},
      {"missing member falls back", "$request.body.action", R"({"other":"join"})", "$default"},
      {"escapes in names and values are decoded", "$request.body.action",
       R"({"act\u0069on":"jo\u0069n","x":"\"\\\/\b\f\n\r\t"})", "join"},
      {"escaped characters are kept in the key", "${request.body.action}!",
       R"({"action":"a\"b\\c\u00e9\ud83d\ude00"})", "a\"b\\c\u00e9\U0001F600!"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test_server server(selection_api(c).json());
    ws_client client;
    ASSERT_TRUE(client.connect(server.options()).upgraded);
    EXPECT_TRUE(round_trip(client, c.message, "hit:" + c.expected_route));
  }
}

class RoutingFixture : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("join", "hit_join", true)
        .add_route("$default", "hit_default", true)
        .add_integration("hit_join", builtin("mock", R"({"body":"hit:join"})"))
        .add_integration("hit_default", builtin("mock", R"({"body":"hit:$default"})"));
    start(api);
  }
};

TEST_F(RoutingFixture, MatchesRouteKeysExactlyAndCaseSensitively) {
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_TRUE(round_trip(*c, R"({"action":"join"})", "hit:join"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"Join"})", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"JOIN"})", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":" join"})", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"joinx"})", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"joi"})", "hit:$default"));
}

TEST_F(RoutingFixture, NonJsonMessagesGoToDefault) {
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_TRUE(round_trip(*c, "hello", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"join")", "hit:$default"));  // truncated JSON
  EXPECT_TRUE(round_trip(*c, "join", "hit:$default"));
  EXPECT_TRUE(round_trip(*c, R"({"action":"join"} trailing)", "hit:$default"));
  // A NUL byte is never JSON: not after the value, not raw inside a string.
  EXPECT_TRUE(round_trip(*c, std::string("{\"action\":\"join\"}\0", 18), "hit:$default"));
  EXPECT_TRUE(round_trip(*c, std::string("{\"action\":\"jo\0in\"}", 19), "hit:$default"));
}

// However deep a message nests, it is routed by its key when it is JSON, and goes to $default
// when it is not. (Messages nested beyond a few dozen levels are read a second time, without
// recursion, from the message as it came: escapes the first reading decoded must decode again.)
TEST_F(RoutingFixture, DeeplyNestedMessagesAreRoutedByTheirKey) {
  auto c = open();
  ASSERT_TRUE(c);
  for (const std::size_t depth : {63, 64, 65, 10000}) {  // 10,000: two 10 KB runs, within a frame
    SCOPED_TRACE(depth);
    const std::string opened(depth, '['), closed(depth, ']');
    EXPECT_TRUE(round_trip(*c, R"({"act\u0069on":"jo\u0069n","deep":)" + opened + closed + "}", "hit:join"));
    EXPECT_TRUE(round_trip(*c, R"({"deep":)" + opened + closed + R"(,"action":"join"})", "hit:join"));
    EXPECT_TRUE(round_trip(*c, R"({"action":"join","deep":)" + opened + "}", "hit:$default"));  // not JSON
  }
}

TEST_F(RoutingFixture, EmptyMessageGoesToDefault) {
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_TRUE(round_trip(*c, "", "hit:$default"));
  // The connection still routes normally afterwards.
  EXPECT_TRUE(round_trip(*c, R"({"action":"join"})", "hit:join"));
}

class ForbiddenFixture : public e2e_test {
 protected:
  void SetUp() override {
    api_config api;
    api.add_route("$connect", "rec").add_route("echo", "echo", true).add_integration("rec", recorder_integration());
    start(api);
  }
};

TEST_F(ForbiddenFixture, NoRouteAndNoDefaultSendsForbiddenAndStaysOpen) {
  auto c = open();
  ASSERT_TRUE(c);
  const std::string id = last_connection_id();
  ASSERT_TRUE(is_id(id)) << id;

  ASSERT_TRUE(c->send_text(R"({"action":"nope"})"));
  const auto first = c->read();
  EXPECT_TRUE(is_error_frame(first, "Forbidden", id));

  // Not JSON: no route either.
  ASSERT_TRUE(c->send_text("not json"));
  const auto second = c->read();
  EXPECT_TRUE(is_error_frame(second, "Forbidden", id));
  // Each error frame has its own request id.
  EXPECT_NE(first.data.substr(first.data.size() - 19), second.data.substr(second.data.size() - 19));

  // The connection stays open and routes the next message.
  EXPECT_TRUE(round_trip(*c, R"({"action":"echo","n":1})", R"({"action":"echo","n":1})"));
}

}  // namespace
}  // namespace apigw::e2e
