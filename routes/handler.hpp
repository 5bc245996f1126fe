// The interface of an in-process integration: what a Lambda function is to API Gateway.
// Thread-safety: invoke() may be called from several threads at once, for different events;
// implementations keep their own state thread-safe.
#pragma once

#include <optional>
#include <stdexcept>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "routes/connections_api.hpp"
#include "routes/tables_api.hpp"

namespace apigw::routes {

// The Lambda proxy result: {"statusCode", "body", "headers", "isBase64Encoded"}.
struct handler_result {
  std::optional<int> status_code;
  std::optional<std::string> body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool is_base64_encoded = false;
};

// A function's log stream, as Lambda writes it to CloudWatch: the emulator prints it.
// Thread-safety: write() may be called from any thread.
class invocation_log {
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

class handler {
 public:
  virtual ~handler() = default;

  // REQUIRES: event is a Lambda proxy event object (aws-behaviour.md section 5).
  // May throw: the gateway turns the exception into the error the client would see on AWS.
  virtual handler_result invoke(const rapidjson::Value& event, invocation_context& context) = 0;

  // True when invoke() may block (sleep, I/O, locks held long). Such handlers run on the worker
  // pool under the integration timeout; the others run inline on the connection's strand.
  virtual bool may_block() const { return true; }
};

// The answer of a Lambda REQUEST authorizer (aws-behaviour.md section 7).
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
class unauthorized : public std::runtime_error {
 public:
  unauthorized() : std::runtime_error("Unauthorized") {}
};

// A REQUEST authorizer: decides whether a $connect may proceed.
// Thread-safety: authorize() may be called from several threads at once.
class authorizer {
 public:
  virtual ~authorizer() = default;

  // REQUIRES: event is an authorizer event (type "REQUEST", methodArn, headers, ...).
  virtual authorizer_result authorize(const rapidjson::Value& event, invocation_context& context) = 0;

  // As handler::may_block().
  virtual bool may_block() const { return true; }
};

}  // namespace apigw::routes
