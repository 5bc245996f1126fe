// Authorization of $connect end to end (docs/auth.md): a REQUEST authorizer's every
// outcome with exact statuses, the authorizer's event, requestContext.authorizer on every later
// event, the built-in token authorizer, API keys, and AWS_IAM with SigV4-signed handshakes.
#include "tests/e2e/e2e_common.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>

#include "config/config_loader.hpp"
#include "emulator/net/server.hpp"
#include "apigw/handler_registry.hpp"
#include "tests/support/sigv4_signer.hpp"

namespace apigw::e2e {
namespace {

const std::string connect_arn = "arn:aws:execute-api:eu-west-1:123456789012:authapi001/dev/$connect";

std::string policy(std::string_view effect, std::string_view resource) {
  return R"({"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":")" +
         std::string(effect) + R"(","Resource":")" + std::string(resource) + R"("}]})";
}

// An authorizer the test scripts: it records every event and answers as told.
class scripted_authorizer final : public apigw::authorizer {
 public:
  enum class failure { none, unauthorized, error };
  struct script {
    apigw::authorizer_result answer;
    failure fails = failure::none;
    std::chrono::milliseconds delay{0};
  };

  void set(script s) {
    std::lock_guard lock(mutex_);
    script_ = std::move(s);
  }

  apigw::authorizer_result authorize(const rapidjson::Value& event, apigw::invocation_context&) override {
    script s;
    {
      std::lock_guard lock(mutex_);
      events_.emplace_back(to_json(event));
      s = script_;
    }
    if (s.delay.count() > 0) std::this_thread::sleep_for(s.delay);
    if (s.fails == failure::unauthorized) throw apigw::unauthorized();
    if (s.fails == failure::error) throw std::runtime_error("the user database is down");
    return s.answer;
  }

  bool may_block() const override {
    std::lock_guard lock(mutex_);
    return script_.delay.count() > 0;
  }

  std::vector<json_doc> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  script script_;
  std::vector<json_doc> events_;
};

// What the registry builds for "scripted": a forwarder to the test's one instance.
class forwarding_authorizer final : public apigw::authorizer {
 public:
  explicit forwarding_authorizer(std::shared_ptr<scripted_authorizer> target) : target_(std::move(target)) {}
  apigw::authorizer_result authorize(const rapidjson::Value& event, apigw::invocation_context& c) override {
    return target_->authorize(event, c);
  }
  bool may_block() const override { return target_->may_block(); }

 private:
  std::shared_ptr<scripted_authorizer> target_;
};

// The API of these tests: $connect, $disconnect and $default run the recorder, "echo" echoes.
// CONNECT_EXTRA adds members to the $connect route, TOP_EXTRA top-level members (each followed
// by a comma).
std::string auth_api(std::string_view connect_extra, std::string_view top_extra = "",
                     std::string_view limits = "") {
  std::string j = R"({"name":"auth","apiId":"authapi001","region":"eu-west-1",)"
                  R"("routeSelectionExpression":"$request.body.action","stage":{"name":"dev"},)";
  j += top_extra;
  if (!limits.empty()) j += R"("limits":{)" + std::string(limits) + "},";
  j += R"("routes":[{"routeKey":"$connect","integration":"rec")";
  j += connect_extra;
  j += R"(},{"routeKey":"$disconnect","integration":"rec"},{"routeKey":"$default","integration":"rec"},)"
       R"({"routeKey":"echo","integration":"echo","routeResponseSelectionExpression":"$default"}],)"
       R"("integrations":{"rec":{"handler":"recorder"},"echo":{"handler":"echo"}}})";
  return j;
}

