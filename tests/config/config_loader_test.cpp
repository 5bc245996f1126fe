#include "config/config_loader.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace apigw::config {
namespace {

using namespace std::chrono_literals;

// A valid API around EXTRA top-level members (each followed by a comma), ROUTES and INTEGRATIONS.
std::string api(std::string_view extra = "",
                std::string_view routes = R"([{"routeKey": "$default", "integration": "echo"}])",
                std::string_view integrations = R"({"echo": {"handler": "echo"}})") {
  std::string text = R"({"routeSelectionExpression": "$request.body.action", )";
  text += extra;
  text += R"( "routes": )";
  text += routes;
  text += R"(, "integrations": )";
  text += integrations;
  text += "}";
  return text;
}

api_spec load_ok(std::string_view json) {
  auto r = load_text(json, "t.json");
  if (!r) {
    ADD_FAILURE() << "unexpected error: " << r.error();
    return {};
  }
  return *std::move(r);
}

std::string load_message(std::string_view json) {
  auto r = load_text(json, "t.json");
  if (!r) return r.error();
  ADD_FAILURE() << "loaded without an error: " << json;
  return {};
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const std::filesystem::path demo_file = std::filesystem::path(APIGW_CONFIG_DIR) / "demo.json";
const std::filesystem::path lab_file = std::filesystem::path(APIGW_CONFIG_DIR) / "websocket-lab.json";

TEST(ConfigLoaderTest, AppliesDefaults) {
  api_spec a = load_ok(api());
  EXPECT_EQ(a.name, "websocket-api");
  EXPECT_EQ(a.api_id, derive_api_id("websocket-api"));
  EXPECT_EQ(a.route_selection_expression, "$request.body.action");
  EXPECT_EQ(a.stage.name, "dev");
  EXPECT_TRUE(a.stage.variables.empty());
  EXPECT_EQ(a.server.host, "127.0.0.1");
  EXPECT_EQ(a.server.port, 8080);
  EXPECT_EQ(a.limits.max_message_bytes, 131072u);
  EXPECT_EQ(a.limits.max_frame_bytes, 32768u);
  EXPECT_EQ(a.limits.idle_timeout, 600s);
  EXPECT_EQ(a.limits.max_connection_duration, 7200s);
  EXPECT_EQ(a.limits.integration_timeout, 29000ms);
  EXPECT_EQ(a.source, "t.json");

  ASSERT_EQ(a.routes.size(), 1u);
  EXPECT_EQ(a.routes[0].route_key, "$default");
  EXPECT_EQ(a.routes[0].integration, "echo");
  EXPECT_FALSE(a.routes[0].route_response_selection_expression.has_value());
  EXPECT_FALSE(a.routes[0].two_way());
  EXPECT_EQ(a.routes[0].json_path, "routes[0]");

  ASSERT_EQ(a.integrations.count("echo"), 1u);
  const integration_spec& echo = a.integrations.at("echo");
  EXPECT_EQ(echo.name, "echo");
  EXPECT_EQ(echo.type, "builtin");
  EXPECT_EQ(echo.handler, "echo");
  EXPECT_EQ(echo.options_json, "{}");
  EXPECT_EQ(echo.json_path, "integrations.echo");
}

TEST(ConfigLoaderTest, IntegrationsDefaultToNone) {
  // Without "integrations" no route can name one, so the first route is the error.
  EXPECT_EQ(load_message(R"({"routeSelectionExpression": "x",
                             "routes": [{"routeKey": "x", "integration": "echo"}]})"),
            R"(t.json: routes[0].integration: no integration named "echo"; "integrations" defines none)");
}

TEST(ConfigLoaderTest, LoadsTheDemoFileWithExactValues) {
  auto r = load_file(demo_file);
  ASSERT_TRUE(r) << r.error();
  const api_spec& a = *r;

  EXPECT_EQ(a.name, "demo");
  EXPECT_EQ(a.api_id, "demo000001");
  EXPECT_EQ(a.route_selection_expression, "$request.body.action");
  EXPECT_EQ(a.stage.name, "dev");
  using variables = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(a.stage.variables, (variables{{"env", "local"}}));
  EXPECT_EQ(a.server.host, "127.0.0.1");
  EXPECT_EQ(a.server.port, 8080);
  EXPECT_EQ(a.limits.max_message_bytes, 131072u);
  EXPECT_EQ(a.limits.max_frame_bytes, 32768u);
  EXPECT_EQ(a.limits.idle_timeout, 600s);
  EXPECT_EQ(a.limits.max_connection_duration, 7200s);
  EXPECT_EQ(a.limits.integration_timeout, 29000ms);
  EXPECT_EQ(a.source, demo_file.string());

  struct expected_route {
    const char* key;
    const char* integration;
    bool two_way;
  };
  const std::vector<expected_route> routes = {
      {"$connect", "accept", false},
      {"echo", "echo", true},
      {"whoami", "inspect", true},
      {"$default", "fallback", false},
  };
  ASSERT_EQ(a.routes.size(), routes.size());
  for (std::size_t i = 0; i < routes.size(); ++i) {
    SCOPED_TRACE(routes[i].key);
    EXPECT_EQ(a.routes[i].route_key, routes[i].key);
    EXPECT_EQ(a.routes[i].integration, routes[i].integration);
    EXPECT_EQ(a.routes[i].two_way(), routes[i].two_way);
    EXPECT_EQ(a.routes[i].json_path, "routes[" + std::to_string(i) + "]");
  }

  struct expected_integration {
    const char* name;
    const char* handler;
    const char* options_json;
  };
  const std::vector<expected_integration> integrations = {
      {"accept", "mock", R"({"statusCode":200})"},
      {"echo", "echo", "{}"},
      {"inspect", "inspect", "{}"},
      {"fallback", "mock", R"({"statusCode":200,"body":"no route"})"},
  };
  ASSERT_EQ(a.integrations.size(), integrations.size());
  for (const expected_integration& e : integrations) {
    SCOPED_TRACE(e.name);
    ASSERT_EQ(a.integrations.count(e.name), 1u);
    const integration_spec& spec = a.integrations.at(e.name);
    EXPECT_EQ(spec.name, e.name);
    EXPECT_EQ(spec.type, "builtin");
    EXPECT_EQ(spec.handler, e.handler);
    EXPECT_EQ(spec.options_json, e.options_json);
    EXPECT_EQ(spec.json_path, std::string("integrations.") + e.name);
  }
}

// The default API is the Websocket-Lab's chat API, as the public sample chat app defines it.
TEST(ConfigLoaderTest, EmbeddedDefaultIsTheLabFile) {
  EXPECT_EQ(default_api_json(), read_all(lab_file));

  auto r = load_default();
  ASSERT_TRUE(r) << r.error();
  const api_spec& a = *r;
  EXPECT_EQ(a.source, "<built-in>");
  EXPECT_EQ(a.stage.name, "Prod");
  EXPECT_EQ(a.route_selection_expression, "$request.body.action");
  ASSERT_EQ(a.routes.size(), 3u);
  EXPECT_EQ(a.routes[0].route_key, "$connect");
  EXPECT_EQ(a.routes[1].route_key, "$disconnect");
  EXPECT_EQ(a.routes[2].route_key, "sendmessage");
  EXPECT_FALSE(a.routes[2].two_way());
  ASSERT_EQ(a.tables.size(), 1u);
  EXPECT_NE(a.tables[0].definition_json.find(R"("TableName":"simplechat_connections")"), std::string::npos);
  // Only the send-message function may manage connections, as in the sample's template.
  EXPECT_EQ(a.integrations.at("OnConnectFunction").policy_json.find("ManageConnections"), std::string::npos);
  EXPECT_EQ(a.integrations.at("OnDisconnectFunction").policy_json.find("ManageConnections"), std::string::npos);
  EXPECT_NE(a.integrations.at("SendMessageFunction").policy_json.find("ManageConnections"), std::string::npos);
}

TEST(ConfigLoaderTest, TimeLimitsAcceptFractions) {
  api_spec a = load_ok(api(R"("limits": {"idleTimeoutSeconds": 0.3, "maxConnectionSeconds": 1.25,
                                         "integrationTimeoutMillis": 50.5},)"));
  EXPECT_EQ(a.limits.idle_timeout, 300000us);
  EXPECT_EQ(a.limits.max_connection_duration, 1250000us);
  EXPECT_EQ(a.limits.integration_timeout, 50500us);
}

TEST(ConfigLoaderTest, AcceptsValuesAtTheEdgesOfTheirRanges) {
  api_spec a = load_ok(api(R"("server": {"host": "0.0.0.0", "port": 0},
      "limits": {"maxMessageBytes": 100, "maxFrameBytes": 100, "idleTimeoutSeconds": 0.000001,
                 "maxConnectionSeconds": 31536000, "integrationTimeoutMillis": 29000},)"));
  EXPECT_EQ(a.server.host, "0.0.0.0");
  EXPECT_EQ(a.server.port, 0);
  EXPECT_EQ(a.limits.max_message_bytes, 100u);
  EXPECT_EQ(a.limits.max_frame_bytes, 100u);
  EXPECT_EQ(a.limits.idle_timeout, 1us);
  EXPECT_EQ(a.limits.max_connection_duration, 31536000s);
  EXPECT_EQ(a.limits.integration_timeout, 29s);

  EXPECT_EQ(load_ok(api(R"("server": {"port": 65535},)")).server.port, 65535);
}

TEST(ConfigLoaderTest, StageVariablesKeepTheirOrder) {
  api_spec a = load_ok(api(
      R"("stage": {"name": "Prod_2-b", "variables": {"z": "1", "a_B9": "https://x.example/p?q=1&r=a,b#f~"}},)"));
  EXPECT_EQ(a.stage.name, "Prod_2-b");
  using variables = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(a.stage.variables,
            (variables{{"z", "1"}, {"a_B9", "https://x.example/p?q=1&r=a,b#f~"}}));
}

TEST(ConfigLoaderTest, OptionsAreStoredAsCompactJson) {
  api_spec a = load_ok(api("", R"([{"routeKey": "$default", "integration": "m"}])",
                           R"({"m": {"type": "builtin", "handler": "mock",
                                     "options": {"headers": {"A": "b"}, "delayMillis": 1.5,
                                                 "body": "x\ny", "list": [1, true, null]}}})"));
  EXPECT_EQ(a.integrations.at("m").options_json,
            R"({"headers":{"A":"b"},"delayMillis":1.5,"body":"x\ny","list":[1,true,null]})");
}

TEST(ConfigLoaderTest, KeepsRegionTablesAndPolicies) {
  const auto spec = load_ok(
      api(R"("region": "eu-west-1", "tables": [{"TableName": "t", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}],)",
          R"([{"routeKey": "$default", "integration": "echo"}])",
          R"({"echo": {"handler": "echo", "policy": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}})"));
  EXPECT_EQ(spec.region, "eu-west-1");
  ASSERT_EQ(spec.tables.size(), 1u);
  EXPECT_EQ(spec.tables[0].json_path, "tables[0]");
  EXPECT_EQ(spec.tables[0].definition_json,
            R"({"TableName":"t","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]})");
  EXPECT_EQ(spec.integrations.at("echo").policy_json,
            R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})");
}

