#include "routes/selection_expression.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "tests/routes/parse_ok.hpp"

namespace apigw::routes {
namespace {

// The message of the examples in docs/route-selection.md.
constexpr std::string_view k_chat_message =
    R"({"service":"chat","action":"join","data":{"room":"r1"}})";

using test_support::parse_ok;

// Parses the message the way the gateway must before calling evaluate(): nullptr when the message
// is empty or not JSON.
struct parsed_message {
  explicit parsed_message(std::string_view text) {
    if (text.empty()) return;
    document.Parse(text.data(), text.size());
    if (!document.HasParseError()) body = &document;
  }
  rapidjson::Document document;
  const rapidjson::Value* body = nullptr;
};

std::string evaluate(std::string_view expression, std::string_view message) {
  const parsed_message parsed(message);
  return parse_ok(expression).evaluate(parsed.body);
}

struct evaluation_case {
  std::string_view expression;
  std::string_view message;
  std::string expected;
};

void expect_evaluations(const std::vector<evaluation_case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "expression: " << c.expression
                                      << "\nmessage: " << c.message);
    EXPECT_EQ(evaluate(c.expression, c.message), c.expected);
  }
}

TEST(SelectionExpressionTest, MatchesTheAwsExamples) {
  expect_evaluations({
      {"$request.body.action", k_chat_message, "join"},
      {"${request.body.action}", k_chat_message, "join"},
      {"${request.body.service}/${request.body.action}", k_chat_message, "chat/join"},
      {"${request.body.action}-${request.body.missing}", k_chat_message, "join-"},
      {"$request.body.data.room", k_chat_message, "r1"},
      {"action", k_chat_message, "action"},
      {"\\$default", k_chat_message, "$default"},
  });
}

TEST(SelectionExpressionTest, MatchesTheDocumentedExamples) {
  // The second table of docs/route-selection.md.
  constexpr std::string_view message =
      R"({"items":[{"name":"first"}],"n":2,"ok":true,"o":{"a":[1,2]},"none":null})";
  expect_evaluations({
      {"$request.body.items[0].name", message, "first"},
      {"v${request.body.n}", message, "v2"},
      {"$request.body.ok", message, "true"},
      {"$request.body.o", message, R"({"a":[1,2]})"},
      {"$request.body.o.a[1]", message, "2"},
      {"[$request.body.none]", message, "[]"},
      {"$request.body.items[5].name", message, ""},
      {"${request.body.first name}", R"({"first name":"Ada"})", "Ada"},
  });
}

TEST(SelectionExpressionTest, FollowsNestedPathsAndArrayIndexes) {
  constexpr std::string_view message =
      R"({"a":[10,[20,{"b":"deep"}]],"items":[{"name":"first"},{"name":"second"}],)"
      R"("data":{"room":"r1","tags":["x","y"]}})";
  expect_evaluations({
      {"$request.body.items[0].name", message, "first"},
      {"$request.body.items[1].name", message, "second"},
      {"${request.body.items[1].name}", message, "second"},
      {"$request.body.a[1][1].b", message, "deep"},
      {"${request.body.a[1][0]}", message, "20"},
      {"$request.body.data.tags[1]", message, "y"},
      {"$request.body.a[0]", message, "10"},
  });
}

TEST(SelectionExpressionTest, ResolvesMissingPathsToEmpty) {
  constexpr std::string_view message =
      R"({"a":[10,{"b":"deep"}],"data":{"room":"r1","tags":["x","y"]}})";
  expect_evaluations({
      {"$request.body.nope", message, ""},
      {"$request.body.data.nope", message, ""},
      {"$request.body.data.tags[2]", message, ""},   // index past the end
      {"$request.body.data.room.x", message, ""},    // member of a string
      {"$request.body.a.b", message, ""},            // member name on an array
      {"$request.body.data[0]", message, ""},        // index on an object
      {"$request.body.a[0].b", message, ""},         // member of a number
      {"$request.body.a[0][0]", message, ""},        // index on a number
      {"$request.body.Data.room", message, ""},      // names are case-sensitive
      {"x-${request.body.nope}-y", message, "x--y"},
  });
}