const std::string custom_connect = R"(,"authorizationType":"CUSTOM","authorizerId":"auth")";
const std::string scripted_authorizers =
    R"("authorizers":{"auth":{"type":"REQUEST","handler":"scripted",)"
    R"("identitySource":["route.request.querystring.token","route.request.header.Auth"]}},)";

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() {
    registry_.add_instance("recorder", recorder_);
    registry_.add_authorizer("scripted", [target = authorizer_](const rapidjson::Value&)
                                             -> std::variant<std::unique_ptr<apigw::authorizer>, std::string> {
      return std::make_unique<forwarding_authorizer>(target);
    });
  }

  // What server::create says about CONFIG ("" when it starts).
  std::string create_error(const std::string& config) {
    auto loaded = config::load_text(config, "auth.json");
    if (!loaded) return loaded.error();
    emulator::server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 2;
    o.print_trace = false;
    auto created = emulator::server::create(*std::move(loaded), registry_, o);
    if (!created) return created.error();
    server_ = *std::move(created);
    auto started = server_->start();
    return started ? std::string() : started.error();
  }

  void start(const std::string& config) { ASSERT_EQ(create_error(config), ""); }

  std::uint16_t port() const { return server_->port(); }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port()); }

  handshake_result handshake(std::string target, header_list headers = {}) {
    ws_client client;
    return client.connect(options(std::move(target), std::move(headers)));
  }

  connect_options options(std::string target, header_list headers = {}) const {
    connect_options o;
    o.port = port();
    o.target = std::move(target);
    o.headers = std::move(headers);
    return o;
  }

  // Opens a connection that must be let in; nullptr (and a failure) when it is refused.
  std::unique_ptr<ws_client> open(std::string target, header_list headers = {}) {
    auto client = std::make_unique<ws_client>();
    const auto hs = client->connect(options(std::move(target), std::move(headers)));
    if (!hs.upgraded) {
      ADD_FAILURE() << "refused with " << hs.status << ": " << hs.error;
      return nullptr;
    }
    return client;
  }

  // The connectionId of the latest CONNECT event the recorder saw ("" when none).
  std::string last_connection_id() const {
    const auto connects = recorder_->events("CONNECT");
    if (connects.empty()) return "";
    return connects.back().str("requestContext.connectionId").value_or("");
  }

  void allow(std::string principal = "user-7",
             std::string context = R"({"tier":"gold","n":5,"ok":true})") {
    scripted_authorizer::script s;
    s.answer.principal_id = std::move(principal);
    s.answer.policy_json = policy("Allow", connect_arn);
    s.answer.context_json = std::move(context);
    authorizer_->set(s);
  }

  // Expects HS to be a refused handshake with STATUS and an empty body.
  static void expect_refused(const handshake_result& hs, int status) {
    EXPECT_FALSE(hs.upgraded);
    EXPECT_EQ(hs.status, status) << hs.error;
    EXPECT_EQ(hs.body, "");
  }

  std::shared_ptr<recorder> recorder_ = std::make_shared<recorder>();
  std::shared_ptr<scripted_authorizer> authorizer_ = std::make_shared<scripted_authorizer>();
  apigw::handler_registry registry_ = apigw::handler_registry::with_builtins();
  std::unique_ptr<emulator::server> server_;
};

// --- A REQUEST authorizer's outcomes ---

TEST_F(AuthTest, MissingOrEmptyIdentitySourceGives401WithoutInvokingTheAuthorizer) {
  start(auth_api(custom_connect, scripted_authorizers));
  allow();
  expect_refused(handshake("/dev"), 401);
  expect_refused(handshake("/dev?token=abc"), 401);                          // no Auth header
  expect_refused(handshake("/dev?token=abc", {{"Auth", ""}}), 401);          // an empty one
  expect_refused(handshake("/dev?token=&x=1", {{"Auth", "secret"}}), 401);   // an empty token
  expect_refused(handshake("/dev?Token=abc", {{"Auth", "secret"}}), 401);    // names are case-sensitive
  EXPECT_TRUE(authorizer_->events().empty());
  EXPECT_TRUE(recorder_->events("CONNECT").empty());

  // Header names are not: "auth" is the Auth source.
  const auto hs = handshake("/dev?token=abc", {{"auth", "secret"}});
  EXPECT_TRUE(hs.upgraded) << hs.status;
  EXPECT_EQ(authorizer_->events().size(), 1u);
}