TEST(ConfigLoaderTest, LoadsAuthorizationKeysAndThrottling) {
  api_spec a = load_ok(api(
      R"("stage": {"name": "Prod", "throttling": {"rateLimit": 2.5, "burstLimit": 10}},
         "authorizers": {"tokens": {"type": "REQUEST", "handler": "token",
                                    "identitySource": ["route.request.querystring.token", "route.request.header.Auth",
                                                       "stageVariables.env", "context.identity.sourceIp"],
                                    "options": {"tokens": {"t1": {"principalId": "alice"}}}},
                         "bare": {"handler": "token"}},
         "apiKeys": ["key-1234567890", "k2"],
         "credentials": [{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG",
                          "arn": "arn:aws:iam::123456789012:user/alice",
                          "policy": {"Version": "2012-10-17", "Statement": []}},
                         {"accessKeyId": "AKID2", "secretAccessKey": "s",
                          "arn": "arn:aws:sts::123456789012:assumed-role/Role/fn", "policy": {}}],
         "requireSignedManagementCalls": true,)",
      R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "CUSTOM",
           "authorizerId": "tokens", "apiKeyRequired": true},
          {"routeKey": "$default", "integration": "echo", "authorizationType": "NONE", "apiKeyRequired": false}])"));
  ASSERT_TRUE(a.stage.throttling.has_value());
  EXPECT_EQ(a.stage.throttling->rate_limit, 2.5);
  EXPECT_EQ(a.stage.throttling->burst_limit, 10);

  ASSERT_EQ(a.authorizers.size(), 2u);
  const authorizer_spec& tokens = a.authorizers.at("tokens");
  EXPECT_EQ(tokens.name, "tokens");
  EXPECT_EQ(tokens.handler, "token");
  EXPECT_EQ(tokens.identity_source,
            (std::vector<std::string>{"route.request.querystring.token", "route.request.header.Auth",
                                      "stageVariables.env", "context.identity.sourceIp"}));
  EXPECT_EQ(tokens.options_json, R"({"tokens":{"t1":{"principalId":"alice"}}})");
  EXPECT_EQ(tokens.json_path, "authorizers.tokens");
  EXPECT_TRUE(a.authorizers.at("bare").identity_source.empty());
  EXPECT_EQ(a.authorizers.at("bare").options_json, "{}");

  EXPECT_EQ(a.api_keys, (std::vector<std::string>{"key-1234567890", "k2"}));
  ASSERT_EQ(a.credentials.size(), 2u);
  EXPECT_EQ(a.credentials[0].access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a.credentials[0].secret_access_key, "wJalrXUtnFEMI/K7MDENG");
  EXPECT_EQ(a.credentials[0].arn, "arn:aws:iam::123456789012:user/alice");
  EXPECT_EQ(a.credentials[0].policy_json, R"({"Version":"2012-10-17","Statement":[]})");
  EXPECT_EQ(a.credentials[0].json_path, "credentials[0]");
  EXPECT_EQ(a.credentials[1].arn, "arn:aws:sts::123456789012:assumed-role/Role/fn");
  EXPECT_TRUE(a.require_signed_management_calls);

  ASSERT_EQ(a.routes.size(), 2u);
  EXPECT_EQ(a.routes[0].authorization_type, "CUSTOM");
  EXPECT_EQ(a.routes[0].authorizer_id, "tokens");
  EXPECT_TRUE(a.routes[0].api_key_required);
  EXPECT_EQ(a.routes[1].authorization_type, "NONE");
  EXPECT_FALSE(a.routes[1].api_key_required);
}