TEST(SelectionExpressionTest, ResolvesEveryPathToEmptyWithoutAnObjectBody) {
  const std::vector<std::string_view> messages = {
      "", "not json", "{", R"({"action":"join")", R"(["join"])", R"("join")", "42", "true",
      "null",
  };
  const std::vector<std::pair<std::string_view, std::string>> expressions = {
      {"$request.body.action", ""},
      {"$request.body", ""},
      {"${request.body}", ""},
      {"${request.body.action}/x", "/x"},
      {"static", "static"},
  };
  for (const auto message : messages) {
    for (const auto& [expression, expected] : expressions) {
      SCOPED_TRACE(::testing::Message() << "expression: " << expression << "\nmessage: "
                                        << message);
      EXPECT_EQ(evaluate(expression, message), expected);
    }
  }
}

TEST(SelectionExpressionTest, StringifiesSelectedValues) {
  constexpr std::string_view message =
      R"({"int":1,"neg":-7,"big":18446744073709551615,"float":1.5,"whole":1.0,"exp":1e30,)"
      R"("yes":true,"no":false,"nothing":null,"empty":"",)"
      R"("object" : { "a" : 1 , "b" : [ true , null , "q\"uote" ] },)"
      R"("array":[ 1, "two", {"x": "y"} ],"nested":{"inner":{}},)"
      R"("text":"with \"quote\" and \\ and \u00e9","list":[]})";
  expect_evaluations({
      {"$request.body.int", message, "1"},
      {"$request.body.neg", message, "-7"},
      {"$request.body.big", message, "18446744073709551615"},
      {"$request.body.float", message, "1.5"},
      {"$request.body.whole", message, "1.0"},
      {"$request.body.exp", message, "1e30"},
      {"$request.body.yes", message, "true"},
      {"$request.body.no", message, "false"},
      {"$request.body.nothing", message, ""},
      {"$request.body.empty", message, ""},
      {"$request.body.object", message, R"({"a":1,"b":[true,null,"q\"uote"]})"},
      {"$request.body.array", message, R"([1,"two",{"x":"y"}])"},
      {"$request.body.nested.inner", message, "{}"},
      {"$request.body.list", message, "[]"},
      {"$request.body.text", message, "with \"quote\" and \\ and \xC3\xA9"},
      {"${request.body.int}:${request.body.yes}:${request.body.nothing}:${request.body.list}",
       message, "1:true::[]"},
      {"$request.body", R"({ "a" : [ 1 , 2 ] })", R"({"a":[1,2]})"},
      {"${request.body}", k_chat_message, std::string(k_chat_message)},
  });
}

TEST(SelectionExpressionTest, KeepsEmbeddedNulBytes) {
  EXPECT_EQ(evaluate("$request.body.a", R"({"a":"x\u0000y"})"), std::string("x\0y", 3));
  EXPECT_EQ(evaluate("<${request.body.a}>", R"({"a":"x\u0000y"})"), std::string("<x\0y>", 5));
}

TEST(SelectionExpressionTest, ResolvesEscapes) {
  expect_evaluations({
      {"\\$default", k_chat_message, "$default"},
      {"\\$request.body.action", k_chat_message, "$request.body.action"},
      {"\\${request.body.action}", k_chat_message, "${request.body.action}"},
      {"\\$\\$", k_chat_message, "$$"},
      {"\\$${request.body.action}", k_chat_message, "$join"},
      {"a\\b", k_chat_message, "a\\b"},                  // only \$ is an escape
      {"x\\", k_chat_message, "x\\"},                    // a trailing backslash is literal
      // \\ is not an escape: the second backslash escapes the dollar.
      {"\\\\$request.body.action", k_chat_message, "\\$request.body.action"},
  });
}