TEST_F(AuthTest, UnauthorizedGives401AndTheConnectIntegrationDoesNotRun) {
  start(auth_api(custom_connect, scripted_authorizers));
  scripted_authorizer::script s;
  s.fails = scripted_authorizer::failure::unauthorized;
  authorizer_->set(s);
  expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 401);
  EXPECT_EQ(authorizer_->events().size(), 1u);
  EXPECT_TRUE(recorder_->events("CONNECT").empty());
}

TEST_F(AuthTest, DenyPolicyGives403) {
  start(auth_api(custom_connect, scripted_authorizers));
  scripted_authorizer::script s;
  s.answer.principal_id = "mallory";
  s.answer.policy_json = policy("Deny", connect_arn);
  authorizer_->set(s);
  expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 403);
  EXPECT_TRUE(recorder_->events("CONNECT").empty());

  // An explicit Deny wins over an Allow.
  s.answer.policy_json =
      R"({"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},)"
      R"({"Action":"execute-api:Invoke","Effect":"Deny","Resource":")" + connect_arn + R"("}]})";
  authorizer_->set(s);
  expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 403);
}

TEST_F(AuthTest, AllowThatDoesNotCoverTheConnectArnGives403) {
  start(auth_api(custom_connect, scripted_authorizers));
  scripted_authorizer::script s;
  s.answer.principal_id = "user-7";
  for (const std::string resource : {"arn:aws:execute-api:eu-west-1:123456789012:authapi001/prod/$connect",
                                     "arn:aws:execute-api:eu-west-1:123456789012:otherapi01/dev/$connect",
                                     "arn:aws:execute-api:eu-west-1:123456789012:authapi001/dev/sendmessage"}) {
    SCOPED_TRACE(resource);
    s.answer.policy_json = policy("Allow", resource);
    authorizer_->set(s);
    expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 403);
  }
  // Another action does not cover it either.
  s.answer.policy_json =
      R"({"Version":"2012-10-17","Statement":[{"Action":"execute-api:ManageConnections","Effect":"Allow","Resource":"*"}]})";
  authorizer_->set(s);
  expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 403);
  EXPECT_TRUE(recorder_->events("CONNECT").empty());

  // A wildcard that covers it lets the connection in.
  s.answer.policy_json = policy("Allow", "arn:aws:execute-api:eu-west-1:123456789012:authapi001/dev/*");
  authorizer_->set(s);
  EXPECT_TRUE(handshake("/dev?token=abc", {{"Auth", "x"}}).upgraded);
}

TEST_F(AuthTest, AuthorizerFailuresGive500) {
  start(auth_api(custom_connect, scripted_authorizers, R"("integrationTimeoutMillis":100)"));
  struct failure_case {
    const char* name;
    scripted_authorizer::script script;
  };
  auto answer = [](std::string principal, std::string policy_json, std::string context = "{}") {
    scripted_authorizer::script s;
    s.answer.principal_id = std::move(principal);
    s.answer.policy_json = std::move(policy_json);
    s.answer.context_json = std::move(context);
    return s;
  };
  scripted_authorizer::script throws;
  throws.fails = scripted_authorizer::failure::error;
  scripted_authorizer::script slow = answer("user-7", policy("Allow", connect_arn));
  slow.delay = std::chrono::milliseconds(600);
  const failure_case cases[] = {
      {"Throws", throws},
      {"PolicyNotJson", answer("user-7", "Allow")},
      {"PolicyWithoutStatement", answer("user-7", R"({"Version":"2012-10-17"})")},
      {"ContextNotAnObject", answer("user-7", policy("Allow", connect_arn), "[1]")},
      {"ContextValueAnObject", answer("user-7", policy("Allow", connect_arn), R"({"user":{"id":1}})")},
      {"AllowWithoutPrincipal", answer("", policy("Allow", connect_arn))},
      {"TimesOut", slow},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    authorizer_->set(c.script);
    const auto began = steady::now();
    expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 500);
    EXPECT_LT(elapsed_ms(began), 550);
  }
  EXPECT_TRUE(recorder_->events("CONNECT").empty());
}