TEST(ConfigLoaderTest, AuthorizationDefaultsToNone) {
  api_spec a = load_ok(api());
  EXPECT_FALSE(a.stage.throttling.has_value());
  EXPECT_TRUE(a.authorizers.empty());
  EXPECT_TRUE(a.api_keys.empty());
  EXPECT_TRUE(a.credentials.empty());
  EXPECT_FALSE(a.require_signed_management_calls);
  EXPECT_EQ(a.routes[0].authorization_type, "NONE");
  EXPECT_TRUE(a.routes[0].authorizer_id.empty());
  EXPECT_FALSE(a.routes[0].api_key_required);

  api_spec iam = load_ok(api(
      R"("credentials": [{"accessKeyId": "A1", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:role/r", "policy": {}}],)",
      R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "AWS_IAM"}])"));
  EXPECT_EQ(iam.routes[0].authorization_type, "AWS_IAM");

  api_spec zero = load_ok(api(R"("stage": {"throttling": {"rateLimit": 0, "burstLimit": 0}},)"));
  ASSERT_TRUE(zero.stage.throttling.has_value());
  EXPECT_EQ(zero.stage.throttling->burst_limit, 0);
}

TEST(ConfigLoaderTest, RejectsBadAuthorizationConfigsWithActionableMessages) {
  struct error_case {
    const char* name;
    std::string json;
    std::string message;
  };
  const std::string authorizer = R"("authorizers": {"tok": {"handler": "token"}, "abc": {"handler": "x"}},)";
  const std::string credential =
      R"("credentials": [{"accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/alice", "policy": {}}],)";
  auto one_credential = [](std::string_view fields) {
    return R"("credentials": [{)" + std::string(fields) + "}],";
  };
  const std::string valid_fields =
      R"("accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/alice", "policy": {})";
  const std::vector<error_case> cases = {
      // stage.throttling.
      {"ThrottlingNotAnObject", api(R"("stage": {"throttling": 5},)"),
       R"(t.json: stage.throttling: expected an object with rateLimit and burstLimit, e.g. {"rateLimit": 100, "burstLimit": 50}, found number 5)"},
      {"UnknownThrottlingKey", api(R"("stage": {"throttling": {"rateLimit": 1, "burstLimit": 1, "quota": 3}},)"),
       "t.json: stage.throttling.quota: unknown key; the keys allowed in stage.throttling are rateLimit, burstLimit"},
      {"MissingBurstLimit", api(R"("stage": {"throttling": {"rateLimit": 1}},)"),
       "t.json: stage.throttling.burstLimit: missing; throttling needs both rateLimit (requests per second) "
       "and burstLimit (the most requests at once)"},
      {"NegativeRateLimit", api(R"("stage": {"throttling": {"rateLimit": -1, "burstLimit": 1}},)"),
       "t.json: stage.throttling.rateLimit: expected a number of requests per second from 0 to 1000000000, "
       "found number -1"},
      {"BurstLimitAsString", api(R"("stage": {"throttling": {"rateLimit": 1, "burstLimit": "10"}},)"),
       "t.json: stage.throttling.burstLimit: expected a number of requests from 0 to 1000000000 (the bucket's size), "
       R"(found string "10")"},

      // authorizers.
      {"AuthorizersNotAnObject", api(R"("authorizers": [],)"),
       "t.json: authorizers: expected an object mapping authorizer names to authorizers, found an array"},
      {"AuthorizerNotAnObject", api(R"("authorizers": {"a": "token"},)"),
       R"(t.json: authorizers.a: expected an object with type, handler, identitySource and options, found string "token")"},
      {"EmptyAuthorizerName", api(R"("authorizers": {"": {"handler": "token"}},)"),
       R"(t.json: authorizers[""]: authorizer names must not be empty)"},
      {"UnknownAuthorizerKey", api(R"("authorizers": {"a": {"handler": "token", "uri": "x"}},)"),
       "t.json: authorizers.a.uri: unknown key; the keys allowed in an authorizer are type, handler, "
       "function, identitySource, options"},
      {"AuthorizerFunctionUnknown", api(R"("authorizers": {"a": {"function": "AuthFn"}},)"),
       R"(t.json: authorizers.a.function: no "lambda" integration named "AuthFn"; "integrations" defines none)"},
      {"AuthorizerFunctionAndHandler",
       api(R"("authorizers": {"a": {"function": "AuthFn", "handler": "token"}},)", R"([{"routeKey": "$default", "integration": "AuthFn"}])",
           R"({"AuthFn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "a.b", "codeUri": "."}})"),
       R"(t.json: authorizers.a.handler: an authorizer is either a handler of the emulator ("handler") or a Lambda function ("function"), not both)"},
      {"TokenAuthorizerType", api(R"("authorizers": {"a": {"type": "TOKEN", "handler": "token"}},)"),
       R"(t.json: authorizers.a.type: unknown authorizer type "TOKEN"; WebSocket APIs have only "REQUEST" authorizers (TOKEN and JWT authorizers do not exist for them))"},
      {"AuthorizerWithoutHandler", api(R"("authorizers": {"a": {"type": "REQUEST"}},)"),
       R"(t.json: authorizers.a.handler: missing; name the authorizer that decides, e.g. "token", or a "lambda" integration as "function")"},
      {"AuthorizerEmptyHandler", api(R"("authorizers": {"a": {"handler": ""}},)"),
       R"(t.json: authorizers.a.handler: must not be empty; name an authorizer, e.g. "token")"},
      {"IdentitySourceNotAnArray", api(R"("authorizers": {"a": {"handler": "token", "identitySource": "route.request.header.Auth"}},)"),
       R"(t.json: authorizers.a.identitySource: expected an array of identity sources, e.g. ["route.request.header.Auth"], found string "route.request.header.Auth")"},
      {"IdentitySourceUnknownPrefix", api(R"("authorizers": {"a": {"handler": "token", "identitySource": ["route.request.header.A", "method.request.header.Auth"]}},)"),
       "t.json: authorizers.a.identitySource[1]: expected route.request.header.NAME, route.request.querystring.NAME, "
       R"(stageVariables.NAME or context.NAME, found string "method.request.header.Auth")"},
      {"IdentitySourceWithoutName", api(R"("authorizers": {"a": {"handler": "token", "identitySource": ["route.request.querystring."]}},)"),
       "t.json: authorizers.a.identitySource[0]: expected route.request.header.NAME, route.request.querystring.NAME, "
       R"(stageVariables.NAME or context.NAME, found string "route.request.querystring.")"},
      {"IdentitySourceBadHeaderName", api(R"("authorizers": {"a": {"handler": "token", "identitySource": ["route.request.header.My Header"]}},)"),
       "t.json: authorizers.a.identitySource[0]: expected route.request.header.NAME, route.request.querystring.NAME, "
       R"(stageVariables.NAME or context.NAME, found string "route.request.header.My Header")"},
      {"IdentitySourceNotAString", api(R"("authorizers": {"a": {"handler": "token", "identitySource": [1]}},)"),
       "t.json: authorizers.a.identitySource[0]: expected route.request.header.NAME, route.request.querystring.NAME, "
       "stageVariables.NAME or context.NAME, found number 1"},
      {"AuthorizerOptionsNotAnObject", api(R"("authorizers": {"a": {"handler": "token", "options": []}},)"),
       "t.json: authorizers.a.options: expected an object, found an array"},
      {"AuthorizerOptionsSetIdentitySource", api(R"("authorizers": {"a": {"handler": "token", "options": {"identitySource": []}}},)"),
       "t.json: authorizers.a.options.identitySource: is given to the authorizer by the emulator from the "
       "authorizer's identitySource; set authorizers.a.identitySource instead"},

      // apiKeys.
      {"ApiKeysNotAnArray", api(R"("apiKeys": "k",)"),
       R"(t.json: apiKeys: expected an array of API key values, found string "k")"},
      {"ApiKeyNotAString", api(R"("apiKeys": ["a", 5],)"),
       "t.json: apiKeys[1]: expected an API key: 1 to 1024 visible ASCII characters without spaces (it "
       "travels in the x-api-key header), found number 5"},
      {"ApiKeyWithSpace", api(R"("apiKeys": ["my key"],)"),
       "t.json: apiKeys[0]: expected an API key: 1 to 1024 visible ASCII characters without spaces (it "
       "travels in the x-api-key header), found a string that is not one"},
      {"EmptyApiKey", api(R"("apiKeys": [""],)"),
       "t.json: apiKeys[0]: expected an API key: 1 to 1024 visible ASCII characters without spaces (it "
       "travels in the x-api-key header), found a string that is not one"},
      {"DuplicateApiKey", api(R"("apiKeys": ["a", "b", "a"],)"),
       "t.json: apiKeys[2]: duplicate API key; apiKeys[0] already has it"},

      // credentials.
      {"CredentialsNotAnArray", api(R"("credentials": {},)"),
       "t.json: credentials: expected an array of credentials, each with accessKeyId, secretAccessKey, arn "
       "and policy, found an object"},
      {"CredentialNotAnObject", api(R"("credentials": ["AKID"],)"),
       R"(t.json: credentials[0]: expected an object with accessKeyId, secretAccessKey, arn and policy, found string "AKID")"},
      {"UnknownCredentialKey", api(one_credential(valid_fields + R"(, "sessionToken": "x")")),
       "t.json: credentials[0].sessionToken: unknown key; the keys allowed in a credential are accessKeyId, "
       "secretAccessKey, arn, policy"},
      {"MissingAccessKeyId", api(one_credential(R"("secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/a", "policy": {})")),
       R"(t.json: credentials[0].accessKeyId: missing; every credential has one, e.g. "AKIAIOSFODNN7EXAMPLE")"},
      {"AccessKeyIdWithSlash", api(one_credential(R"("accessKeyId": "AK/ID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/a", "policy": {})")),
       R"(t.json: credentials[0].accessKeyId: expected 1 to 128 letters or digits, like "AKIAIOSFODNN7EXAMPLE", found string "AK/ID")"},
      {"DuplicateAccessKeyId",
       api(R"("credentials": [{)" + valid_fields + "}, {" + valid_fields + "}],"),
       R"(t.json: credentials[1].accessKeyId: duplicate access key id "AKID"; credentials[0] already has it)"},
      {"MissingSecret", api(one_credential(R"("accessKeyId": "AKID", "arn": "arn:aws:iam::123456789012:user/a", "policy": {})")),
       "t.json: credentials[0].secretAccessKey: missing; every credential has the secret it signs with"},
      {"SecretNotAString", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": 12345, "arn": "arn:aws:iam::123456789012:user/a", "policy": {})")),
       "t.json: credentials[0].secretAccessKey: expected a non-empty string (the secret the key signs with)"},
      {"MissingArn", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": "s", "policy": {})")),
       R"(t.json: credentials[0].arn: missing; the IAM user or role the key belongs to, e.g. "arn:aws:iam::123456789012:user/alice")"},
      {"ArnWithShortAccount", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::1234:user/a", "policy": {})")),
       "t.json: credentials[0].arn: expected an IAM principal ARN: arn:aws:iam::ACCOUNT:user/NAME, "
       "arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION (ACCOUNT: 12 digits), "
       R"(found string "arn:aws:iam::1234:user/a")"},
      {"ArnOfAGroup", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:group/g", "policy": {})")),
       "t.json: credentials[0].arn: expected an IAM principal ARN: arn:aws:iam::ACCOUNT:user/NAME, "
       "arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION (ACCOUNT: 12 digits), "
       R"(found string "arn:aws:iam::123456789012:group/g")"},
      {"MissingPolicy", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/a")")),
       "t.json: credentials[0].policy: missing; an IAM policy document says what the key may call, e.g. "
       R"({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "*"}]})"},
      {"CredentialPolicyNotAnObject", api(one_credential(R"("accessKeyId": "AKID", "secretAccessKey": "s", "arn": "arn:aws:iam::123456789012:user/a", "policy": "*")")),
       R"(t.json: credentials[0].policy: expected an IAM policy document: {"Version": "2012-10-17", "Statement": [...]}, found string "*")"},

      // requireSignedManagementCalls.
      {"RequireSignedNotABoolean", api(credential + R"("requireSignedManagementCalls": "yes",)"),
       R"(t.json: requireSignedManagementCalls: expected true or false, found string "yes")"},
      {"RequireSignedWithoutCredentials", api(R"("requireSignedManagementCalls": true,)"),
       R"(t.json: requireSignedManagementCalls: true needs at least one entry in "credentials" to sign @connections calls with; add one or set it to false)"},

      // Route authorization.
      {"UnknownAuthorizationType", api("", R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "JWT"}])"),
       R"(t.json: routes[0].authorizationType: expected one of NONE, AWS_IAM, CUSTOM, found string "JWT")"},
      {"AuthorizationTypeLowerCase", api("", R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "custom"}])"),
       R"(t.json: routes[0].authorizationType: expected one of NONE, AWS_IAM, CUSTOM, found string "custom")"},
      {"AuthorizationOnAMessageRoute",
       api(authorizer, R"([{"routeKey": "$default", "integration": "echo", "authorizationType": "CUSTOM", "authorizerId": "tok"}])"),
       "t.json: routes[0].authorizationType: only the $connect route takes authorizationType: a WebSocket API "
       "authorizes the connection, not each message"},
      {"AuthorizerIdOnAMessageRoute", api(authorizer, R"([{"routeKey": "send", "integration": "echo", "authorizerId": "tok"}])"),
       "t.json: routes[0].authorizerId: only the $connect route takes authorizerId: a WebSocket API "
       "authorizes the connection, not each message"},
      {"ApiKeyRequiredOnAMessageRoute", api(R"("apiKeys": ["k"],)", R"([{"routeKey": "send", "integration": "echo", "apiKeyRequired": true}])"),
       "t.json: routes[0].apiKeyRequired: only the $connect route takes apiKeyRequired: a WebSocket API "
       "authorizes the connection, not each message"},
      {"CustomWithoutAuthorizerId", api(authorizer, R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "CUSTOM"}])"),
       R"(t.json: routes[0].authorizerId: missing; "authorizationType": "CUSTOM" names an entry of "authorizers")"},
      {"AuthorizerIdUnknown",
       api(authorizer, R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "CUSTOM", "authorizerId": "tokens"}])"),
       R"(t.json: routes[0].authorizerId: no authorizer named "tokens"; the authorizers are abc, tok)"},
      {"AuthorizerIdWithoutAuthorizers",
       api("", R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "CUSTOM", "authorizerId": "tok"}])"),
       R"(t.json: routes[0].authorizerId: no authorizer named "tok"; "authorizers" defines none)"},
      {"AuthorizerIdWithoutCustom", api(authorizer, R"([{"routeKey": "$connect", "integration": "echo", "authorizerId": "tok"}])"),
       R"(t.json: routes[0].authorizerId: applies only with "authorizationType": "CUSTOM"; set that or remove authorizerId)"},
      {"AuthorizerIdNotAString",
       api(authorizer, R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "CUSTOM", "authorizerId": 1}])"),
       "t.json: routes[0].authorizerId: expected a string, found number 1"},
      {"AwsIamWithoutCredentials", api("", R"([{"routeKey": "$connect", "integration": "echo", "authorizationType": "AWS_IAM"}])"),
       R"(t.json: routes[0].authorizationType: "AWS_IAM" needs at least one entry in "credentials": the keys that may sign the handshake)"},
      {"ApiKeyRequiredNotABoolean", api(R"("apiKeys": ["k"],)", R"([{"routeKey": "$connect", "integration": "echo", "apiKeyRequired": "true"}])"),
       R"(t.json: routes[0].apiKeyRequired: expected true or false, found string "true")"},
      {"ApiKeyRequiredWithoutKeys", api("", R"([{"routeKey": "$connect", "integration": "echo", "apiKeyRequired": true}])"),
       R"(t.json: routes[0].apiKeyRequired: true needs at least one key in "apiKeys"; without one every connection would be refused)"},
  };
  for (const error_case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(load_message(c.json), c.message);
  }
}

