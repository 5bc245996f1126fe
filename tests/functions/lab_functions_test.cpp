// The Websocket-Lab's own functions in Node.js and Python (lab/, docs/lab.md), run by
// the shipped configs (config/websocket-lab-LANG.json, config/lab-auth-LANG.json) loaded from
// their files, so that codeUri resolves as it does for a learner: the chat works and the table
// follows the connections, and each lab task shows as the built-in C++ lab shows it - the missing
// route as the Forbidden frame, a missing permission as AWS's AccessDeniedException in the
// function's log while nobody receives anything, the authorizer's 401, 403 and principal. The
// same for the lab as a SAM application (lab/LANG/template.yaml), edited as a learner edits it.
#include <signal.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "templates/template_loader.hpp"
#include "tests/e2e/lab_common.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/log_sink.hpp"

namespace apigw::functions_test {
namespace {

using namespace apigw::e2e;
namespace fs = std::filesystem;

// A cold start (a process, the SDK's modules) takes about a second; leave room for a busy machine.
constexpr auto kWait = 15s;

const fs::path kSource = APIGW_SOURCE_DIR;

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

// The access denial AWS reports for FUNCTION's role.
std::string denied(std::string_view function, std::string_view action, std::string_view resource) {
  return "AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/" + std::string(function) + "Role/" +
         std::string(function) + " is not authorized to perform: " + std::string(action) + " on resource: " +
         std::string(resource);
}
constexpr std::string_view kTableArn = "arn:aws:dynamodb:us-east-1:123456789012:table/simplechat_connections";

// An emulator the test started serves the lab's chat on PORT: a client joins /Prod and, once the
// management API reaches its connection, gets its own "hello" back; SIGTERM then closes it with
// 1001 and the emulator exits 0.
void chat_then_stop(child_process& emulator, std::uint16_t port) {
  connect_options o;
  o.port = port;
  o.target = "/Prod";
  ws_client alice(kWait);
  const auto hs = alice.connect(o);
  ASSERT_TRUE(hs.upgraded) << hs.status << " " << hs.error;
  const auto listed = http_call(o.port, "GET", "/@emulator/connections");
  std::smatch id;
  ASSERT_TRUE(std::regex_search(listed.body, id, std::regex(R"re("connectionId":"([^"]+)")re"))) << listed.body;
  const auto began = steady::now();
  while (http_call(o.port, "GET", "/Prod/@connections/" + id[1].str()).status != 200) {
    ASSERT_LT(elapsed_ms(began), 2000) << "GetConnection never answered 200";
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(alice.send_text(send_message(R"("hello")")));
  const auto f = alice.read(kWait);
  EXPECT_TRUE(f.is_text("hello")) << f;
  emulator.signal(SIGTERM);
  EXPECT_TRUE(alice.read(10s).is_close(1001, "Going away"));
  EXPECT_EQ(emulator.wait(20s), std::optional<int>(0));
}

// The parameter: the functions' language, the folder under lab/ and the configs' suffix.
class LabFunctionsTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& language() const { return GetParam(); }

  // config/NAME-LANG.json, loaded from its file.
  config::api_spec load(std::string_view name) const {
    const fs::path file = kSource / "config" / (std::string(name) + "-" + language() + ".json");
    auto loaded = config::load_file(file);
    if (!loaded) {
      ADD_FAILURE() << "the config does not load: " << loaded.error();
      return {};
    }
    return *std::move(loaded);
  }

  // lab/LANG/template.yaml as `--template` serves it, after EDIT (a learner's change to the
  // template's text), with OVERRIDES as --parameter-overrides.
  config::api_spec load_template(std::vector<std::pair<std::string, std::string>> overrides = {},
                                 const std::function<void(std::string&)>& edit = {}) const {
    const fs::path file = kSource / "lab" / language() / "template.yaml";
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    if (edit) edit(yaml);
    templates::template_options options;
    options.parameter_overrides = std::move(overrides);
    auto translated = templates::translate_template_text(yaml, file.string(), file.parent_path(), options);
    if (!translated) {
      ADD_FAILURE() << "the template does not translate: " << translated.error();
      return {};
    }
    auto loaded = config::load_text(translated->config_json, file.string());
    if (!loaded) {
      ADD_FAILURE() << "its configuration does not load: " << loaded.error() << "\n" << translated->config_json;
      return {};
    }
    return *std::move(loaded);
  }

  // TEXT with FROM replaced by TO, which must be there.
  static void replace(std::string& text, std::string_view from, std::string_view to) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << "not in the template: " << from;
    text.replace(at, from.size(), to);
  }

  void start(config::api_spec spec) {
    ASSERT_EQ(spec.stage.name, "Prod");
    joined_ = 0;
    test_server_options options;
    options.log = &log_;
    server_ = std::make_unique<test_server>(std::move(spec), named_handlers{}, options);
  }

  // A client chatting on /Prod?QUERY and its connection id (the item $connect put in the table),
  // once the management API reaches it; nullptr (and a failure) when the upgrade fails.
  std::pair<std::unique_ptr<ws_client>, std::string> join(const std::string& query = "") {
    const auto before = table_ids();
    auto client = std::make_unique<ws_client>(kWait);
    const auto hs = client->connect(server_->options("/Prod" + query));
    if (!hs.upgraded) {
      ADD_FAILURE() << "upgrade failed: " << hs.status << " " << hs.error << "\n" << log_.dump();
      return {nullptr, ""};
    }
    ++joined_;
    std::string id;
    for (const auto& stored : table_ids()) {
      if (!before.count(stored)) id = stored;
    }
    if (id.empty()) {
      ADD_FAILURE() << "no item for the new client in " << kLabTable;
      return {std::move(client), ""};
    }
    const auto began = steady::now();
    while (http_call(server_->port(), "GET", "/Prod/@connections/" + id).status != 200) {
      if (elapsed_ms(began) > 2000) {
        ADD_FAILURE() << "GetConnection never answered 200 for " << id;
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
    return {std::move(client), id};
  }

  // The handshake's status for /Prod?QUERY (101 when upgraded).
  int status_for(const std::string& query) {
    ws_client c(kWait);
    return c.connect(server_->options("/Prod" + query)).status;
  }

  std::set<std::string> table_ids() { return e2e::table_ids(server_->store()); }
  std::set<std::string> connection_ids() { return e2e::connection_ids(server_->store()); }

  // Waits until FUNCTION finished COUNT invocations (their REPORT lines).
  void wait_for_ends(std::string_view function, std::size_t count) {
    EXPECT_TRUE(log_.wait_for(count, kWait, function, "", "REPORT RequestId: "))
        << "waiting for " << count << " REPORTs of " << function << "; log:\n" << log_.dump();
  }

  // FUNCTION's error lines: console.error's "time\tid\tERROR\t…" (Node.js) or logging's
  // "[ERROR]\ttime\tid\t…" and uncaught errors' "[ERROR] Type: …" (Python).
  std::vector<log_line> errors(std::string_view function = "") const {
    std::vector<log_line> found;
    for (const auto& l : log_.lines()) {
      if (!function.empty() && l.function != function) continue;
      if (l.message.find("\tERROR\t") != std::string::npos || l.message.rfind("[ERROR]", 0) == 0) found.push_back(l);
    }
    return found;
  }

  // Task 2's symptom: SendMessageFunction's one error is AWS's denial of its Scan.
  void expect_the_scan_denied() {
    wait_for_ends("SendMessageFunction", 1);
    const auto errors_logged = errors("SendMessageFunction");
    ASSERT_EQ(errors_logged.size(), 1u) << log_.dump();
    EXPECT_TRUE(ends_with(errors_logged[0].message,
                          denied("SendMessageFunction", "dynamodb:Scan", kTableArn) +
                              " because no identity-based policy allows the dynamodb:Scan action"))
        << errors_logged[0].message;
  }

  // LINE ends with TEXT.
  static bool ends_with(const std::string& line, std::string_view text) {
    return line.size() >= text.size() && line.compare(line.size() - text.size(), text.size(), text) == 0;
  }

  // The clients a test leaves connected are gone (1006); their $disconnect runs to its end
  // before the server stops (StoppingTheServerRunsDisconnectThroughTheFunctions is about that).
  void TearDown() override {
    if (server_ && joined_ > 0) wait_for_ends("OnDisconnectFunction", joined_);
  }

  log_sink log_;
  std::unique_ptr<test_server> server_;
  std::size_t joined_ = 0;  // clients upgraded by join()
};

TEST_P(LabFunctionsTest, CodeUriResolvesAgainstTheConfigsFolder) {
  for (const auto& name : {"websocket-lab", "lab-auth"}) {
    const auto spec = load(name);
    std::map<std::string, std::string> folders = {{"OnConnectFunction", "onconnect"},
                                                  {"OnDisconnectFunction", "ondisconnect"},
                                                  {"SendMessageFunction", "sendmessage"}};
    if (std::string_view(name) == "lab-auth") folders["AuthorizerFunction"] = "authorizer";
    ASSERT_EQ(spec.integrations.size(), folders.size()) << name;
    for (const auto& [function, folder] : folders) {
      const auto& integration = spec.integrations.at(function);
      ASSERT_TRUE(integration.function.has_value()) << function;
      EXPECT_EQ(integration.function->code_dir, (kSource / "lab" / language() / folder).lexically_normal().string());
      EXPECT_EQ(integration.function->runtime, language() == "nodejs" ? "nodejs20.x" : "python3.11");
    }
  }
}

TEST_P(LabFunctionsTest, TwoClientsChatAndTheTableIsEmptyOnceTheyLeave) {
  start(load("websocket-lab"));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);
  EXPECT_TRUE(is_id(alice_id) && is_id(bob_id)) << alice_id << " " << bob_id;
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));

  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  auto m = alice->read();
  EXPECT_TRUE(m.is_text("hello")) << m << "\n" << log_.dump();
  m = bob->read();
  EXPECT_TRUE(m.is_text("hello")) << m;

  // Data that is not a string goes out as its compact JSON text; no data as an empty message.
  ASSERT_TRUE(bob->send_text(send_message(R"({"n":1.5,"s":"x\u00e9","z":null})")));
  for (auto* c : {alice.get(), bob.get()}) {
    m = c->read();
    EXPECT_TRUE(m.is_text("{\"n\":1.5,\"s\":\"x\xc3\xa9\",\"z\":null}")) << m;
  }
  ASSERT_TRUE(bob->send_text(R"({"action":"sendmessage"})"));
  for (auto* c : {alice.get(), bob.get()}) {
    m = c->read();
    EXPECT_TRUE(m.is_text("")) << m;
  }
  wait_for_ends("SendMessageFunction", 3);
  EXPECT_TRUE(errors().empty()) << log_.dump();

  EXPECT_EQ(alice->close(1000, "bye").type, ws_message::kind::close);
  EXPECT_EQ(bob->close(1000, "bye").type, ws_message::kind::close);
  wait_for_ends("OnDisconnectFunction", 2);
  EXPECT_EQ(table_ids(), std::set<std::string>{});
  EXPECT_EQ(connection_ids(), std::set<std::string>{});
  EXPECT_TRUE(errors().empty()) << log_.dump();
}

TEST_P(LabFunctionsTest, SendmessageDeletesAStaleConnectionIdAndLogsIt) {
  start(load("websocket-lab"));
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
  const auto found = log_.find("SendMessageFunction", "", "Found stale connection");
  ASSERT_EQ(found.size(), 1u) << log_.dump();
  // "time\tid\tINFO\tFound …" (Node.js), "[INFO]\ttime\tid\tFound …" (Python).
  EXPECT_TRUE(ends_with(found[0].message, "\tFound stale connection, deleting " + stale)) << found[0].message;
  EXPECT_NE(found[0].message.find("INFO"), std::string::npos) << found[0].message;
  EXPECT_TRUE(errors().empty()) << log_.dump();
  EXPECT_EQ(table_ids(), std::set<std::string>{alice_id});  // the stale id, not the sender's
}

// Task 1: the sendmessage route removed from the API.
TEST_P(LabFunctionsTest, Task1WithoutTheSendmessageRouteTheSenderGetsForbidden) {
  auto spec = load("websocket-lab");
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

// Task 2 as the lab sets it: SendMessageFunction's role lacks execute-api:ManageConnections.
TEST_P(LabFunctionsTest, Task2WithoutManageConnectionsNothingIsDeliveredAndTheDenialIsLogged) {
  auto spec = load("websocket-lab");
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
  const auto errors_logged = errors("SendMessageFunction");
  ASSERT_EQ(errors_logged.size(), 1u) << log_.dump();
  const std::string prefix = denied("SendMessageFunction", "execute-api:ManageConnections",
                                    "arn:aws:execute-api:us-east-1:123456789012:chatlab001/Prod/POST/@connections/");
  // The first failed post is reported; the scan decides which connection that was.
  EXPECT_TRUE(ends_with(errors_logged[0].message, prefix + alice_id) || ends_with(errors_logged[0].message, prefix + bob_id))
      << errors_logged[0].message;

  // The invocation's log stream reads START, the error, END, REPORT.
  std::vector<std::string> stream;
  for (const auto& l : log_.lines()) {
    if (l.function == "SendMessageFunction" && l.request_id == errors_logged[0].request_id) stream.push_back(l.message);
  }
  ASSERT_EQ(stream.size(), 4u) << log_.dump();
  EXPECT_EQ(stream[0], "START RequestId: " + errors_logged[0].request_id + " Version: $LATEST");
  EXPECT_EQ(stream[2], "END RequestId: " + errors_logged[0].request_id);
  EXPECT_EQ(stream[3].rfind("REPORT RequestId: " + errors_logged[0].request_id + "\tDuration: ", 0), 0u) << stream[3];

  // Nobody got "hello": the function has finished, so a frame it had sent would precede the
  // Forbidden each client provokes now.
  ASSERT_TRUE(alice->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
  ASSERT_TRUE(bob->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(bob->read(), "Forbidden", bob_id));
  // A denied post is not a stale connection: nothing was deleted.
  EXPECT_TRUE(log_.find("SendMessageFunction", "", "Found stale connection").empty()) << log_.dump();
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));
}

// Task 2, one step earlier: SendMessageFunction's role lacks the DynamoDB statement.
TEST_P(LabFunctionsTest, Task2WithoutDynamoDbTheScanDenialIsLoggedAndNobodyReceivesAnything) {
  auto spec = load("websocket-lab");
  auto& policy = spec.integrations.at("SendMessageFunction").policy_json;
  policy = without_statement(policy, "DynamoDBCrudPolicy");
  ASSERT_EQ(policy.find("dynamodb:"), std::string::npos) << policy;
  start(std::move(spec));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);

  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  expect_the_scan_denied();
  ASSERT_TRUE(alice->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
  ASSERT_TRUE(bob->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(bob->read(), "Forbidden", bob_id));
}

// Task 2 on $connect: OnConnectFunction's role lacks the DynamoDB statement.
TEST_P(LabFunctionsTest, Task2WithoutDynamoDbOnConnectTheHandshakeGets500) {
  auto spec = load("websocket-lab");
  auto& policy = spec.integrations.at("OnConnectFunction").policy_json;
  policy = without_statement(policy, "DynamoDBCrudPolicy");
  start(std::move(spec));
  EXPECT_EQ(status_for(""), 500);
  wait_for_ends("OnConnectFunction", 1);
  const auto errors_logged = errors("OnConnectFunction");
  ASSERT_EQ(errors_logged.size(), 1u) << log_.dump();
  EXPECT_TRUE(ends_with(errors_logged[0].message,
                        "Failed to connect: " + denied("OnConnectFunction", "dynamodb:PutItem", kTableArn) +
                            " because no identity-based policy allows the dynamodb:PutItem action"))
      << errors_logged[0].message;
  EXPECT_EQ(table_ids(), std::set<std::string>{});
}

// Ctrl-C or SIGTERM (test_server::stop) closes every connection with 1001 and runs $disconnect
// through the functions, whose DynamoDB calls reach the emulator: the table is empty afterwards.
TEST_P(LabFunctionsTest, StoppingTheServerRunsDisconnectThroughTheFunctions) {
  start(load("websocket-lab"));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));
  // The clients answer the server's close while stop() waits for the close handshakes.
  std::thread stopper([this] { server_->stop(); });
  const auto alice_closed = alice->read();
  const auto bob_closed = bob->read();
  stopper.join();
  EXPECT_TRUE(alice_closed.is_close(1001, "Going away")) << alice_closed;
  EXPECT_TRUE(bob_closed.is_close(1001, "Going away")) << bob_closed;
  // stop() returns after $disconnect ran.
  EXPECT_EQ(log_.find("OnDisconnectFunction", "", "REPORT RequestId: ").size(), 2u) << log_.dump();
  EXPECT_TRUE(errors().empty()) << log_.dump();
  EXPECT_TRUE(log_.find("OnDisconnectFunction", "", "Task timed out").empty()) << log_.dump();
  EXPECT_EQ(table_ids(), std::set<std::string>{});
  joined_ = 0;
}

// A learner who routes everything else to the send-message function too.
TEST_P(LabFunctionsTest, ANonJsonBodyOnSendmessageGivesInternalServerError) {
  auto spec = load("websocket-lab");
  config::route_spec fallback;
  fallback.route_key = "$default";
  fallback.integration = "SendMessageFunction";
  fallback.json_path = "routes[3]";
  spec.routes.push_back(fallback);
  start(std::move(spec));
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);