TEST_F(AuthTest, AuthorizerEventHasAwsShape) {
  start(auth_api(custom_connect, scripted_authorizers));
  allow();
  auto client = open("/dev?token=abc&token=def&x=1", {{"Auth", "secret"}, {"User-Agent", "auth-test/1"}});
  ASSERT_TRUE(client);
  ASSERT_EQ(authorizer_->events().size(), 1u);
  const json_doc e = authorizer_->events()[0];
  SCOPED_TRACE(e.text());
  EXPECT_EQ(e.keys(""), (std::vector<std::string>{"type", "methodArn", "headers", "multiValueHeaders",
                                                  "queryStringParameters", "multiValueQueryStringParameters",
                                                  "stageVariables", "requestContext"}));
  EXPECT_EQ(e.str("type"), "REQUEST");
  EXPECT_EQ(e.str("methodArn"), connect_arn);
  // Unlike $connect's event, the authorizer's keeps Connection and Upgrade.
  EXPECT_EQ(field_of(e, "headers", "Connection"), "upgrade");  // as the client sent it
  EXPECT_EQ(field_of(e, "headers", "Upgrade"), "websocket");
  EXPECT_EQ(field_of(e, "headers", "Auth"), "secret");
  EXPECT_EQ(field_of(e, "headers", "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(e.strings("multiValueHeaders.Auth"), (std::vector<std::string>{"secret"}));
  EXPECT_EQ(e.str("queryStringParameters.token"), "def");
  EXPECT_EQ(e.strings("multiValueQueryStringParameters.token"), (std::vector<std::string>{"abc", "def"}));
  ASSERT_TRUE(e.at("stageVariables") && e.at("stageVariables")->IsObject());
  EXPECT_TRUE(e.keys("stageVariables").empty());
  EXPECT_EQ(e.str("requestContext.routeKey"), "$connect");
  EXPECT_EQ(e.str("requestContext.eventType"), "CONNECT");
  EXPECT_EQ(e.str("requestContext.stage"), "dev");
  EXPECT_EQ(e.str("requestContext.apiId"), "authapi001");
  EXPECT_EQ(e.str("requestContext.identity.sourceIp"), "127.0.0.1");
  EXPECT_EQ(e.str("requestContext.identity.userAgent"), "auth-test/1");
  EXPECT_FALSE(e.has("requestContext.authorizer"));
  // The same request and connection as the $connect that follows.
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  const json_doc connect = recorder_->events("CONNECT")[0];
  EXPECT_EQ(e.str("requestContext.connectionId"), connect.str("requestContext.connectionId"));
  EXPECT_EQ(e.str("requestContext.requestId"), connect.str("requestContext.requestId"));
  EXPECT_FALSE(has_field(connect, "headers", "Connection"));
  EXPECT_FALSE(connect.has("type"));
}

TEST_F(AuthTest, AllowedConnectionCarriesTheAuthorizerInEveryEvent) {
  start(auth_api(custom_connect, scripted_authorizers));
  allow("user-7", R"({"tier":"gold","n":5,"ok":true,"principalId":"spoofed"})");
  auto client = open("/dev?token=abc", {{"Auth", "x"}});
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_text(R"({"action":"anything"})"));
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "MESSAGE"));

  // The emulator's own view of the connection names the principal.
  const auto listed = http_call(port(), "GET", "/@emulator/connections");
  const json_doc connections(listed.body);
  ASSERT_TRUE(connections.at("connections") && connections.at("connections")->IsArray());
  ASSERT_EQ(connections.at("connections")->Size(), 1u);
  EXPECT_EQ(to_json((*connections.at("connections"))[0]["principalId"]), R"("user-7")");

  const std::string id = last_connection_id();
  client->close(1000);
  ASSERT_TRUE(recorder_->wait_for_disconnect(id, 2s));
  for (const char* type : {"CONNECT", "MESSAGE", "DISCONNECT"}) {
    SCOPED_TRACE(type);
    const auto events = recorder_->events(type);
    ASSERT_EQ(events.size(), 1u);
    const json_doc& e = events[0];
    EXPECT_EQ(e.keys("requestContext.authorizer"),
              (std::vector<std::string>{"principalId", "integrationLatency", "tier", "n", "ok"}))
        << e.text();
    EXPECT_EQ(e.str("requestContext.authorizer.principalId"), "user-7");
    const auto latency = e.int64("requestContext.authorizer.integrationLatency");
    ASSERT_TRUE(latency.has_value()) << e.text();
    EXPECT_GE(*latency, 0);
    EXPECT_LT(*latency, 1000);
    // Context values arrive as strings.
    EXPECT_EQ(e.str("requestContext.authorizer.tier"), "gold");
    EXPECT_EQ(e.str("requestContext.authorizer.n"), "5");
    EXPECT_EQ(e.str("requestContext.authorizer.ok"), "true");
  }
}

