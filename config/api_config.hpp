// The configuration model of one emulated WebSocket API: plain values, filled by config_loader.
// Thread-safety: immutable once loaded; safe to read from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace apigw::config {

// AWS's service limits; every one can be changed in "limits".
struct limits {
  std::size_t max_message_bytes = 131072;
  std::size_t max_frame_bytes = 32768;
  std::chrono::microseconds idle_timeout = std::chrono::seconds(600);
  std::chrono::microseconds max_connection_duration = std::chrono::seconds(7200);
  std::chrono::microseconds integration_timeout = std::chrono::milliseconds(29000);
};

struct stage_settings {
  std::string name = "dev";
  // In the order of the file; empty when the stage defines none.
  std::vector<std::pair<std::string, std::string>> variables;
  // API Gateway's access log format ("$context.requestId $context.routeKey …"); empty: none.
  std::string access_log_format;
  // "throttling": {"rateLimit": R, "burstLimit": B}: a token bucket of B tokens refilled at R per
  // second, one for messages and one for new connections. Absent: no stage throttling.
  struct throttling_settings {
    double rate_limit = 0;
    double burst_limit = 0;
  };
  std::optional<throttling_settings> throttling;
};

struct server_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

// A Lambda function run from its code on disk ("type": "lambda"), as Lambda runs it.
struct function_spec {
  std::string runtime;          // "nodejs20.x", "python3.12", "provided.al2023", ...
  std::string handler;          // "app.handler", "lambda_function.lambda_handler"; "provided": free
  std::string code_dir;         // "codeUri", resolved against the config's folder
  // "layers": folders with what Lambda would extract into /opt, in the function's order (a later
  // layer's files win); absolute.
  std::vector<std::string> layers;
  std::vector<std::pair<std::string, std::string>> environment;  // in the order of the file
  double timeout_seconds = 3;   // SAM's default
  unsigned memory_mb = 128;     // SAM's default
  unsigned reserved_concurrency = 10;  // processes at most; more invocations wait their turn
};

struct integration_spec {
  std::string name;             // its key in "integrations"
  std::string type = "builtin";  // "builtin", "plugin" or "lambda"
  std::string library;          // "plugin": the shared library, resolved against the config's folder
  std::string handler;          // a name in the handler registry (or in the plugin)
  std::string options_json = "{}";  // compact JSON text of "options"
  std::string policy_json;      // compact JSON of the IAM policy document; empty: no policy
  std::string json_path;        // e.g. "integrations.echo", for error messages
  std::optional<function_spec> function;  // "lambda" only
};

// A DynamoDB table, declared with CreateTable's shape (checked by the store).
struct table_spec {
  std::string definition_json;  // compact JSON of the declaration
  std::string json_path;        // e.g. "tables[0]"
};

// A Lambda REQUEST authorizer ("authorizers": {"NAME": {...}}), served by an in-process authorizer.
struct authorizer_spec {
  std::string name;             // its key in "authorizers"
  std::string handler;          // a name among the registry's authorizers ("token" is built in)
  std::string function;         // or: a "lambda" integration that decides (then handler is empty)
  // "route.request.header.NAME", "route.request.querystring.NAME", "stageVariables.NAME",
  // "context.NAME", in the order of the file.
  std::vector<std::string> identity_source;
  std::string options_json = "{}";  // compact JSON text of "options"
  std::string json_path;        // e.g. "authorizers.tokens"
};

// An IAM user or role that may sign requests ("credentials": [...]).
struct credential_spec {
  std::string access_key_id;
  std::string secret_access_key;
  std::string arn;              // e.g. "arn:aws:iam::123456789012:user/alice"
  std::string policy_json;      // compact JSON of its IAM policy document
  std::string json_path;        // e.g. "credentials[0]"
};

struct route_spec {
  std::string route_key;
  std::string integration;      // a key of api_spec::integrations
  // Only on $connect: "NONE", "AWS_IAM" or "CUSTOM" (then authorizer_id names an authorizer).
  std::string authorization_type = "NONE";
  std::string authorizer_id;
  bool api_key_required = false;  // only on $connect: x-api-key must be one of api_spec::api_keys
  std::optional<std::string> route_response_selection_expression;
  std::string json_path;        // e.g. "routes[1]"

  // AWS: a route is two-way when its route response selection expression is "$default".
  bool two_way() const { return route_response_selection_expression == "$default"; }
};

struct api_spec {
  std::string name = "websocket-api";
  std::string api_id;
  std::string region = "us-east-1";  // for the ARNs handlers' permissions are checked against
  std::string route_selection_expression;
  stage_settings stage;
  server_settings server;
  // Qualified: an unqualified "limits limits;" changes the meaning of the name, which g++ rejects.
  config::limits limits;
  std::vector<route_spec> routes;
  std::map<std::string, integration_spec> integrations;
  std::map<std::string, authorizer_spec> authorizers;
  std::vector<std::string> api_keys;            // "apiKeys": the values x-api-key may carry
  std::vector<credential_spec> credentials;     // keys that may sign $connect and @connections calls
  // "requireSignedManagementCalls": @connections calls must be SigV4-signed by a credential whose
  // policy allows execute-api:ManageConnections on the call's ARN.
  bool require_signed_management_calls = false;
  // "strictCredentials": a DynamoDB call must be signed, and by a key the emulator knows (a
  // function's or one of CREDENTIALS); otherwise any key is an administrator's.
  bool strict_credentials = false;
  std::vector<table_spec> tables;
  std::string source;           // the file it came from, or "<built-in>"
};

}  // namespace apigw::config
