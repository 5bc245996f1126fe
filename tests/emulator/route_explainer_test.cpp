#include "emulator/core/route_explainer.hpp"

#include <stdexcept>

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
  EXPECT_NE(x.to_text().find(R"(route       $default  (no route has the key "Join"))"), std::string::npos) << x.to_text();
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