// --- The built-in token authorizer ---

const std::string token_authorizers =
    R"("authorizers":{"tokens":{"type":"REQUEST","handler":"token",)"
    R"("identitySource":["route.request.querystring.token"],)"
    R"("options":{"tokens":{"t-alice":{"principalId":"alice","context":{"room":"r1","admin":false}},)"
    R"("t-banned":{"deny":true}}}}},)";
const std::string token_connect = R"(,"authorizationType":"CUSTOM","authorizerId":"tokens")";

TEST_F(AuthTest, TokenAuthorizerAllowsMappedTokensAndRefusesTheOthers) {
  start(auth_api(token_connect, token_authorizers));
  expect_refused(handshake("/dev"), 401);                   // no token
  expect_refused(handshake("/dev?token=t-unknown"), 401);   // not in the map
  expect_refused(handshake("/dev?token=t-banned"), 403);    // {"deny": true}
  expect_refused(handshake("/dev?token=T-ALICE"), 401);     // tokens are compared exactly
  EXPECT_TRUE(recorder_->events("CONNECT").empty());

  auto client = open("/dev?token=t-alice");
  ASSERT_TRUE(client);
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  const json_doc e = recorder_->events("CONNECT")[0];
  EXPECT_EQ(e.str("requestContext.authorizer.principalId"), "alice");
  EXPECT_EQ(e.str("requestContext.authorizer.room"), "r1");
  EXPECT_EQ(e.str("requestContext.authorizer.admin"), "false");
}

TEST_F(AuthTest, TokenAuthorizerReadsAHeaderSource) {
  start(auth_api(token_connect,
                 R"("authorizers":{"tokens":{"handler":"token","identitySource":["route.request.header.Authorization"],)"
                 R"("options":{"tokens":{"Bearer abc":{"principalId":"bob"}}}}},)"));
  expect_refused(handshake("/dev", {{"Authorization", "Bearer xyz"}}), 401);
  auto client = open("/dev", {{"authorization", "Bearer abc"}});
  ASSERT_TRUE(client);
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  EXPECT_EQ(recorder_->events("CONNECT")[0].str("requestContext.authorizer.principalId"), "bob");
}