TEST(ConfigLoaderTest, CredentialErrorsNeverShowTheSecret) {
  const std::string secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";
  for (const std::string& json :
       {api(R"("credentials": [{"accessKeyId": "AKID", "secretAccessKey": ")" + secret +
            R"(", "arn": "arn:aws:iam::1:user/a", "policy": {}}],)"),
        api(R"("credentials": [{"accessKeyId": "AKID", "secretAccessKey": ")" + secret +
            R"(", "arn": "arn:aws:iam::123456789012:user/a", "policy": []}],)")}) {
    std::string message = load_message(json);
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find(secret), std::string::npos) << message;
  }
}

TEST(ConfigLoaderTest, OddIntegrationNamesGetBracketedPaths) {
  api_spec a = load_ok(api("", R"([{"routeKey": "$default", "integration": "my echo"}])",
                           R"({"my echo": {"handler": "echo"}})"));
  EXPECT_EQ(a.integrations.at("my echo").json_path, R"(integrations["my echo"])");
}

TEST(ConfigLoaderTest, DerivedApiIdIsStableAndShapedLikeAws) {
  // Pinned: clients and logs may rely on the id staying the same across versions.
  EXPECT_EQ(derive_api_id("demo"), "h0civ1tspi");
  EXPECT_EQ(derive_api_id("demo"), derive_api_id("demo"));
  EXPECT_NE(derive_api_id("demo"), derive_api_id("demo2"));
  for (const char* name : {"", "demo", "websocket-api", "a much longer name with spaces"}) {
    SCOPED_TRACE(name);
    std::string id = derive_api_id(name);
    ASSERT_EQ(id.size(), 10u);
    for (char c : id) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << id;
  }
  EXPECT_EQ(load_ok(api(R"("name": "chat",)")).api_id, derive_api_id("chat"));
  EXPECT_EQ(load_ok(api(R"("name": "chat", "apiId": "z7aqfmpd0c",)")).api_id, "z7aqfmpd0c");
}

