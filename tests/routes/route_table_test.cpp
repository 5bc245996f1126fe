#include "routes/route_table.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/routes/parse_ok.hpp"

namespace apigw::routes {
namespace {

using test_support::parse_ok;

route_table table_with(std::string_view expression, const std::vector<std::string>& keys) {
  route_table table(parse_ok(expression));
  for (const auto& key : keys) {
    auto r = std::make_unique<route>();
    r->key = key;
    EXPECT_TRUE(table.add(std::move(r))) << key;
  }
  return table;
}

// What the selection must be: the message parsed into a document, the expression evaluated on it.
struct expected_selection {
  bool json = false;
  std::string key;
};
expected_selection through_a_document(std::string_view expression, std::string_view message) {
  rapidjson::Document document;
  if (message.empty()) return {};
  document.Parse<rapidjson::kParseIterativeFlag>(message.data(), message.size());
  if (document.HasParseError()) return {};
  return {true, parse_ok(expression).evaluate(&document)};
}

// Messages for which the path's value, or its absence, is easy to get wrong when the message is
// read without a document: where the name appears, how often, at which depth, with which value.
const std::vector<std::string> k_messages = {
    R"({"action":"echo","data":"c1-000000000001-xxxxxxxx"})",
    R"({"data":"x","action":"echo"})",
    R"({"action":"first","action":"second"})",                 // the first member of a name
    R"({"data":{"action":"inner"},"action":"outer"})",          // not a member of the message
    R"({"data":{"action":"inner"}})",
    R"([{"action":"echo"}])",                                   // not an object
    R"("action")",
    R"(42)",
    R"({})",
    R"({"action":7})",                                          // numbers as the document writes them
    R"({"action":1.50})",
    R"({"action":-0})",
    R"({"action":1e3})",
    R"({"action":18446744073709551615})",
    R"({"action":true})",
    R"({"action":false})",
    R"({"action":null})",
    R"({"action":{"b":[1,"x",{}]}})",                           // objects and arrays, compact
    R"({"action":[]})",
    R"({"action":"echo"} )",
    R"({"action":"echo"} x)",                                   // not JSON after the value
    R"({"action":"echo",)",
    R"({"action":"echo","data":[1,2,)",
    R"({"act\u0069on":"\u0065cho"})",                           // escapes, in names and values
    R"({"action":"a\"b\\c\/d\n"})",
    R"({"action":"\u00e9\ud83d\ude00"})",
    R"({"a":{"b":{"c":"deep"}},"a":{"b":{"c":"second"}}})",
    R"({"a":{"b":"not an object"}})",
    R"({"a":{"x":1,"b":{"y":[],"c":"found","c":"later"}}})",
    R"({"a":{"b":{}}})",
    R"({"a":{"x":1},"z":{"b":"not a's"}})",                    // past the object on the path
    R"({"a":{"b":{"x":1}},"z":{"q":{"c":"not b's"}}})",
    R"({"a":[{"b":{"c":"in an array"}}]})",
    R"({"a":null})",
    R"({"a":{"b":{"c":{"d":1}}}})",
    R"({"a":{"b":{"c":7}}})",
    R"({"route":"a","action":"b"})",
    std::string(R"({"action":"echo","x":)") + std::string(40, '[') + std::string(40, ']') + "}",
    std::string(R"({"x":)") + std::string(100, '[') + std::string(100, ']') + R"(,"action":"deep"})",
    std::string(R"({"x":)") + std::string(100, '[') + std::string(99, ']') + R"(,"action":"deep"})",
    std::string(R"({"action":"long )") + std::string(5000, 'y') + R"("})",
};

// The route table's selection (which reads a message along a path of member names without a
// document) is the document's, for every expression form and every message above.
TEST(RouteTableTest, SelectsWhatTheExpressionGivesOnTheParsedMessage) {
  for (const std::string_view expression :
       {"$request.body.action", "${request.body.a.b.c}", "$request.body.a.b", "${request.body.route}",
        "$request.body.a[0].b.c", "$request.body", "static", "${request.body.action}/${request.body.route}"}) {
    const auto table = table_with(expression, {});
    for (const auto& message : k_messages) {
      const auto want = through_a_document(expression, message);
      const selection got = table.resolve(message);
      EXPECT_EQ(got.json, want.json) << expression << " on " << message;
      EXPECT_EQ(got.key, want.key) << expression << " on " << message;
    }
  }
}

TEST(RouteTableTest, ChoosesTheRouteTheKeyNamesElseDefault) {
  const auto table = table_with("$request.body.action", {"$connect", "$disconnect", "$default", "echo", "7"});
  const auto key_of = [&](std::string_view message) {
    const route* r = table.resolve(message).chosen;
    return r == nullptr ? std::string("(none)") : r->key;
  };
  EXPECT_EQ(key_of(R"({"action":"echo"})"), "echo");
  EXPECT_EQ(key_of(R"({"action":"echo","action":"other"})"), "echo");
  EXPECT_EQ(key_of(R"({"action":"other","action":"echo"})"), "$default");
  EXPECT_EQ(key_of(R"({"data":{"action":"echo"}})"), "$default");
  EXPECT_EQ(key_of(R"({"action":7})"), "7");
  EXPECT_EQ(key_of(R"({"action":"echo"}})"), "$default");
  EXPECT_EQ(key_of(R"({"action":"$connect"})"), "$default");
  EXPECT_EQ(key_of(R"({"action":"$disconnect"})"), "$default");
  EXPECT_EQ(key_of(std::string(R"({"action":"echo","x":)") + std::string(100, '[') + std::string(100, ']') + "}"),
            "echo");
  const auto no_default = table_with("$request.body.action", {"echo"});
  EXPECT_EQ(no_default.resolve(R"({"action":"nope"})").chosen, nullptr);
  EXPECT_EQ(no_default.resolve(R"({"action":"echo"})").chosen->key, "echo");
}

// A table of a few routes is searched by comparing keys, a larger one by hash: both find every
// key, and only the keys there are (a prefix, a longer key, another case are other keys).
TEST(RouteTableTest, FindsEveryKeyInSmallAndLargeTables) {
  for (const std::size_t extra : {0u, 3u, 20u}) {
    std::vector<std::string> keys = {"$connect", "$disconnect", "$default", "send", "sendmessage", ""};
    for (std::size_t i = 0; i < extra; ++i) keys.push_back("route" + std::to_string(i));
    const auto table = table_with("$request.body.action", keys);
    for (const auto& key : keys) {
      ASSERT_NE(table.find(key), nullptr) << key << " in " << keys.size();
      EXPECT_EQ(table.find(key)->key, key);
    }
    for (const std::string_view other : {"sen", "sendmessages", "Send", "route", "$Default"}) {
      EXPECT_EQ(table.find(other), nullptr) << other << " in " << keys.size();
    }
    const auto key_of = [&](std::string_view message) {
      const route* r = table.resolve(message).chosen;
      return r == nullptr ? std::string("(none)") : r->key;
    };
    EXPECT_EQ(key_of(R"({"action":"sendmessage"})"), "sendmessage");
    EXPECT_EQ(key_of(R"({"action":""})"), "");
    EXPECT_EQ(key_of(R"({"action":"$connect"})"), "$default");
    EXPECT_EQ(key_of(R"({"action":"Send"})"), "$default");
    if (extra > 0) {
      const std::string last = "route" + std::to_string(extra - 1);
      EXPECT_EQ(key_of(R"({"action":")" + last + R"("})"), last);
    }
  }
}

}  // namespace
}  // namespace apigw::routes
