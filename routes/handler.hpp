// The interface of an in-process integration: what a Lambda function is to API Gateway.
// Thread-safety: invoke() may be called from several threads at once, for different events;
// implementations keep their own state thread-safe.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "routes/connections_api.hpp"

namespace apigw::routes {

// The Lambda proxy result: {"statusCode", "body", "headers", "isBase64Encoded"}.
struct handler_result {
  std::optional<int> status_code;
  std::optional<std::string> body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool is_base64_encoded = false;
};

// What a handler can reach besides its event: the management API of the connections.
// Thread-safety: what it refers to is safe from any thread.
class invocation_context {
 public:
  invocation_context() = default;
  explicit invocation_context(connections_api* connections) : connections_(connections) {}

  // REQUIRES: has_connections().
  connections_api& connections() const { return *connections_; }
  bool has_connections() const { return connections_ != nullptr; }

 private:
  connections_api* connections_ = nullptr;
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

}  // namespace apigw::routes