TEST(SelectionExpressionTest, KeepsLiteralTextAroundAndBetweenPaths) {
  expect_evaluations({
      {"pre-${request.body.action}-mid-${request.body.service}-post", k_chat_message,
       "pre-join-mid-chat-post"},
      {"${request.body.action}${request.body.service}", k_chat_message, "joinchat"},
      {"$request.body.action$request.body.service", k_chat_message, "joinchat"},
      // An unbraced path ends at the first character that cannot continue it.
      {"$request.body.action/$request.body.service", k_chat_message, "join/chat"},
      {"$request.body.action $request.body.service", k_chat_message, "join chat"},
      {"$request.body.data.room!", k_chat_message, "r1!"},
      {"$request.body.action}", k_chat_message, "join}"},
      {"{$request.body.action}", k_chat_message, "{join}"},
      {"$request.body.action:v1", k_chat_message, "join:v1"},
      {"route.$request.body.action", k_chat_message, "route.join"},
      // '-' continues an unbraced name, so braces are needed to put a '-' after a path.
      {"$request.body.action-x", k_chat_message, ""},
      {"${request.body.action}-x", k_chat_message, "join-x"},
  });
}

TEST(SelectionExpressionTest, AcceptsMemberNameCharacters) {
  constexpr std::string_view message =
      R"({"my-key":"dash","my_key2":"underscore","caf\u00e9":"utf8","a b":"space",)"
      R"("x/y":"slash","$k":"dollar","":"empty"})";
  expect_evaluations({
      {"$request.body.my-key", message, "dash"},
      {"$request.body.my_key2", message, "underscore"},
      {"$request.body.caf\xC3\xA9", message, "utf8"},
      {"${request.body.a b}", message, "space"},
      {"${request.body.x/y}", message, "slash"},
      {"${request.body.$k}", message, "dollar"},
      {"${request.body.caf\xC3\xA9}", message, "utf8"},
  });
}

TEST(SelectionExpressionTest, EvaluatesManyPaths) {
  // More paths than evaluate() remembers while sizing the result.
  constexpr std::string_view message =
      R"({"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":10})";
  expect_evaluations({
      {"${request.body.a}${request.body.b}${request.body.c}${request.body.d}${request.body.e}"
       "${request.body.f}${request.body.g}${request.body.h}${request.body.i}-${request.body.j}"
       "-${request.body.none}",
       message, "123456789-10-"},
      {"${request.body.none}${request.body.none}${request.body.none}${request.body.none}"
       "${request.body.none}${request.body.none}${request.body.none}${request.body.none}"
       "${request.body.i}${request.body.j}",
       message, "910"},
  });
}

TEST(SelectionExpressionTest, SplitsTheExpressionIntoParts) {
  const auto expression = parse_ok("pre-${request.body.data.items[2]}\\$x$request.body");
  const auto& parts = expression.parts();
  ASSERT_EQ(parts.size(), 4u);

  EXPECT_FALSE(parts[0].is_path);
  EXPECT_EQ(parts[0].literal, "pre-");
  EXPECT_EQ(parts[0].source, "pre-");

  EXPECT_TRUE(parts[1].is_path);
  EXPECT_EQ(parts[1].source, "${request.body.data.items[2]}");
  ASSERT_EQ(parts[1].path.size(), 3u);
  EXPECT_FALSE(parts[1].path[0].is_index);
  EXPECT_EQ(parts[1].path[0].name, "data");
  EXPECT_FALSE(parts[1].path[1].is_index);
  EXPECT_EQ(parts[1].path[1].name, "items");
  EXPECT_TRUE(parts[1].path[2].is_index);
  EXPECT_EQ(parts[1].path[2].index, 2u);

  EXPECT_FALSE(parts[2].is_path);
  EXPECT_EQ(parts[2].literal, "$x");
  EXPECT_EQ(parts[2].source, "\\$x");

  EXPECT_TRUE(parts[3].is_path);
  EXPECT_TRUE(parts[3].path.empty());
  EXPECT_EQ(parts[3].source, "$request.body");

  EXPECT_EQ(expression.text(), "pre-${request.body.data.items[2]}\\$x$request.body");
}