TEST_F(AuthTest, BadAuthorizersAreRefusedAtStartWithTheirPath) {
  const auto with = [](std::string_view authorizer) {
    return auth_api(R"(,"authorizationType":"CUSTOM","authorizerId":"tokens")",
                    R"("authorizers":{"tokens":)" + std::string(authorizer) + "},");
  };
  EXPECT_EQ(create_error(with(R"({"handler":"tokn","identitySource":["route.request.querystring.token"]})")),
            R"(auth.json: authorizers.tokens.handler: unknown authorizer handler "tokn"; the registered )"
            "authorizers are: scripted, token");
  EXPECT_EQ(create_error(with(R"({"handler":"token","identitySource":["route.request.querystring.token"]})")),
            R"(auth.json: authorizers.tokens: options.tokens: missing; map each token to {"principalId": "…", )"
            R"("context": {…}} or {"deny": true})");
  EXPECT_EQ(create_error(with(R"({"handler":"token","options":{"tokens":{}}})")),
            "auth.json: authorizers.tokens: identitySource: the token authorizer reads its token from the "
            R"(first identity source; list one, e.g. ["route.request.querystring.token"])");
  EXPECT_EQ(create_error(with(R"({"handler":"token","identitySource":["route.request.querystring.token"],)"
                              R"("options":{"tokens":{"t1":{"context":{"a":"b"}}}}})")),
            "auth.json: authorizers.tokens: options.tokens.t1.principalId: missing; an allowed token names "
            R"(its principal, e.g. "user-1")");
  EXPECT_EQ(create_error(with(R"({"handler":"token","identitySource":["route.request.querystring.token"],)"
                              R"("options":{"tokens":{"t1":{"principalId":"a","context":{"a":[1]}}}}})")),
            "auth.json: authorizers.tokens: options.tokens.t1.context.a: expected a string, number or "
            "boolean (AWS allows no other context values)");
  EXPECT_EQ(create_error(with(R"({"handler":"token","identitySource":["route.request.querystring.token"],)"
                              R"("options":{"tokens":{},"ttl":5}})")),
            "auth.json: authorizers.tokens: options.ttl: unknown option; allowed: tokens");
  EXPECT_EQ(create_error(with(R"({"handler":"token","identitySource":["context.authorizer.x"],)"
                              R"("options":{"tokens":{}}})")),
            R"(auth.json: authorizers.tokens.identitySource[0]: unknown context variable "authorizer.x"; )"
            "the context variables of a $connect are apiId, connectionId, domainName, eventType, "
            "extendedRequestId, requestId, routeKey, messageDirection, identity.sourceIp, "
            "identity.userAgent, stage");
}

#ifdef APIGW_SOURCE_DIR
// The lab's third task: config/lab-auth.json is the chat API with the token authorizer on $connect.
TEST_F(AuthTest, LabAuthConfigLetsKnownUsersIntoTheChat) {
  auto loaded = config::load_file(std::string(APIGW_SOURCE_DIR) + "/config/lab-auth.json");
  ASSERT_TRUE(loaded) << loaded.error();
  auto spec = *std::move(loaded);
  emulator::server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.print_trace = false;
  o.log_invocations = false;
  auto created = emulator::server::create(std::move(spec), registry_, o);
  ASSERT_TRUE(created) << created.error();
  server_ = *std::move(created);
  auto started = server_->start();
  ASSERT_TRUE(started) << started.error();

  expect_refused(handshake("/Prod"), 401);
  expect_refused(handshake("/Prod?token=mallory-token"), 401);
  expect_refused(handshake("/Prod?token=revoked-token"), 403);
  auto alice = open("/Prod?token=alice-token");
  auto bob = open("/Prod?token=bob-token");
  ASSERT_TRUE(alice && bob);
  ASSERT_TRUE(alice->send_text(R"({"action":"sendmessage","data":"hello bob"})"));
  EXPECT_TRUE(bob->read().is_text("hello bob"));
}
#endif

// --- API keys ---

const std::string api_keys = R"("apiKeys":["key-one-0123456789abcdef","key-two"],)";

TEST_F(AuthTest, ApiKeyMissingOrUnknownGives403) {
  start(auth_api(R"(,"apiKeyRequired":true)", api_keys));
  expect_refused(handshake("/dev"), 403);
  expect_refused(handshake("/dev", {{"x-api-key", ""}}), 403);
  expect_refused(handshake("/dev", {{"x-api-key", "key-three"}}), 403);
  expect_refused(handshake("/dev", {{"x-api-key", "KEY-TWO"}}), 403);
  expect_refused(handshake("/dev?x-api-key=key-two"), 403);  // only the header counts
  EXPECT_TRUE(recorder_->events("CONNECT").empty());
}

