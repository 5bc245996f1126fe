#include "emulator/core/route_explainer.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config_loader.hpp"

namespace apigw::emulator {
namespace {

std::unique_ptr<gateway> make(const std::string& expression, bool with_default) {
  std::string json = R"({"routeSelectionExpression": )" + expression + R"(, "routes": [
      {"routeKey": "join", "integration": "e", "routeResponseSelectionExpression": "$default"},
      {"routeKey": "chat/join", "integration": "e"}, {"routeKey": "join-", "integration": "e"},
      {"routeKey": "r1", "integration": "e"}, {"routeKey": "action", "integration": "e"})" +
                     std::string(with_default ? R"(, {"routeKey": "$default", "integration": "m"})" : "") +
                     R"(], "integrations": {"e": {"handler": "echo"}, "m": {"handler": "mock"}}})";
  auto loaded = config::load_text(json, "t.json");
  if (!loaded) throw std::runtime_error(loaded.error());
  auto made = gateway::create(*loaded, apigw::handler_registry::with_builtins());
  if (!made) throw std::runtime_error(made.error());
  return std::move(*made);
}

const char* const kMessage = R"({"service":"chat","action":"join","data":{"room":"r1"}})";

// docs/route-selection.md, explained: every row picks its route by exact match.
TEST(RouteExplainerTest, ExplainsEveryRowOfTheSelectionTable) {
  struct row {
    const char* expression;
    const char* selection;
  } rows[] = {
      {R"("$request.body.action")", "join"},
      {R"("${request.body.action}")", "join"},
      {R"("${request.body.service}/${request.body.action}")", "chat/join"},
      {R"("${request.body.action}-${request.body.missing}")", "join-"},
      {R"("$request.body.data.room")", "r1"},
      {R"("action")", "action"},
      {R"("\\$default")", "$default"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.expression);
    auto gw = make(r.expression, true);
    const auto x = explain_route(*gw, kMessage);
    EXPECT_TRUE(x.message_is_json);
    EXPECT_EQ(x.selection, r.selection);
    EXPECT_EQ(x.result, route_explanation::outcome::exact_match);
    EXPECT_EQ(x.route_key, r.selection);
    EXPECT_EQ(x.integration, x.route_key == "$default" ? "m" : "e");
  }
}

TEST(RouteExplainerTest, NamesEachPartAndWhatItFound) {
  auto gw = make(R"("${request.body.action}-${request.body.missing}")", true);
  const auto x = explain_route(*gw, kMessage);
  ASSERT_EQ(x.parts.size(), 3u);
  EXPECT_EQ(x.parts[0].source, "${request.body.action}");
  EXPECT_TRUE(x.parts[0].found);
  EXPECT_EQ(x.parts[0].value, "join");
  EXPECT_FALSE(x.parts[1].is_path);
  EXPECT_EQ(x.parts[1].value, "-");
  EXPECT_FALSE(x.parts[2].found);
  EXPECT_EQ(x.to_json(),
            R"({"expression":"${request.body.action}-${request.body.missing}","message":"{\"service\":\"chat\",)"
            R"(\"action\":\"join\",\"data\":{\"room\":\"r1\"}}","messageIsJson":true,"parts":[)"
            R"({"part":"${request.body.action}","kind":"path","found":true,"value":"join"},)"
            R"({"part":"-","kind":"literal","value":"-"},)"
            R"({"part":"${request.body.missing}","kind":"path","found":false,"value":""}],)"
            R"("selection":"join-","outcome":"exact match","routeKey":"join-","twoWay":false,"integration":"e","handler":"echo"})");
}

TEST(RouteExplainerTest, MisspeltActionFallsBackToDefault) {
  auto gw = make(R"("$request.body.action")", true);
  const auto x = explain_route(*gw, R"({"action":"Join"})");
  EXPECT_EQ(x.result, route_explanation::outcome::default_route);
  EXPECT_EQ(x.route_key, "$default");
  EXPECT_EQ(x.handler, "mock");
  EXPECT_NE(x.to_text().find("route       $default  (no route has the key \"Join\"; route keys are case-sensitive; "
                             "did you mean \"join\"?)\n"),
            std::string::npos)
      << x.to_text();
}

// The routes of a "did you mean" test, without $default unless WITH_DEFAULT; none has a handler
// worth running.
std::unique_ptr<gateway> with_routes(const std::vector<std::string>& keys, bool with_default = false) {
  std::string routes;
  for (const auto& k : keys) routes += R"({"routeKey": ")" + k + R"(", "integration": "e"}, )";
  if (with_default) routes += R"({"routeKey": "$default", "integration": "e"}, )";
  routes.resize(routes.size() - 2);
  auto loaded = config::load_text(R"({"routeSelectionExpression": "$request.body.action", "routes": [)" + routes +
                                      R"(], "integrations": {"e": {"handler": "echo"}}})",
                                  "t.json");
  if (!loaded) throw std::runtime_error(loaded.error());
  auto made = gateway::create(*loaded, apigw::handler_registry::with_builtins());
  if (!made) throw std::runtime_error(made.error());
  return std::move(*made);
}

std::string action(const std::string& key) { return R"({"action":")" + key + R"("})"; }

// The route line of explain's text for the message {"action": KEY}.
std::string route_line(const gateway& gw, const std::string& key) {
  const std::string text = explain_route(gw, action(key)).to_text();
  const auto at = text.find("route       ");
  return at == std::string::npos ? text : text.substr(at, text.find('\n', at) - at);
}

TEST(RouteExplainerTest, KeyThatDiffersOnlyInCaseIsSuggestedAsCaseSensitive) {
  auto gw = with_routes({"$connect", "$disconnect", "sendmessage"});
  const auto x = explain_route(*gw, action("sendMessage"));
  EXPECT_EQ(x.result, route_explanation::outcome::forbidden);
  EXPECT_EQ(x.did_you_mean_key, "sendmessage");
  EXPECT_TRUE(x.did_you_mean_case_only);
  EXPECT_EQ(x.to_text(),
            "expression  $request.body.action\n"
            "message     {\"action\":\"sendMessage\"}\n"
            "  $request.body.action  found \"sendMessage\"\n"
            "selection   \"sendMessage\"\n"
            "route       none: no route has the key \"sendMessage\" and there is no $default route; "
            "route keys are case-sensitive; did you mean \"sendmessage\"?\n"
            "client gets {\"message\": \"Forbidden\", \"connectionId\":\"…\", \"requestId\":\"…\"}\n");
  EXPECT_NE(x.to_json().find(R"("outcome":"no route","routeKey":null,)"
                             R"("didYouMean":{"routeKey":"sendmessage","caseOnly":true},"clientGets":)"),
            std::string::npos)
      << x.to_json();
  EXPECT_EQ(route_line(*gw, "SENDMESSAGE"), "route       none: no route has the key \"SENDMESSAGE\" and there is no "
                                            "$default route; route keys are case-sensitive; did you mean "
                                            "\"sendmessage\"?");
}

TEST(RouteExplainerTest, KeyOneEditAwayIsSuggestedWithoutTheCaseClause) {
  auto gw = with_routes({"echo", "shout"}, true);
  for (const char* typed : {"ecko", "eco", "echoo", "ehco"}) {
    SCOPED_TRACE(typed);
    const auto x = explain_route(*gw, action(typed));
    EXPECT_EQ(x.result, route_explanation::outcome::default_route);
    EXPECT_EQ(x.did_you_mean_key, "echo");
    EXPECT_FALSE(x.did_you_mean_case_only);
    EXPECT_EQ(route_line(*gw, typed),
              "route       $default  (no route has the key \"" + std::string(typed) + "\"; did you mean \"echo\"?)");
    EXPECT_NE(x.to_json().find(R"("routeKey":"$default","didYouMean":{"routeKey":"echo","caseOnly":false},)"),
              std::string::npos)
        << x.to_json();
  }
  // One edit and a difference of case: still one edit, and case is not the whole story.
  EXPECT_EQ(route_line(*gw, "Ecko"), R"(route       $default  (no route has the key "Ecko"; did you mean "echo"?))");
}

TEST(RouteExplainerTest, NoSuggestionTwoEditsAway) {
  auto gw = with_routes({"echo", "sendmessage"});
  for (const char* typed : {"ekko", "oche", "send-message!", "Sendmesag"}) {
    SCOPED_TRACE(typed);
    const auto x = explain_route(*gw, action(typed));
    EXPECT_EQ(x.did_you_mean_key, "");
    EXPECT_EQ(route_line(*gw, typed), "route       none: no route has the key \"" + std::string(typed) +
                                          "\" and there is no $default route");
    EXPECT_EQ(x.to_json().find("didYouMean"), std::string::npos) << x.to_json();
  }
}

TEST(RouteExplainerTest, LifecycleAndDefaultRoutesAreNeverSuggested) {
  auto gw = with_routes({"$connect", "$disconnect"}, true);
  for (const char* typed : {"$CONNECT", "$connec", "$Disconnect", "$DEFAULT", "$defualt", "connect"}) {
    SCOPED_TRACE(typed);
    const auto x = explain_route(*gw, action(typed));
    EXPECT_EQ(x.did_you_mean_key, "");
    EXPECT_EQ(route_line(*gw, typed), "route       $default  (no route has the key \"" + std::string(typed) + "\")");
  }
  // A message naming $connect itself goes to $default, and nothing is suggested either.
  EXPECT_EQ(route_line(*gw, "$connect"), R"(route       $default  (no route has the key "$connect"))");
}

TEST(RouteExplainerTest, ShortKeysAreSuggestedOnlyForCase) {
  auto gw = with_routes({"r1", "go"});
  EXPECT_EQ(explain_route(*gw, action("r2")).did_you_mean_key, "");
  EXPECT_EQ(explain_route(*gw, action("g")).did_you_mean_key, "");
  EXPECT_EQ(explain_route(*gw, action("")).did_you_mean_key, "");
  EXPECT_EQ(route_line(*gw, "R1"), R"(route       none: no route has the key "R1" and there is no $default route; )"
                                   R"(route keys are case-sensitive; did you mean "r1"?)");
}

TEST(RouteExplainerTest, CaseOnlyWinsThenTheNearestThenTheFirstInTheConfig) {
  // "joint" and "jon" are one edit from "join" each; "JOIN" and "join" differ from it only in case.
  auto gw = with_routes({"joint", "jon", "JOIN", "join"});
  auto x = explain_route(*gw, action("Join"));
  EXPECT_EQ(x.did_you_mean_key, "join");  // case-only, and nearer than "JOIN" with case counted
  EXPECT_TRUE(x.did_you_mean_case_only);
  x = explain_route(*gw, action("JOIn"));
  EXPECT_EQ(x.did_you_mean_key, "JOIN");  // case-only, one letter's case from "JOIN", three from "join"
  x = explain_route(*gw, action("joi"));
  // One edit from "jon", "JOIN" and "join" (case aside); one from "jon" and "join" with case counted:
  // the first of those in the config.
  EXPECT_EQ(x.did_you_mean_key, "jon");
  EXPECT_FALSE(x.did_you_mean_case_only);
  // A non-JSON message has no key, so nothing is suggested.
  EXPECT_EQ(explain_route(*gw, "join").did_you_mean_key, "");
}

TEST(RouteExplainerTest, NonJsonMessageIsNotEvaluated) {
  auto gw = make(R"("$request.body.action")", true);
  const auto x = explain_route(*gw, "hello");
  EXPECT_FALSE(x.message_is_json);
  EXPECT_EQ(x.result, route_explanation::outcome::default_route);
  EXPECT_NE(x.to_text().find("not evaluated: the message is not JSON"), std::string::npos) << x.to_text();
  EXPECT_NE(x.to_json().find(R"("selection":null)"), std::string::npos);
}

TEST(RouteExplainerTest, NoRouteAndNoDefaultIsForbidden) {
  auto gw = make(R"("$request.body.action")", false);
  const auto x = explain_route(*gw, R"({"action":"leave"})");
  EXPECT_EQ(x.result, route_explanation::outcome::forbidden);
  EXPECT_EQ(x.to_text(),
            "expression  $request.body.action\n"
            "message     {\"action\":\"leave\"}\n"
            "  $request.body.action  found \"leave\"\n"
            "selection   \"leave\"\n"
            "route       none: no route has the key \"leave\" and there is no $default route\n"
            "client gets {\"message\": \"Forbidden\", \"connectionId\":\"…\", \"requestId\":\"…\"}\n");
  EXPECT_NE(x.to_json().find(R"("outcome":"no route","routeKey":null,"clientGets":)"), std::string::npos) << x.to_json();
}

}  // namespace
}  // namespace apigw::emulator