struct error_case {
  std::string_view expression;
  std::size_t position;
  std::vector<std::string_view> message_contains;
};

TEST(SelectionExpressionTest, ReportsParseErrorsWithTheirPosition) {
  constexpr std::string_view only_body = "only $request.body";
  const std::vector<error_case> cases = {
      {"", 0, {"empty"}},
      {"$request.header.x", 0, {"found '$request.header.x'", only_body}},
      {"$request.querystring.a", 0, {"found '$request.querystring.a'", only_body}},
      {"$foo", 0, {"found '$foo'", only_body}},
      {"route-$foo/x", 6, {"found '$foo'", only_body}},
      {"$", 0, {"found '$'", only_body, "\\$"}},
      {"a$", 1, {"found '$'", only_body}},
      {"$ x", 0, {"found '$'", only_body}},
      {"$Request.body.a", 0, {"found '$Request.body.a'", only_body}},
      {"$request", 0, {"found '$request'", only_body}},
      {"${", 0, {"found '${'", only_body}},
      {"${}", 0, {"found '${}'", only_body}},
      {"${request.header.x}", 0, {"found '${request.header.x}'", only_body}},
      {"${ request.body.a}", 0, {"found '${ request.body.a}'", only_body}},
      {"${request.body.a", 16, {"found the end of the expression", "'}'", "position 0"}},
      {"${request.body", 14, {"found the end of the expression", "'}'"}},
      {"x/${request.body.a[0]", 21, {"found the end of the expression", "position 2"}},
      {"$request.body.a..b", 16, {"found '.'", "member name"}},
      {"$request.body.", 14, {"found the end of the expression", "member name"}},
      {"$request.body./x", 14, {"found '/'", "member name", "${request.body.PATH}"}},
      {"${request.body..a}", 15, {"found '.'", "member name"}},
      {"${request.body.a.}", 17, {"found '}'", "member name"}},
      {"$request.body.a[x]", 16, {"found 'x'", "digits", "a[0]"}},
      {"$request.body.a[]", 16, {"found ']'", "digits"}},
      {"$request.body.a[-1]", 16, {"found '-'", "digits"}},
      {"$request.body.a[0", 17, {"found the end of the expression", "']'", "position 15"}},
      {"$request.body.a[0x]", 17, {"found 'x'", "']'"}},
      {"${request.body.a[ 0]}", 17, {"found ' '", "digits"}},
      {"$request.body.a[4294967296]", 16, {"too large", "4294967295"}},
      {"$request.body[0]", 13, {"found '['", "JSON object"}},
      {"${request.body[0]}", 14, {"found '['", "JSON object"}},
      {"$request.bodyx", 13, {"found 'x'", "'.'"}},
      {"$request.body-x", 13, {"found '-'", "'.'"}},
      {"$request.body.a[0]b", 18, {"found 'b'", "']'"}},
      {"${request.bodyx}", 14, {"found 'x'", "'}'"}},
      {"${request.body.a]}", 16, {"found ']'", "'}'"}},
      {"${request.body.a{}", 16, {"found '{'", "'}'"}},
      {"${request.body.caf\xC3\xA9]}", 20, {"found ']'"}},  // positions count bytes
      {"$request.body.a.\xC3\xA9", 16, {}},  // valid: non-ASCII is a name character
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << "expression: " << c.expression);
    const auto result = selection_expression::parse(c.expression);
    if (c.message_contains.empty()) {
      EXPECT_TRUE(result) << result.error();
      continue;
    }
    ASSERT_FALSE(result);
    // "at position N: " and then what was wrong.
    const std::string at = "at position " + std::to_string(c.position) + ": ";
    ASSERT_EQ(result.error().rfind(at, 0), 0u) << result.error();
    const std::string what = result.error().substr(at.size());
    for (const auto fragment : c.message_contains) {
      EXPECT_NE(what.find(fragment), std::string::npos) << "expected \"" << fragment << "\" in: " << what;
    }
  }
}