  for (const char* body : {"hello, not JSON", "[1]"}) {
    SCOPED_TRACE(body);
    ASSERT_TRUE(alice->send_text(body));
    EXPECT_TRUE(is_error_frame(alice->read(), "Internal server error", alice_id));
  }
  // The connection stays open and Bob got nothing before the next message.
  ASSERT_TRUE(alice->send_text(send_message(R"("after")")));
  EXPECT_TRUE(alice->read().is_text("after"));
  EXPECT_TRUE(bob->read().is_text("after"));
}

// Task 3: the authorizer function on $connect.
TEST_P(LabFunctionsTest, Task3TheAuthorizerLetsInAliceAndBobOnly) {
  auto spec = load("lab-auth");
  ASSERT_EQ(spec.authorizers.at("LabAuthorizer").function, "AuthorizerFunction");
  // A window on the events the connection's functions get.
  config::integration_spec inspect;
  inspect.name = "Inspect";
  inspect.handler = "inspect";
  inspect.json_path = "integrations.Inspect";
  spec.integrations.emplace(inspect.name, inspect);
  config::route_spec whoami;
  whoami.route_key = "whoami";
  whoami.integration = "Inspect";
  whoami.route_response_selection_expression = "$default";
  whoami.json_path = "routes[3]";
  spec.routes.push_back(whoami);
  start(std::move(spec));

  EXPECT_EQ(status_for(""), 401);                       // no token: the authorizer is not invoked
  EXPECT_EQ(status_for("?token=mallory-token"), 401);   // "Unauthorized"
  EXPECT_EQ(status_for("?token=revoked-token"), 403);   // a Deny policy
  EXPECT_EQ(log_.find("AuthorizerFunction", "", "START RequestId:").size(), 2u) << log_.dump();
  EXPECT_EQ(log_.find("OnConnectFunction", "", "START RequestId:").size(), 0u) << log_.dump();
  EXPECT_EQ(table_ids(), std::set<std::string>{});

  auto [alice, alice_id] = join("?token=alice-token");
  auto [bob, bob_id] = join("?token=bob-token");
  ASSERT_TRUE(alice && bob);
  ASSERT_TRUE(alice->send_text(R"({"action":"whoami"})"));
  json_doc event(alice->read().data);
  EXPECT_EQ(event.str("requestContext.authorizer.principalId").value_or(""), "alice") << event.text();
  EXPECT_EQ(event.str("requestContext.authorizer.displayName").value_or(""), "Alice") << event.text();
  const auto listed = http_call(server_->port(), "GET", "/@emulator/connections");
  EXPECT_NE(listed.body.find("\"principalId\":\"alice\""), std::string::npos) << listed.body;
  EXPECT_NE(listed.body.find("\"principalId\":\"bob\""), std::string::npos) << listed.body;

  // The chat works for them as without the authorizer.
  ASSERT_TRUE(bob->send_text(send_message(R"("hi Alice")")));
  EXPECT_TRUE(alice->read().is_text("hi Alice"));
  EXPECT_TRUE(bob->read().is_text("hi Alice"));
}

// Task 3, edit and retry: a token added to the authorizer's code lets its user in at the next
// handshake, without a restart (on a copy of the code).
TEST_P(LabFunctionsTest, Task3AUserAddedToTheAuthorizersCodeGetsInWithoutARestart) {
  temp_dir copy;
  const fs::path folder = copy.path("authorizer");
  fs::copy(kSource / "lab" / language() / "authorizer", folder, fs::copy_options::recursive);
  auto spec = load("lab-auth");
  spec.integrations.at("AuthorizerFunction").function->code_dir = folder.string();
  start(std::move(spec));
  EXPECT_EQ(status_for("?token=carol-token"), 401);

  // The edit docs/lab.md describes: a line for Carol after Bob's.
  const fs::path file = folder / (language() == "nodejs" ? "app.mjs" : "app.py");
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string code = text.str();
  const std::string bob = language() == "nodejs"
                              ? R"(  ["bob-token", { principalId: "bob", context: { displayName: "Bob" } }],)"
                              : R"(    "bob-token": {"principalId": "bob", "context": {"displayName": "Bob"}},)";
  const std::string carol = language() == "nodejs"
                                ? R"(  ["carol-token", { principalId: "carol", context: { displayName: "Carol" } }],)"
                                : R"(    "carol-token": {"principalId": "carol", "context": {"displayName": "Carol"}},)";
  const auto at = code.find(bob + "\n");
  ASSERT_NE(at, std::string::npos) << code;
  code.insert(at + bob.size() + 1, carol + "\n");
  std::ofstream(file) << code;

  auto [carol_client, carol_id] = join("?token=carol-token");
  ASSERT_TRUE(carol_client);
  EXPECT_TRUE(log_.wait_for(1, kWait, "AuthorizerFunction", "", "code changed in " + folder.string())) << log_.dump();
}

// What a learner types, from the project's folder: scripts/run --config config/websocket-lab-LANG.json
// (scripts/run changes to the project's folder and starts the emulator with the arguments).
TEST_P(LabFunctionsTest, TheDocumentedCommandServesTheChat) {
  child_process emulator("/usr/bin/env", {"-C", kSource.string(), APIGW_EMULATOR_BINARY, "--config",
                                          "config/websocket-lab-" + language() + ".json", "--port", "0", "--quiet"});
  const std::string line = emulator.read_stdout_line(20s);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(ws://127\.0\.0\.1:(\d+)/Prod)"))) << line;
  chat_then_stop(emulator, static_cast<std::uint16_t>(std::stoi(m[1])));
}

// The lab as a SAM application: the template gives the shipped config's API (the same routes,
// functions, code, environment and table), each function's policy holding what SAM gives it.
TEST_P(LabFunctionsTest, TheTemplateTranslatesToTheShippedConfigsApi) {
  const auto from_template = load_template();
  const auto shipped = load("websocket-lab");
  ASSERT_EQ(from_template.routes.size(), shipped.routes.size());
  for (std::size_t i = 0; i < shipped.routes.size(); ++i) {
    EXPECT_EQ(from_template.routes[i].route_key, shipped.routes[i].route_key);
    EXPECT_EQ(from_template.routes[i].integration, shipped.routes[i].integration);
  }
  ASSERT_EQ(from_template.integrations.size(), shipped.integrations.size());
  for (const auto& [name, integration] : shipped.integrations) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(from_template.integrations.contains(name));
    const auto& f = *from_template.integrations.at(name).function;
    EXPECT_EQ(f.runtime, integration.function->runtime);
    EXPECT_EQ(f.handler, integration.function->handler);
    EXPECT_EQ(f.code_dir, integration.function->code_dir);
    EXPECT_EQ(f.environment, integration.function->environment);
    EXPECT_EQ(f.memory_mb, integration.function->memory_mb);
    const std::string& policy = from_template.integrations.at(name).policy_json;
    EXPECT_NE(policy.find(R"("Sid":"AWSLambdaBasicExecutionRole")"), std::string::npos) << policy;
    EXPECT_NE(policy.find(R"("Sid":"DynamoDBCrudPolicy")"), std::string::npos) << policy;
    EXPECT_NE(policy.find(std::string(kTableArn) + "/index/*"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("execute-api:ManageConnections") != std::string::npos, name == "SendMessageFunction")
        << policy;
  }
  ASSERT_EQ(from_template.tables.size(), 1u);
  EXPECT_EQ(from_template.tables[0].definition_json, shipped.tables[0].definition_json);
  EXPECT_EQ(from_template.stage.name, "Prod");
  EXPECT_TRUE(from_template.authorizers.empty());
}

TEST_P(LabFunctionsTest, TheTemplatesChatWorksAndTheTableFollowsTheConnections) {
  start(load_template());
  auto [alice, alice_id] = join();
  auto [bob, bob_id] = join();
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(table_ids(), (std::set<std::string>{alice_id, bob_id}));
  ASSERT_TRUE(alice->send_text(send_message(R"("hello from the template")")));
  EXPECT_TRUE(alice->read().is_text("hello from the template")) << log_.dump();
  EXPECT_TRUE(bob->read().is_text("hello from the template"));
  alice->close(1000);
  wait_for_ends("OnDisconnectFunction", 1);
  EXPECT_EQ(table_ids(), (std::set<std::string>{bob_id}));
}

// Task 1 in the template: the SendRoute resource deleted (and from the Deployment's DependsOn,
// which CloudFormation would refuse otherwise).
TEST_P(LabFunctionsTest, TheTemplateWithoutItsSendRouteGivesTheSenderForbidden) {
  start(load_template({}, [](std::string& yaml) {
    replace(yaml,
            "  SendRoute:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      ApiId: !Ref SimpleChatWebSocket\n"
            "      RouteKey: sendmessage\n      AuthorizationType: NONE\n      OperationName: SendRoute\n"
            "      Target: !Join ['/', [integrations, !Ref SendInteg]]\n",
            "");
    replace(yaml, "DependsOn: [ConnectRoute, SendRoute, DisconnectRoute]", "DependsOn: [ConnectRoute, DisconnectRoute]");
  }));
  auto [alice, alice_id] = join();
  ASSERT_TRUE(alice);
  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
}

// Task 2 in the template: SendMessageFunction's Policies without DynamoDBCrudPolicy.
TEST_P(LabFunctionsTest, TheTemplateWithoutSendMessagesDynamoDbPolicyLogsTheScanDenial) {
  start(load_template({}, [](std::string& yaml) {
    replace(yaml,
            "      CodeUri: sendmessage/\n      Policies:\n        - DynamoDBCrudPolicy:\n"
            "            TableName: !Ref TableName\n",
            "      CodeUri: sendmessage/\n      Policies:\n");
  }));
  auto [alice, alice_id] = join();
  ASSERT_TRUE(alice);
  ASSERT_TRUE(alice->send_text(send_message(R"("hello")")));
  expect_the_scan_denied();
  ASSERT_TRUE(alice->send_text("not for any route"));
  EXPECT_TRUE(is_error_frame(alice->read(), "Forbidden", alice_id));
}

// Task 3 with the template's parameter: Authentication=on puts the authorizer on $connect.
TEST_P(LabFunctionsTest, TheTemplateWithAuthenticationOnLetsInAliceAndBobOnly) {
  auto spec = load_template({{"Authentication", "on"}});
  ASSERT_EQ(spec.authorizers.at("LabAuthorizer").function, "AuthorizerFunction");
  start(std::move(spec));
  EXPECT_EQ(status_for(""), 401);
  EXPECT_EQ(status_for("?token=mallory-token"), 401);
  EXPECT_EQ(status_for("?token=revoked-token"), 403);
  auto [alice, alice_id] = join("?token=alice-token");
  ASSERT_TRUE(alice);
  const auto listed = http_call(server_->port(), "GET", "/@emulator/connections");
  EXPECT_NE(listed.body.find("\"principalId\":\"alice\""), std::string::npos) << listed.body;
}

// What a learner types: --template lab/LANG/template.yaml. The start-up output lists what the
// emulator ignores and the template's Outputs, WebSocketURI with the local URL beside AWS's.
TEST_P(LabFunctionsTest, TheTemplateCommandPrintsItsOutputsAndServesTheChat) {
  child_process emulator("/usr/bin/env", {"-C", kSource.string(), APIGW_EMULATOR_BINARY, "--template",
                                          "lab/" + language() + "/template.yaml", "--port", "0", "--quiet"});
  std::vector<std::string> lines;
  for (int i = 0; i < 11; ++i) {
    std::string line = emulator.read_stdout_line(20s);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    lines.push_back(std::move(line));
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines[0], m, std::regex(R"(^listening on ws://127\.0\.0\.1:(\d+)/Prod$)"))) << lines[0];
  const std::string port = m[1];
  EXPECT_EQ(lines[2], "not emulated: OnConnectPermission (AWS::Lambda::Permission)");
  EXPECT_EQ(lines[3], "not emulated: OnDisconnectPermission (AWS::Lambda::Permission)");
  EXPECT_EQ(lines[4], "not emulated: SendMessagePermission (AWS::Lambda::Permission)");
  EXPECT_EQ(lines[5], "Outputs:");
  const std::string api_id = config::derive_api_id("SimpleChatWebSocket");
  EXPECT_EQ(lines[6], "  ConnectionsTableArn = " + std::string(kTableArn));
  EXPECT_EQ(lines[7], "  OnConnectFunctionArn = arn:aws:lambda:us-east-1:123456789012:function:OnConnectFunction");
  EXPECT_EQ(lines[10], "  WebSocketURI = wss://" + api_id + ".execute-api.us-east-1.amazonaws.com/Prod  (here: ws://127.0.0.1:" +
                           port + "/Prod)");
  chat_then_stop(emulator, static_cast<std::uint16_t>(std::stoi(port)));
}

INSTANTIATE_TEST_SUITE_P(Languages, LabFunctionsTest, ::testing::Values("nodejs", "python"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace apigw::functions_test
