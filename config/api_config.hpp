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
};

struct server_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
};

struct integration_spec {
  std::string name;             // its key in "integrations"
  std::string type = "builtin";  // "builtin" or "plugin"
  std::string library;          // "plugin": the shared library, resolved against the config's folder
  std::string handler;          // a name in the handler registry (or in the plugin)
  std::string options_json = "{}";  // compact JSON text of "options"
  std::string policy_json;      // compact JSON of the IAM policy document; empty: no policy
  std::string json_path;        // e.g. "integrations.echo", for error messages
};

// A DynamoDB table, declared with CreateTable's shape (checked by the store).
struct table_spec {
  std::string definition_json;  // compact JSON of the declaration
  std::string json_path;        // e.g. "tables[0]"
};

struct route_spec {
  std::string route_key;
  std::string integration;      // a key of api_spec::integrations
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
  std::vector<table_spec> tables;
  std::string source;           // the file it came from, or "<built-in>"
};

}  // namespace apigw::config
