// The Websocket-Lab chat API, the emulator's default (docs/lab.md): two
// clients chat on /Prod, the connections table empties as they leave, and each lab task's
// breakage shows as on AWS - the missing route as the Forbidden frame, the missing
// execute-api:ManageConnections permission as an AccessDeniedException in the function's log
// while nobody receives anything.
#include "tests/e2e/lab_common.hpp"

#include <rapidjson/document.h>

#include "tests/support/log_sink.hpp"

namespace apigw::e2e {
namespace {

// POLICY_JSON without the statements whose Sid is SID.
std::string without_statement(const std::string& policy_json, std::string_view sid) {
  rapidjson::Document d;
  d.Parse(policy_json.c_str(), policy_json.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("Statement") || !d["Statement"].IsArray()) {
    ADD_FAILURE() << "not a policy document: " << policy_json;
    return policy_json;
  }
  auto& statements = d["Statement"];
  for (auto it = statements.Begin(); it != statements.End();) {
    const auto s = it->FindMember("Sid");
    if (s != it->MemberEnd() && s->value.IsString() && s->value.GetString() == sid) {
      it = statements.Erase(it);
    } else {
      ++it;
    }
  }
  return to_json(d);
}

class LabTest : public ::testing::Test {
 protected:
  void start(config::api_spec spec = lab_spec()) {
    ASSERT_EQ(spec.stage.name, "Prod");
    test_server_options options;
    options.log = &log_;
    server_ = std::make_unique<test_server>(std::move(spec), named_handlers{}, options);
  }

  std::pair<std::unique_ptr<ws_client>, std::string> join() { return join_lab(server_->port(), server_->store()); }
  std::set<std::string> table_ids() { return e2e::table_ids(server_->store()); }
  std::set<std::string> connection_ids() { return e2e::connection_ids(server_->store()); }

  // Waits until FUNCTION finished COUNT invocations (their REPORT lines, the last of each).
  void wait_for_ends(std::string_view function, std::size_t count) {
    EXPECT_TRUE(log_.wait_for(count, 5s, function, "", "REPORT RequestId: "))
        << "waiting for " << count << " REPORTs of " << function << "; log:\n" << log_.dump();
  }

  log_sink log_;
  std::unique_ptr<test_server> server_;
};

TEST_F(LabTest, TwoClientsChatAndTheTableIsEmptyOnceTheyLeave) {
  start();
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);
  EXPECT_TRUE(is_id(alice_id) && is_id(bob_id)) << alice_id << " " << bob_id;
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));

  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  auto m = alice->read();
  EXPECT_TRUE(m.is_text("hello")) << m;
  m = bob->read();
  EXPECT_TRUE(m.is_text("hello")) << m;

  // Data that is not a string goes out as its compact JSON text.
  ASSERT_TRUE(bob->send_text(send_message(R"({"n":1,"s":"x"})")));
  m = alice->read();
  EXPECT_TRUE(m.is_text(R"({"n":1,"s":"x"})")) << m;
  m = bob->read();
  EXPECT_TRUE(m.is_text(R"({"n":1,"s":"x"})")) << m;
  wait_for_ends("SendMessageFunction", 2);
  EXPECT_TRUE(log_.find("", "ERROR", "").empty()) << log_.dump();

  EXPECT_EQ(alice->close(1000, "bye").type, ws_message::kind::close);
  EXPECT_EQ(bob->close(1000, "bye").type, ws_message::kind::close);
  wait_for_ends("OnDisconnectFunction", 2);
  EXPECT_EQ(table_ids(), std::set<std::string>{});
  // The record goes once $disconnect has returned, which is just after its REPORT line.
  const auto deadline = steady::now() + 5s;
  while (!connection_ids().empty() && steady::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(connection_ids(), std::set<std::string>{});
  EXPECT_TRUE(log_.find("", "ERROR", "").empty()) << log_.dump();
}