TEST(ConfigLoaderTest, SyntaxErrorsReportLineAndColumn) {
  struct syntax_case {
    const char* name;
    std::string json;
    std::string message;
  };
  const std::vector<syntax_case> cases = {
      {"EmptyDocument", "", "t.json:1:1: The document is empty."},
      {"MissingValueOnLineThree",
       "{\n  \"name\": \"x\",\n  \"routes\": [,]\n}\n",
       "t.json:3:14: Invalid value."},
      {"UnclosedObjectAtEnd", "{\"name\": \"x\",\n", "t.json:2:1: Missing a name for object member."},
      {"ColumnsCountCharactersNotBytes",
       "{\"name\": \"d\xC3\xA9mo\", 1}",
       "t.json:1:18: Missing a name for object member."},
      {"TrailingGarbage", "{}\n{}", "t.json:2:1: The document root must not be followed by other values."},
      {"InvalidUtf8", "{\"name\": \"\xFF\"}", "t.json:1:11: Invalid encoding in string."},
  };
  for (const syntax_case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(load_message(c.json), c.message);
  }
}

// The mistakes of hand-edited JSON, in plain words, at the character to change.
TEST(ConfigLoaderTest, SyntaxErrorsNameCommonMistakesInPlainWords) {
  struct syntax_case {
    const char* name;
    std::string json;
    std::string message;
  };
  const std::vector<syntax_case> cases = {
      {"TrailingCommaInArray",
       "{\n  \"routes\": [\n    {\"routeKey\": \"$default\"},\n  ]\n}",
       "t.json:3:29: trailing comma before ']' (JSON allows none)"},
      {"TrailingCommaInArrayOnOneLine", "{\"routes\": [1, 2 , ]}",
       "t.json:1:18: trailing comma before ']' (JSON allows none)"},
      {"TrailingCommaInObject",
       "{\n  \"stage\": {\"name\": \"dev\",}\n}",
       "t.json:2:26: trailing comma before '}' (JSON allows none)"},
      {"TrailingCommaAtTheEndOfTheFile",
       "{\n  \"name\": \"x\",\n\n}\n",
       "t.json:2:14: trailing comma before '}' (JSON allows none)"},
      {"MissingCommaBetweenMembers",
       "{\n  \"name\": \"x\"\n  \"routes\": []\n}",
       "t.json:3:3: missing comma between object members"},
      {"MissingCommaAfterAnObjectMember",
       "{\"stage\": {\"name\": \"dev\"} \"routes\": []}",
       "t.json:1:27: missing comma between object members"},
      {"MissingCommaBeforeAnUnquotedKey", "{\"name\": \"x\" routes: []}",
       "t.json:1:14: missing comma between object members"},
      {"MissingCommaBetweenElements",
       "{\"routes\": [\n  {\"routeKey\": \"a\"}\n  {\"routeKey\": \"b\"}\n]}",
       "t.json:3:3: missing comma between array elements"},
      {"MissingCommaBetweenNumbers", "[1 2]", "t.json:1:4: missing comma between array elements"},
      {"UnquotedKey", "{\n  routeSelectionExpression: \"$request.body.action\"\n}",
       "t.json:2:3: unquoted key routeSelectionExpression (JSON needs \"routeSelectionExpression\")"},
      {"UnquotedKeyAfterAnother", "{\"name\": \"x\", api_id-2: \"y\"}",
       "t.json:1:15: unquoted key api_id-2 (JSON needs \"api_id-2\")"},
      {"SingleQuotedValue", "{\"name\": 'chat'}",
       "t.json:1:10: single-quoted string (JSON needs double quotes)"},
      {"SingleQuotedKey", "{\n  'name': \"chat\"\n}",
       "t.json:2:3: single-quoted string (JSON needs double quotes)"},
      {"SingleQuotedElement", "{\"routes\": ['a']}",
       "t.json:1:13: single-quoted string (JSON needs double quotes)"},
      {"LineCommentBeforeAMember", "{\n  // the chat API\n  \"name\": \"chat\"\n}",
       "t.json:2:3: // comment (JSON allows none)"},
      {"LineCommentAfterAMember", "{\"name\": \"chat\", // the chat API\n\"routes\": []}",
       "t.json:1:18: // comment (JSON allows none)"},
      {"LineCommentAfterALastMember", "{\"name\": \"chat\" // the chat API\n}",
       "t.json:1:17: // comment (JSON allows none)"},
      {"LineCommentAtTheTop", "// the chat API\n{}", "t.json:1:1: // comment (JSON allows none)"},
      {"LineCommentAtTheEnd", "{}\n// end\n", "t.json:2:1: // comment (JSON allows none)"},
      {"BlockCommentInAValue", "{\"port\": /* was 8080 */ 9000}",
       "t.json:1:10: /* */ comment (JSON allows none)"},
      {"BlockCommentBeforeAColon", "{\"port\" /* x */: 1}",
       "t.json:1:9: /* */ comment (JSON allows none)"},
      {"BlockCommentInAnArray", "[1, /* x */ 2]", "t.json:1:5: /* */ comment (JSON allows none)"},
      // Not these mistakes: RapidJSON's words stay.
      {"CommaThenAnObjectsBracket", "{\"routes\": [1,}", "t.json:1:15: Invalid value."},
      {"CommaThenAnArraysBracket", "{\"name\": \"x\",]", "t.json:1:14: Missing a name for object member."},
      {"ArrayClosedByABrace", "[1 }", "t.json:1:4: Missing a comma or ']' after an array element."},
      {"ObjectClosedByABracket", "{\"a\": 1 ]", "t.json:1:9: Missing a comma or '}' after an object member."},
      {"SlashAlone", "{\"a\": /1}", "t.json:1:7: Invalid value."},
  };
  for (const syntax_case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(load_message(c.json), c.message);
  }
}