TEST(SelectionExpressionTest, ShortensLongUnsupportedVariablesInMessages) {
  const auto result = selection_expression::parse(
      "$request.header.a-very-long-header-name-that-goes-on-and-on");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().find("found '$request.header.a-very-long-header-name-...'"), std::string::npos)
      << result.error();
}

TEST(SelectionExpressionTest, NeedsTheBodyOnlyWhenAPathReadsIt) {
  const std::vector<std::pair<std::string_view, bool>> cases = {
      {"action", false},
      {"\\$default", false},
      {"\\$request.body.action", false},
      {"a{b}c", false},
      {"$request.body.action", true},
      {"$request.body", true},
      {"static-${request.body}", true},
      {"\\$x/${request.body.a[0]}", true},
  };
  for (const auto& [text, needs_body] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_ok(text).needs_body(), needs_body);
  }
}

TEST(SelectionExpressionTest, FindTellsMissingFromEmpty) {
  constexpr std::string_view message = R"({"action":"join","none":null,"empty":"","n":2})";
  const parsed_message parsed(message);
  const auto expression = parse_ok(
      "${request.body.action}${request.body.none}${request.body.empty}${request.body.n}"
      "${request.body.missing}-");
  const auto& parts = expression.parts();
  ASSERT_EQ(parts.size(), 6u);

  struct expected_lookup {
    bool found;
    std::string value;
  };
  const std::vector<expected_lookup> expected = {
      {true, "join"}, {true, ""}, {true, ""}, {true, "2"}, {false, ""}, {true, "-"},
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    SCOPED_TRACE(parts[i].source);
    const auto result = selection_expression::find(parts[i], parsed.body);
    EXPECT_EQ(result.found, expected[i].found);
    EXPECT_EQ(result.value, expected[i].value);
  }
}

TEST(SelectionExpressionTest, FindsNothingWithoutAnObjectBody) {
  const auto expression = parse_ok("$request.body");
  for (const std::string_view message : {"", "nope", "[1]", "\"s\"", "null"}) {
    SCOPED_TRACE(message);
    const parsed_message parsed(message);
    EXPECT_FALSE(selection_expression::find(expression.parts().front(), parsed.body).found);
  }
}

// A selected object or array used to be written by Value::Accept, which recurses once per nesting
// level: a deeply nested value overflowed the thread's stack (in a release build from about
// 100,000 levels, sooner under the sanitizers). The values are now written with a stack of their
// own.
TEST(SelectionExpressionTest, WritesDeeplyNestedValuesWithoutRecursion) {
  constexpr std::size_t depth = 200000;
  std::string nested = std::string(depth, '[') + std::string(depth, ']');
  const std::string message = R"({"a":)" + nested + R"(,"o":)" +
                              R"({"x":[{"y":{"z":[1,-2,3.5,"s",true,null]}}],"e":{}})" + "}";
  rapidjson::Document document;  // parsed without recursion, as deep messages may be
  document.Parse<rapidjson::kParseIterativeFlag>(message.data(), message.size());
  ASSERT_FALSE(document.HasParseError());
  EXPECT_EQ(parse_ok("$request.body.a").evaluate(&document), nested);
  EXPECT_EQ(parse_ok("${request.body.a}/x").evaluate(&document), nested + "/x");
  EXPECT_EQ(parse_ok("$request.body.o").evaluate(&document),
            R"({"x":[{"y":{"z":[1,-2,3.5,"s",true,null]}}],"e":{}})");
}

}  // namespace
}  // namespace apigw::routes