// The dashboard's view of a table: /@emulator/tables lists the tables, /@emulator/tables/NAME
// shows the items $connect put there, in DynamoDB's JSON; an unknown name is a 404 naming the
// tables there are.
TEST_F(LabTest, TheEmulatorShowsTheTablesAndTheirItems) {
  start();
  auto [alice, alice_id] = join();
  ASSERT_TRUE(alice);
  const auto listed = http_call(server_->port(), "GET", "/@emulator/tables");
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(listed.header("Content-Type"), "application/json");
  EXPECT_EQ(listed.body, R"({"tables":[{"name":"simplechat_connections","keySchema":"connectionId (S) HASH"}]})");
  const auto shown = http_call(server_->port(), "GET", "/@emulator/tables/simplechat_connections");
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(shown.body, R"({"table":"simplechat_connections","keySchema":"connectionId (S) HASH","count":1,)"
                        R"("more":false,"items":[{"connectionId":{"S":")" + alice_id + R"("}}]})");
  const auto missing = http_call(server_->port(), "GET", "/@emulator/tables/chat%20room");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"message":"No table chat room; the tables are simplechat_connections"})");
}

// Someone who joins and is greeted at once (the room's next message follows the upgrade
// closely) must get the message, and must not be deleted from the table as a stale connection.
TEST_F(LabTest, AClientThatJustJoinedGetsTheNextMessage) {
  start();
  auto [alice, alice_id] = join();
  ASSERT_TRUE(alice);
  for (int i = 0; i < 100; ++i) {
    SCOPED_TRACE("newcomer " + std::to_string(i));
    ws_client newcomer;
    ASSERT_TRUE(newcomer.connect(server_->options("/Prod")).upgraded);
    const std::string text = "welcome " + std::to_string(i);
    ASSERT_TRUE(alice->send_text(send_message(json_string(text))));
    ASSERT_TRUE(alice->read().is_text(text));
    wait_for_ends("SendMessageFunction", static_cast<std::size_t>(i) + 1);
    ASSERT_TRUE(log_.find("SendMessageFunction", "INFO", "Found stale connection").empty()) << log_.dump();
    const auto m = newcomer.read(2s);
    ASSERT_TRUE(m.is_text(text)) << m;
    EXPECT_EQ(newcomer.close(1000).type, ws_message::kind::close);
    // Its $disconnect deletes it from the table; until then the next message would find it Gone.
    wait_for_ends("OnDisconnectFunction", static_cast<std::size_t>(i) + 1);
  }
}

TEST_F(LabTest, WithoutManageConnectionsNothingIsDeliveredAndTheDenialIsLogged) {
  auto spec = lab_spec();
  auto& policy = spec.integrations.at("SendMessageFunction").policy_json;
  ASSERT_NE(policy.find("execute-api:ManageConnections"), std::string::npos);
  policy = without_statement(policy, "ManageConnections");
  ASSERT_EQ(policy.find("execute-api"), std::string::npos) << policy;
  start(std::move(spec));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);

  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  wait_for_ends("SendMessageFunction", 1);
  const auto errors = log_.find("SendMessageFunction", "ERROR", "");
  ASSERT_EQ(errors.size(), 1u) << log_.dump();
  const std::string denied =
      "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/SendMessageFunctionRole/"
      "SendMessageFunction is not authorized to perform: execute-api:ManageConnections on resource: "
      "arn:aws:execute-api:us-east-1:123456789012:chatlab001/Prod/POST/@connections/";
  // The first failed post is reported; the scan decides which connection that was.
  EXPECT_TRUE(errors[0].message == denied + alice_id || errors[0].message == denied + bob_id)
      << errors[0].message;

  // The invocation's log stream reads START, the error, END, REPORT.
  std::vector<log_line> stream;
  for (const auto& l : log_.lines()) {
    if (l.request_id == errors[0].request_id) stream.push_back(l);
  }
  ASSERT_EQ(stream.size(), 4u) << log_.dump();
  EXPECT_EQ(stream[0].message, "START RequestId: " + errors[0].request_id + " Version: $LATEST");
  EXPECT_EQ(stream[1].level, "ERROR");
  EXPECT_EQ(stream[2].message, "END RequestId: " + errors[0].request_id);
  EXPECT_EQ(stream[3].message.rfind("REPORT RequestId: " + errors[0].request_id + "\tDuration: ", 0), 0u)
      << stream[3].message;

  // Nobody got "hello": the send-message function has finished, so a frame it had sent would
  // precede the Forbidden each client provokes now.
  ASSERT_TRUE(alice->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
  ASSERT_TRUE(bob->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(bob->read(), "Forbidden", bob_id));
  // A denied post is not a stale connection: nothing was deleted.
  EXPECT_TRUE(log_.find("SendMessageFunction", "INFO", "Found stale connection").empty()) << log_.dump();
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));
}

