// One routing decision, as the routing trace, the access log and the dashboard report it: which
// event, which connection, what the selection expression gave, the route and why, and the outcome.
// Thread-safety: a plain value; the connection it refers to is immutable.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/auth/connection_info.hpp"

namespace apigw::emulator {

struct trace_record {
  std::chrono::system_clock::time_point time;
  const char* event_type = "";  // "CONNECT", "MESSAGE", "DISCONNECT", "MANAGEMENT" (an @connections call)
  // The connection: its id, source address, Host and connect time, shared, not copied.
  std::shared_ptr<const connection_info> connection;
  // API Gateway's 16-character id, or a management call's 36-character UUID; held in place.
  short_text<36> request_id;
  identifier message_id;                   // MESSAGE only
  std::optional<std::string> selection;    // MESSAGE: what the expression gave (none: not JSON)
  // The route that took the event and its integration, or none: the names are not copied. They
  // are a route's own, which the gateway keeps while it lives (a server makes its gateway before
  // its tracer and ends it after), or literals. REQUIRES: they outlive the tracer that keeps them.
  std::optional<std::string_view> route_key;
  // MESSAGE: "exact match", "fell back to $default", "no route", "throttled"
  const char* why = nullptr;
  std::optional<std::string_view> integration;
  std::optional<int> status;               // the handler's statusCode, or the handshake's status
  std::optional<std::string> error;        // the gateway's error frame message ("Forbidden" …)
  std::optional<std::string> call;         // MANAGEMENT: "POST", "GET", "DELETE", … (the HTTP method)
  std::optional<int> close_code;           // DISCONNECT
  std::optional<std::string> close_reason;
  double latency_ms = 0;                   // the integration's
  // A Lambda function's invocation: cold (a new process) or warm, and its error type.
  std::optional<bool> cold_start;
  std::optional<std::string> function_request_id;  // Lambda's request id, in the function's log
  std::optional<std::string> function_error;
  std::size_t bytes = 0;                   // the message's
};

}  // namespace apigw::emulator