// docs/lab.md, task 1: deleting the sendmessage route's line and not the comma before it.
TEST(ConfigLoaderTest, TheLabsRouteDeletedWithoutItsCommaNamesTheTrailingComma) {
  std::string text = read_all(lab_file);
  const std::string route = "    {\"routeKey\": \"sendmessage\", \"integration\": \"SendMessageFunction\"}\n";
  const auto at = text.find(route);
  ASSERT_NE(at, std::string::npos);
  text.erase(at, route.size());
  EXPECT_EQ(load_message(text), "t.json:19:71: trailing comma before ']' (JSON allows none)");
  // With the comma at the end of the line before it deleted as well, the file loads.
  const std::string disconnect = "\"OnDisconnectFunction\"},\n  ]";
  const auto comma = text.find(disconnect);
  ASSERT_NE(comma, std::string::npos);
  text.erase(comma + disconnect.find(','), 1);
  EXPECT_EQ(load_ok(text).routes.size(), 2u);
}

TEST(ConfigLoaderTest, RejectsInvalidConfigsWithActionableMessages) {
  struct error_case {
    const char* name;
    std::string json;
    std::string message;
  };
  const std::string rse = R"("routeSelectionExpression": "$request.body.action", )";
  const std::vector<error_case> cases = {
      // Shape of the document.
      {"TopLevelNotAnObject", "[]", "t.json: expected a JSON object at the top level, found an array"},
      {"MissingRouteSelectionExpression", R"({"routes": []})",
       R"(t.json: routeSelectionExpression: missing; it is required, e.g. "$request.body.action")"},
      {"EmptyRouteSelectionExpression", R"({"routeSelectionExpression": "", "routes": []})",
       R"(t.json: routeSelectionExpression: must not be empty, e.g. "$request.body.action")"},
      {"RouteSelectionExpressionNotAString", R"({"routeSelectionExpression": 1, "routes": []})",
       "t.json: routeSelectionExpression: expected a string, found number 1"},
      {"MissingRoutes", "{" + rse.substr(0, rse.size() - 2) + "}",
       R"(t.json: routes: missing; it is required: an array of routes such as {"routeKey": "$default", "integration": "echo"})"},

      // Unknown and duplicate keys, at every level.
      {"UnknownTopLevelKey", api(R"("stages": {},)"),
       "t.json: stages: unknown key; the keys allowed at the top level are name, apiId, region, "
       "routeSelectionExpression, stage, server, limits, routes, integrations, authorizers, apiKeys, "
       "credentials, requireSignedManagementCalls, strictCredentials, tables"},
      {"UnknownStageKey", api(R"("stage": {"nmae": "dev"},)"),
       "t.json: stage.nmae: unknown key; the keys allowed in stage are name, variables, accessLogFormat, "
       "throttling"},
      {"UnknownServerKey", api(R"("server": {"address": "x"},)"),
       "t.json: server.address: unknown key; the keys allowed in server are host, port"},
      {"UnknownLimitsKey", api(R"("limits": {"maxMessageSize": 1},)"),
       "t.json: limits.maxMessageSize: unknown key; the keys allowed in limits are maxMessageBytes, "
       "maxFrameBytes, idleTimeoutSeconds, maxConnectionSeconds, integrationTimeoutMillis"},
      {"UnknownRouteKey", api("", R"([{"routeKey": "$default", "integration": "echo", "target": "x"}])"),
       "t.json: routes[0].target: unknown key; the keys allowed in a route are routeKey, integration, "
       "routeResponseSelectionExpression, authorizationType, authorizerId, apiKeyRequired"},
      {"UnknownIntegrationKey", api("", R"([{"routeKey": "$default", "integration": "echo"}])",
                                    R"({"echo": {"handler": "echo", "uri": "x"}})"),
       "t.json: integrations.echo.uri: unknown key; the keys allowed in an integration are type, "
       "handler, options, policy, library"},
      {"RegionNotARegion", api(R"("region": "Frankfurt",)"),
       R"(t.json: region: expected an AWS region name such as "us-east-1", found string "Frankfurt")"},
      {"TablesNotAnArray", api(R"("tables": {},)"),
       "t.json: tables: expected an array of DynamoDB CreateTable definitions, found an object"},
      {"PolicyNotAnObject", api("", R"([{"routeKey": "$default", "integration": "echo"}])",
                                R"({"echo": {"handler": "echo", "policy": "allow"}})"),
       R"(t.json: integrations.echo.policy: expected an IAM policy document: {"Version": "2012-10-17", "Statement": [...]}, found string "allow")"},
      {"UnknownKeyWithOddCharacters", api(R"("my key": 1,)"),
       R"(t.json: ["my key"]: unknown key; the keys allowed at the top level are name, apiId, region, )"
       "routeSelectionExpression, stage, server, limits, routes, integrations, authorizers, apiKeys, "
       "credentials, requireSignedManagementCalls, strictCredentials, tables"},
      {"DuplicateTopLevelKey", api(R"("name": "a", "name": "b",)"),
       "t.json: name: duplicate key; each key may appear only once in an object"},
      {"DuplicateIntegration", api("", R"([{"routeKey": "$default", "integration": "echo"}])",
                                   R"({"echo": {"handler": "echo"}, "echo": {"handler": "mock"}})"),
       "t.json: integrations.echo: duplicate key; each key may appear only once in an object"},
      {"DuplicateStageVariable", api(R"("stage": {"variables": {"a": "1", "a": "2"}},)"),
       "t.json: stage.variables.a: duplicate key; each key may appear only once in an object"},

      // name and apiId.
      {"EmptyName", api(R"("name": "",)"), R"(t.json: name: expected 1 to 128 characters, found string "")"},
      {"NameNotAString", api(R"("name": 7,)"), "t.json: name: expected a string, found number 7"},
      {"ApiIdWithCapitals", api(R"("apiId": "Demo000001",)"),
       R"(t.json: apiId: expected 10 lowercase letters or digits, like "z7aqfmpd0c", found string "Demo000001")"},
      {"ApiIdTooShort", api(R"("apiId": "demo",)"),
       R"(t.json: apiId: expected 10 lowercase letters or digits, like "z7aqfmpd0c", found string "demo")"},

      // stage.
      {"StageNotAnObject", api(R"("stage": "dev",)"),
       R"(t.json: stage: expected an object with name and variables, found string "dev")"},
      {"StageNameWithSpace", api(R"("stage": {"name": "my stage"},)"),
       "t.json: stage.name: expected a stage name of 1 to 128 letters, digits, hyphens or "
       R"(underscores, found string "my stage")"},
      {"EmptyStageName", api(R"("stage": {"name": ""},)"),
       "t.json: stage.name: expected a stage name of 1 to 128 letters, digits, hyphens or "
       R"(underscores, found string "")"},
      {"StageNameTooLong", api(R"("stage": {"name": ")" + std::string(129, 's') + R"("},)"),
       "t.json: stage.name: expected a stage name of 1 to 128 letters, digits, hyphens or "
       "underscores, found string \"" + std::string(60, 's') + "\"..."},
      {"StageVariablesNotAnObject", api(R"("stage": {"variables": ["a"]},)"),
       "t.json: stage.variables: expected an object of string values, found an array"},
      {"StageVariableNumber", api(R"("stage": {"variables": {"port": 8080}},)"),
       "t.json: stage.variables.port: expected a string, found number 8080"},
      {"StageVariableBadName", api(R"("stage": {"variables": {"my-var": "x"}},)"),
       "t.json: stage.variables.my-var: stage variable names may contain only letters, digits and "
       "underscores"},
      {"StageVariableBadValue", api(R"("stage": {"variables": {"greeting": "hello world"}},)"),
       "t.json: stage.variables.greeting: expected 1 to 2048 of the characters AWS allows in stage "
       R"(variable values: letters, digits and - . _ ~ : / ? # & = ,, found string "hello world")"},
      {"StageVariableEmptyValue", api(R"("stage": {"variables": {"e": ""}},)"),
       "t.json: stage.variables.e: expected 1 to 2048 of the characters AWS allows in stage "
       R"(variable values: letters, digits and - . _ ~ : / ? # & = ,, found string "")"},

      // server.
      {"PortAsString", api(R"("server": {"port": "8080"},)"),
       R"(t.json: server.port: expected an integer from 0 to 65535 (0 picks a free port), found string "8080")"},
      {"PortTooLarge", api(R"("server": {"port": 65536},)"),
       "t.json: server.port: expected an integer from 0 to 65535 (0 picks a free port), found number 65536"},
      {"PortNegative", api(R"("server": {"port": -1},)"),
       "t.json: server.port: expected an integer from 0 to 65535 (0 picks a free port), found number -1"},
      {"PortFraction", api(R"("server": {"port": 80.5},)"),
       "t.json: server.port: expected an integer from 0 to 65535 (0 picks a free port), found number 80.5"},
      {"EmptyHost", api(R"("server": {"host": ""},)"),
       R"(t.json: server.host: expected a host name or IP address, e.g. "127.0.0.1", found string "")"},

      // limits.
      {"LimitsNotAnObject", api(R"("limits": null,)"), "t.json: limits: expected an object, found null"},
      {"ZeroMessageBytes", api(R"("limits": {"maxMessageBytes": 0},)"),
       "t.json: limits.maxMessageBytes: expected a positive integer (bytes), found number 0"},
      {"FractionalFrameBytes", api(R"("limits": {"maxFrameBytes": 1024.5},)"),
       "t.json: limits.maxFrameBytes: expected a positive integer (bytes), found number 1024.5"},
      {"FrameLargerThanMessage", api(R"("limits": {"maxMessageBytes": 32768, "maxFrameBytes": 40000},)"),
       "t.json: limits.maxFrameBytes: 40000 must not exceed maxMessageBytes (32768): a message is at "
       "least one frame"},
      {"FrameLargerThanDefaultMessage", api(R"("limits": {"maxFrameBytes": 200000},)"),
       "t.json: limits.maxFrameBytes: 200000 must not exceed maxMessageBytes (131072): a message is "
       "at least one frame"},
      {"ZeroIdleTimeout", api(R"("limits": {"idleTimeoutSeconds": 0},)"),
       "t.json: limits.idleTimeoutSeconds: expected a number of seconds from 0.000001 to 31536000 "
       "(fractions allowed, e.g. 0.3), found number 0"},
      {"DurationAsString", api(R"("limits": {"maxConnectionSeconds": "2h"},)"),
       "t.json: limits.maxConnectionSeconds: expected a number of seconds from 0.000001 to 31536000 "
       R"((fractions allowed, e.g. 0.3), found string "2h")"},
      {"IntegrationTimeoutTooShort", api(R"("limits": {"integrationTimeoutMillis": 49.9},)"),
       "t.json: limits.integrationTimeoutMillis: expected a number of milliseconds from 50 to 29000 "
       "(AWS's range), found number 49.9"},
      {"IntegrationTimeoutTooLong", api(R"("limits": {"integrationTimeoutMillis": 30000},)"),
       "t.json: limits.integrationTimeoutMillis: expected a number of milliseconds from 50 to 29000 "
       "(AWS's range), found number 30000"},

      // integrations.
      {"IntegrationsNotAnObject", api("", "[]", "[]"),
       "t.json: integrations: expected an object mapping integration names to integrations, found an array"},
      {"IntegrationNotAnObject", api("", "[]", R"({"echo": "echo"})"),
       R"(t.json: integrations.echo: expected an object with type, handler and options, found string "echo")"},
      {"EmptyIntegrationName", api("", "[]", R"({"": {"handler": "echo"}})"),
       R"(t.json: integrations[""]: integration names must not be empty)"},
      {"UnknownIntegrationType", api("", "[]", R"({"fn": {"type": "http", "handler": "echo"}})"),
       R"(t.json: integrations.fn.type: unknown integration type "http"; the types are "builtin" (a handler of the emulator), "plugin" (a handler from a shared library named by "library") and "lambda" (a Lambda function's code: runtime, handler, codeUri))"},
      {"LambdaWithoutRuntime", api("", "[]", R"({"fn": {"type": "lambda", "handler": "app.handler"}})"),
       R"(t.json: integrations.fn.runtime: missing; name the function's runtime, one of nodejs18.x, nodejs20.x, nodejs22.x, python3.9, python3.10, python3.11, python3.12, python3.13, provided.al2023, provided.al2, provided)"},
      {"LambdaUnknownRuntime", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "java21", "handler": "a.b"}})"),
       R"(t.json: integrations.fn.runtime: unknown runtime "java21"; the runtimes are nodejs18.x, nodejs20.x, nodejs22.x, python3.9, python3.10, python3.11, python3.12, python3.13, provided.al2023, provided.al2, provided)"},
      {"LambdaHandlerWithoutFunction", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "python3.12", "handler": "lambda_function"}})"),
       R"(t.json: integrations.fn.handler: "lambda_function" is not FILE.FUNCTION; e.g. "lambda_function.lambda_handler")"},
      {"LambdaWithoutCodeUri", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler"}})"),
       R"(t.json: integrations.fn.codeUri: missing; the folder that holds the function's code, relative to this file, e.g. "functions/sendmessage/")"},
      {"LambdaWithOptions", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler", "options": {}}})"),
       R"(t.json: integrations.fn.options: unknown key; the keys allowed in a "lambda" integration are type, runtime, handler, codeUri, layers, environment, timeout, memorySize, reservedConcurrency, policy)"},
      {"LambdaReservedVariable", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler", "codeUri": ".", "environment": {"AWS_REGION": "eu-west-1"}}})"),
       R"(t.json: integrations.fn.environment.AWS_REGION: reserved: Lambda sets AWS_REGION itself; choose another name)"},
      {"LambdaNumberVariable", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler", "codeUri": ".", "environment": {"PORT": 8080}}})"),
       R"(t.json: integrations.fn.environment.PORT: expected a string (write "8080", not 8080), found number 8080)"},
      {"LambdaTimeoutTooLong", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler", "codeUri": ".", "timeout": 901}})"),
       R"(t.json: integrations.fn.timeout: expected a number of seconds from 0.05 to 900 (Lambda's maximum; fractions allowed), found number 901)"},
      {"LambdaMemoryTooSmall", api("", "[]", R"({"fn": {"type": "lambda", "runtime": "nodejs20.x", "handler": "app.handler", "codeUri": ".", "memorySize": 64}})"),
       R"(t.json: integrations.fn.memorySize: expected an integer from 128 to 10240 (MB, Lambda's range), found number 64)"},
      {"PluginWithoutLibrary", api("", "[]", R"({"fn": {"type": "plugin", "handler": "echo"}})"),
       R"(t.json: integrations.fn.library: a plugin integration names its shared library, e.g. "library": "build/libmyhandlers.so" (relative to the config file))"},
      {"LibraryOnABuiltin", api("", "[]", R"({"fn": {"handler": "echo", "library": "x.so"}})"),
       R"(t.json: integrations.fn.library: only a "plugin" integration loads a library; set "type": "plugin" or remove "library")"},
      {"MissingHandler", api("", "[]", R"({"fn": {"type": "builtin"}})"),
       R"(t.json: integrations.fn.handler: missing; name the handler that serves this integration, e.g. "echo", "inspect" or "mock")"},
      {"EmptyHandler", api("", "[]", R"({"fn": {"handler": ""}})"),
       R"(t.json: integrations.fn.handler: must not be empty; name a handler, e.g. "echo", "inspect" or "mock")"},
      {"HandlerNotAString", api("", "[]", R"({"fn": {"handler": ["echo"]}})"),
       "t.json: integrations.fn.handler: expected a string, found an array"},
      {"OptionsNotAnObject", api("", "[]", R"({"fn": {"handler": "mock", "options": "{}"}})"),
       R"(t.json: integrations.fn.options: expected an object, found string "{}")"},

      // routes.
      {"RoutesNotAnArray", api("", R"({"$default": "echo"})"),
       "t.json: routes: expected an array of routes, found an object"},
      {"NoRoutes", api("", "[]"),
       "t.json: routes: must hold at least one route (AWS cannot deploy an API without routes)"},
      {"RouteNotAnObject", api("", R"([{"routeKey": "$default", "integration": "echo"}, "echo"])"),
       "t.json: routes[1]: expected an object with routeKey, integration and optionally "
       R"(routeResponseSelectionExpression, found string "echo")"},
      {"MissingRouteKey", api("", R"([{"integration": "echo"}])"),
       R"(t.json: routes[0].routeKey: missing; every route needs one, e.g. "$default" or "sendmessage")"},
      {"EmptyRouteKey", api("", R"([{"routeKey": "", "integration": "echo"}])"),
       "t.json: routes[0].routeKey: must not be empty"},
      {"RouteKeyNotAString", api("", R"([{"routeKey": true, "integration": "echo"}])"),
       "t.json: routes[0].routeKey: expected a string, found true"},
      {"CustomRouteKeyWithDollar",
       api("", R"([{"routeKey": "$connect", "integration": "echo"}, {"routeKey": "a", "integration": "echo"},
                   {"routeKey": "b", "integration": "echo"}, {"routeKey": "$foo", "integration": "echo"}])"),
       R"(t.json: routes[3].routeKey: custom route key "$foo" must not start with '$'; only $connect, $disconnect and $default do)"},
      {"DollarKeysAreCaseSensitive", api("", R"([{"routeKey": "$Default", "integration": "echo"}])"),
       R"(t.json: routes[0].routeKey: custom route key "$Default" must not start with '$'; only $connect, $disconnect and $default do)"},
      {"DuplicateRouteKey",
       api("", R"([{"routeKey": "echo", "integration": "echo"}, {"routeKey": "x", "integration": "echo"},
                   {"routeKey": "echo", "integration": "echo"}])"),
       R"(t.json: routes[2].routeKey: duplicate route key "echo"; routes[0] already has it)"},
      {"MissingIntegrationKey", api("", R"([{"routeKey": "$default"}])"),
       R"(t.json: routes[0].integration: missing; every route names an entry of "integrations")"},
      {"IntegrationDoesNotExist",
       api("", R"([{"routeKey": "$default", "integration": "ecko"}])",
           R"({"inspect": {"handler": "inspect"}, "echo": {"handler": "echo"}})"),
       R"(t.json: routes[0].integration: no integration named "ecko"; the integrations are echo, inspect)"},
      {"RouteResponseSelectionNotDefault",
       api("", R"([{"routeKey": "$default", "integration": "echo", "routeResponseSelectionExpression": "$request.body.x"}])"),
       R"(t.json: routes[0].routeResponseSelectionExpression: expected "$default" (the only value WebSocket APIs support: it makes the route two-way; leave the key out for a one-way route), found string "$request.body.x")"},
      {"RouteResponseSelectionNull",
       api("", R"([{"routeKey": "$default", "integration": "echo", "routeResponseSelectionExpression": null}])"),
       R"(t.json: routes[0].routeResponseSelectionExpression: expected "$default" (the only value WebSocket APIs support: it makes the route two-way; leave the key out for a one-way route), found null)"},
  };
  for (const error_case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(load_message(c.json), c.message);
  }
}

TEST(ConfigLoaderTest, MissingFileNamesTheFileAndTheReason) {
  const std::filesystem::path missing = std::filesystem::path(APIGW_CONFIG_DIR) / "no-such-file.json";
  auto r = load_file(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            missing.string() + ": cannot open the file: No such file or directory");
}

TEST(ConfigLoaderTest, DirectoryNamesTheFileAndTheReason) {
  auto r = load_file(APIGW_CONFIG_DIR);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            std::string(APIGW_CONFIG_DIR) + ": cannot read the file: Is a directory");
}

TEST(ConfigLoaderTest, FileErrorsNameTheFile) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("apigw_config_test_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(file, std::ios::binary);
    out << "{\n  \"routeSelectionExpression\": \"x\",\n  \"routes\": [\n    {\"routeKey\": \"$foo\"}\n  ]\n}\n";
  }
  auto r = load_file(file);
  std::filesystem::remove(file);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            file.string() + R"(: routes[0].routeKey: custom route key "$foo" must not start with '$'; only $connect, $disconnect and $default do)");
}

}  // namespace
}  // namespace apigw::config