TEST_F(LabTest, WithoutTheSendmessageRouteTheSenderGetsForbidden) {
  auto spec = lab_spec();
  const auto before = spec.routes.size();
  std::erase_if(spec.routes, [](const config::route_spec& r) { return r.route_key == "sendmessage"; });
  ASSERT_EQ(spec.routes.size(), before - 1);
  start(std::move(spec));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);

  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
  // Bob got nothing: his own Forbidden is his first frame.
  ASSERT_TRUE(bob->send_text(send_message(R"("hi")")));
  EXPECT_TRUE(is_error_frame(bob->read(), "Forbidden", bob_id));
  EXPECT_TRUE(log_.find("SendMessageFunction", "", "").empty()) << log_.dump();
}

TEST_F(LabTest, SendmessageDeletesAStaleConnectionIdAndLogsIt) {
  start();
  const std::string stale = "StaleConnId0000=";
  ASSERT_TRUE(server_->store()
                  .call_json("PutItem", R"({"TableName":"simplechat_connections","Item":{"connectionId":{"S":")" +
                                            stale + R"("}}})")
                  .ok());
  auto [alice, alice_id] = join();
  ASSERT_TRUE(alice);
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, stale}));

  ASSERT_TRUE(alice->send_text(send_message(R"("anyone there?")")));
  EXPECT_TRUE(alice->read().is_text("anyone there?"));
  wait_for_ends("SendMessageFunction", 1);
  const auto found = log_.find("SendMessageFunction", "INFO", "Found stale connection");
  ASSERT_EQ(found.size(), 1u) << log_.dump();
  EXPECT_EQ(found[0].message, "Found stale connection, deleting " + stale);
  EXPECT_TRUE(log_.find("", "ERROR", "").empty()) << log_.dump();
  EXPECT_EQ(table_ids(), std::set<std::string>{alice_id});  // the stale id, not the sender's
}

TEST_F(LabTest, ANonJsonBodyOnSendmessageGivesInternalServerError) {
  // A learner who routes everything else to the send-message function too.
  auto spec = lab_spec();
  config::route_spec fallback;
  fallback.route_key = "$default";
  fallback.integration = "SendMessageFunction";
  fallback.json_path = "routes[3]";
  spec.routes.push_back(fallback);
  start(std::move(spec));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);

  ASSERT_TRUE(alice->send_text("hello, not JSON"));
  EXPECT_TRUE(is_error_frame(alice->read(), "Internal server error", alice_id));
  wait_for_ends("SendMessageFunction", 1);
  const auto errors = log_.find("SendMessageFunction", "ERROR", "");
  ASSERT_EQ(errors.size(), 1u) << log_.dump();
  EXPECT_NE(errors[0].message.find("SyntaxError"), std::string::npos) << errors[0].message;

  // The connection stays open and Bob got nothing before the next message.
  ASSERT_TRUE(alice->send_text(send_message(R"("after")")));
  EXPECT_TRUE(alice->read().is_text("after"));
  EXPECT_TRUE(bob->read().is_text("after"));
}

}  // namespace
}  // namespace apigw::e2e