TEST_F(AuthTest, RightApiKeyIsInTheIdentityOfEveryEvent) {
  start(auth_api(R"(,"apiKeyRequired":true)", api_keys));
  auto client = open("/dev", {{"X-Api-Key", "key-one-0123456789abcdef"}});
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_text("hello"));
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "MESSAGE"));
  const std::string id = last_connection_id();
  client->close(1000);
  ASSERT_TRUE(recorder_->wait_for_disconnect(id, 2s));
  for (const char* type : {"CONNECT", "MESSAGE", "DISCONNECT"}) {
    SCOPED_TRACE(type);
    const auto events = recorder_->events(type);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].str("requestContext.identity.apiKey"), "key-one-0123456789abcdef") << events[0].text();
    EXPECT_FALSE(events[0].has("requestContext.authorizer"));
  }
}

TEST_F(AuthTest, ApiKeyIsCheckedAfterTheAuthorizer) {
  start(auth_api(custom_connect + R"(,"apiKeyRequired":true)", scripted_authorizers + api_keys));
  allow();
  expect_refused(handshake("/dev?token=abc", {{"Auth", "x"}}), 403);
  EXPECT_EQ(authorizer_->events().size(), 1u);
  auto client = open("/dev?token=abc", {{"Auth", "x"}, {"x-api-key", "key-two"}});
  ASSERT_TRUE(client);
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  const json_doc e = recorder_->events("CONNECT")[0];
  EXPECT_EQ(e.str("requestContext.identity.apiKey"), "key-two");
  EXPECT_EQ(e.str("requestContext.authorizer.principalId"), "user-7");
}

// --- AWS_IAM ---

