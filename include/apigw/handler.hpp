// Your own integrations: a handler is to the emulator what a Lambda function is to API Gateway.
// It gets the Lambda proxy event as a read-only JSON value and a context (the connections'
// management API, the tables, a log stream) and returns the proxy result. Authorizers decide a
// $connect the way a Lambda REQUEST authorizer does. See docs/handlers.md.
// Thread-safety: invoke() and authorize() may be called from several threads at once, for
// different events; implementations keep their own state thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "apigw/connections_api.hpp"
#include "apigw/export.hpp"
#include "apigw/tables_api.hpp"

namespace apigw {

// The Lambda proxy result: {"statusCode", "body", "headers", "isBase64Encoded"}. On a two-way
// route the body goes back to the client as a frame; on $connect a status other than 2xx
// refuses the connection with that status.
struct handler_result {
  std::optional<int> status_code;
  std::optional<std::string> body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool is_base64_encoded = false;
};

// A function's log stream, as Lambda writes it to CloudWatch: the emulator prints it.
// Thread-safety: write() may be called from any thread.
class APIGW_EXPORT invocation_log {
 public:
  virtual ~invocation_log() = default;
  // LEVEL: "INFO", "ERROR"; or "" for the platform's own lines (START, END, REPORT).
  virtual void write(std::string_view function, std::string_view request_id, std::string_view level,
                     std::string_view message) = 0;
};

// What a handler can reach besides its event: the management API of the connections, the
// tables, and its log stream; the first two are subject to the integration's IAM policy.
// Thread-safety: what it refers to is safe from any thread; the context itself lives for one call.
class invocation_context {
 public:
  invocation_context() = default;
  invocation_context(connections_api* connections, tables_api* tables, invocation_log* log,
                     std::string_view function, std::string_view request_id)
      : connections_(connections), tables_(tables), log_(log), function_(function), request_id_(request_id) {}

  // REQUIRES: has_connections().
  connections_api& connections() const { return *connections_; }
  bool has_connections() const { return connections_ != nullptr; }
  // REQUIRES: has_tables().
  tables_api& tables() const { return *tables_; }
  bool has_tables() const { return tables_ != nullptr; }

  // A line in the function's log, like console.log in a Lambda.
  void log(std::string_view message) const { write("INFO", message); }
  void log_error(std::string_view message) const { write("ERROR", message); }

  // The integration's name in the config, and the invocation's request id.
  std::string_view function_name() const { return function_; }
  std::string_view request_id() const { return request_id_; }

 private:
  void write(std::string_view level, std::string_view message) const {
    if (log_ != nullptr) log_->write(function_, request_id_, level, message);
  }

  connections_api* connections_ = nullptr;
  tables_api* tables_ = nullptr;
  invocation_log* log_ = nullptr;
  std::string_view function_;
  std::string_view request_id_;
};

class APIGW_EXPORT handler {
 public:
  virtual ~handler() = default;

  // REQUIRES: event is a Lambda proxy event object (requestContext, body, ...); it and the
  // context live for the call only.
  // May throw: the exception stops at the integration and becomes the error the client would
  // see on AWS (a message gets the "Internal server error" frame, $connect a 500).
  virtual handler_result invoke(const rapidjson::Value& event, invocation_context& context) = 0;

  // True when invoke() may block (sleep, I/O, locks held long). Such handlers run on the worker
  // pool under the integration timeout; the others run inline on the connection's I/O thread,
  // where blocking would stall the connection and every other one that thread serves.
  virtual bool may_block() const { return true; }
};

// The answer of a Lambda REQUEST authorizer.
struct authorizer_result {
  std::string principal_id;
  // The policyDocument, JSON text: {"Version": "2012-10-17", "Statement": [{"Action":
  // "execute-api:Invoke", "Effect": "Allow" | "Deny", "Resource": ARN or wildcard}]}.
  std::string policy_json;
  // The "context" object, JSON text; its values are strings, numbers or booleans.
  std::string context_json = "{}";
};

// Thrown by an authorizer to refuse the caller with 401, as a Lambda authorizer does by failing
// with the message "Unauthorized". Any other exception refuses with 500.
class APIGW_EXPORT unauthorized : public std::runtime_error {
 public:
  unauthorized() : std::runtime_error("Unauthorized") {}
};

// A REQUEST authorizer: decides whether a $connect may proceed.
// Thread-safety: authorize() may be called from several threads at once.
class APIGW_EXPORT authorizer {
 public:
  virtual ~authorizer() = default;

  // REQUIRES: event is an authorizer event (type "REQUEST", methodArn, headers, ...).
  virtual authorizer_result authorize(const rapidjson::Value& event, invocation_context& context) = 0;

  // As handler::may_block().
  virtual bool may_block() const { return true; }
};

// Builds a handler from an integration's "options" (a JSON object, {} when absent). On bad
// options it returns an error message naming the option and what is allowed; the emulator
// prefixes the integration's JSON path.
using handler_factory = std::function<std::variant<std::unique_ptr<handler>, std::string>(
    const rapidjson::Value& options)>;

// Builds an authorizer from its "options", like handler_factory.
using authorizer_factory = std::function<std::variant<std::unique_ptr<authorizer>, std::string>(
    const rapidjson::Value& options)>;

}  // namespace apigw