const sigv4_key alice{"AKIDALICE", "alice-secret-0123456789"};
const sigv4_key bob{"AKIDBOB", "bob-secret-0123456789"};
const std::string iam_credentials =
    R"("credentials":[)"
    R"({"accessKeyId":"AKIDALICE","secretAccessKey":"alice-secret-0123456789",)"
    R"("arn":"arn:aws:iam::123456789012:user/alice",)"
    R"("policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
    R"("Resource":"arn:aws:execute-api:eu-west-1:123456789012:authapi001/dev/*"}]}},)"
    R"({"accessKeyId":"AKIDBOB","secretAccessKey":"bob-secret-0123456789",)"
    R"("arn":"arn:aws:sts::123456789012:assumed-role/Operators/bob-session",)"
    R"("policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",)"
    R"("Resource":"arn:aws:execute-api:eu-west-1:123456789012:authapi001/prod/*"}]}}],)";
const std::string iam_connect = R"(,"authorizationType":"AWS_IAM")";

class IamAuthTest : public AuthTest {
 protected:
  void SetUp() override { start(auth_api(iam_connect, iam_credentials)); }

  sigv4_request request(std::vector<std::pair<std::string, std::string>> query = {}) const {
    sigv4_request r;
    r.path = "/dev";
    r.query = std::move(query);
    r.host = host_port();
    r.region = "eu-west-1";
    return r;
  }
};

TEST_F(IamAuthTest, PresignedHandshakeByAnAllowedKeyConnectsWithTheCallersIdentity) {
  const std::string target = presigned_target(request({{"room", "r 1"}}), alice);
  auto client = open(target);
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->send_text("hi"));
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "MESSAGE"));
  const std::string id = last_connection_id();
  client->close(1000);
  ASSERT_TRUE(recorder_->wait_for_disconnect(id, 2s));
  for (const char* type : {"CONNECT", "MESSAGE", "DISCONNECT"}) {
    SCOPED_TRACE(type);
    const auto events = recorder_->events(type);
    ASSERT_EQ(events.size(), 1u);
    const json_doc& e = events[0];
    EXPECT_EQ(e.keys("requestContext.identity"),
              (std::vector<std::string>{"accountId", "caller", "sourceIp", "accessKey", "userArn", "user"}))
        << e.text();
    EXPECT_EQ(e.str("requestContext.identity.accessKey"), "AKIDALICE");
    EXPECT_EQ(e.str("requestContext.identity.userArn"), "arn:aws:iam::123456789012:user/alice");
    EXPECT_EQ(e.str("requestContext.identity.caller"), "alice");
    EXPECT_EQ(e.str("requestContext.identity.user"), "alice");
    EXPECT_EQ(e.str("requestContext.identity.accountId"), "123456789012");
    EXPECT_FALSE(e.has("requestContext.authorizer"));
  }
  EXPECT_EQ(recorder_->events("CONNECT")[0].str("queryStringParameters.room"), "r 1");
}

TEST_F(IamAuthTest, HeaderSignedHandshakeConnects) {
  const auto r = request();
  auto client = open(r.path, signature_headers(r, alice));
  ASSERT_TRUE(client);
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  EXPECT_EQ(recorder_->events("CONNECT")[0].str("requestContext.identity.accessKey"), "AKIDALICE");
}

TEST_F(IamAuthTest, BadSignaturesGive403) {
  auto expired = request();
  expired.time = std::chrono::system_clock::now() - std::chrono::minutes(10);
  auto other_region = request();
  other_region.region = "us-east-1";
  auto header_expired = request();
  header_expired.time = std::chrono::system_clock::now() - std::chrono::minutes(6);
  const sigv4_key wrong_secret{"AKIDALICE", "not-alices-secret"};
  const sigv4_key unknown{"AKIDNOBODY", "nobody-secret"};

  expect_refused(handshake("/dev"), 403);                                                    // unsigned
  expect_refused(handshake(presigned_target(request(), wrong_secret)), 403);
  expect_refused(handshake(presigned_target(expired, alice, std::chrono::seconds(60))), 403);
  expect_refused(handshake(presigned_target(request(), unknown)), 403);
  expect_refused(handshake(presigned_target(other_region, alice)), 403);
  expect_refused(handshake("/dev", signature_headers(header_expired, alice)), 403);
  expect_refused(handshake("/dev", signature_headers(request(), wrong_secret)), 403);
  // A valid signature whose URL was changed afterwards.
  expect_refused(handshake(presigned_target(request(), alice) + "&room=2"), 403);
  EXPECT_TRUE(recorder_->events("CONNECT").empty());
}

TEST_F(IamAuthTest, KeyWhosePolicyDoesNotAllowTheConnectArnGets403) {
  // bob may invoke the prod stage only.
  expect_refused(handshake(presigned_target(request(), bob)), 403);
  EXPECT_TRUE(recorder_->events("CONNECT").empty());
}

TEST_F(IamAuthTest, TheEmulatorsConnectionListMasksTheSignature) {
  const std::string target = presigned_target(request(), alice);
  const std::string signature = target.substr(target.find("X-Amz-Signature=") + 16);
  ASSERT_EQ(signature.size(), 64u);
  auto client = open(target);
  ASSERT_TRUE(client);
  const auto listed = http_call(port(), "GET", "/@emulator/connections");
  EXPECT_EQ(listed.body.find(signature), std::string::npos) << listed.body;
  EXPECT_NE(listed.body.find("X-Amz-Signature=" + signature.substr(0, 4) + "****"), std::string::npos)
      << listed.body;
}

TEST_F(AuthTest, AssumedRoleCallerIsRoleAndSession) {
  const std::string credentials =
      R"("credentials":[{"accessKeyId":"AKIDBOB","secretAccessKey":"bob-secret-0123456789",)"
      R"("arn":"arn:aws:sts::123456789012:assumed-role/Operators/bob-session",)"
      R"("policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:*","Resource":"*"}]}}],)";
  start(auth_api(iam_connect, credentials));
  sigv4_request r;
  r.path = "/dev";
  r.host = host_port();
  r.region = "eu-west-1";
  auto client = open(presigned_target(r, bob));
  ASSERT_TRUE(client);
  ASSERT_TRUE(recorder_->wait_for(1, 2s, "CONNECT"));
  const json_doc e = recorder_->events("CONNECT")[0];
  EXPECT_EQ(e.str("requestContext.identity.caller"), "Operators:bob-session");
  EXPECT_EQ(e.str("requestContext.identity.userArn"), "arn:aws:sts::123456789012:assumed-role/Operators/bob-session");
}

}  // namespace
}  // namespace apigw::e2e
