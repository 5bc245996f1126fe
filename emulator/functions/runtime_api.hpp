// The Lambda Runtime API (2018-06-01) as one function process sees it, split at the socket: the
// function room decides what each call means (runtime_api_backend); the network room serves the
// HTTP on its own port per process (runtime_api_server), so that AWS_LAMBDA_RUNTIME_API is a
// plain host:port, as every runtime client expects.
// Thread-safety: a backend's calls may come from any thread; a server is created and destroyed
// from any one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace apigw::emulator::functions {

// What GET /runtime/invocation/next answers: the event and its headers.
struct runtime_invocation {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id
  std::int64_t deadline_ms;  // Lambda-Runtime-Deadline-Ms, epoch milliseconds
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;      // Lambda-Runtime-Trace-Id
  std::string event;         // the body: the event's JSON
};

// The answer to a POST: 202, or an error status with the Runtime API's error body.
struct runtime_answer {
  int status = 202;
  std::string error_type;  // "InvalidRequestID", "InvalidStateTransition", ...; empty on 202
  std::string message;
};

// What one function process's calls mean.
class runtime_api_backend {
 public:
  virtual ~runtime_api_backend() = default;
  // GET /runtime/invocation/next: DELIVER is called once, from any thread, when the process has an
  // invocation; never when the process is stopped first.
  virtual void next(std::function<void(runtime_invocation)> deliver) = 0;
  // POST /runtime/invocation/{id}/response.
  virtual runtime_answer response(std::string_view request_id, std::string body) = 0;
  // POST /runtime/invocation/{id}/error; ERROR_TYPE from Lambda-Runtime-Function-Error-Type.
  virtual runtime_answer error(std::string_view request_id, std::string_view error_type, std::string body) = 0;
  // POST /runtime/init/error.
  virtual runtime_answer init_error(std::string_view error_type, std::string body) = 0;
};

// Lambda's limit on a synchronous invocation's response: a bigger one fails the invocation with
// Function.ResponseSizeTooLarge.
inline constexpr std::size_t max_response_bytes = 6291556;

// One process's Runtime API endpoint: listening from creation, closed (and every pending
// /next dropped) when destroyed.
class runtime_api_server {
 public:
  virtual ~runtime_api_server() = default;
  virtual std::uint16_t port() const = 0;
};

// Opens a Runtime API endpoint on 127.0.0.1 (a free port) for BACKEND.
using runtime_api_opener =
    std::function<result<std::unique_ptr<runtime_api_server>>(std::shared_ptr<runtime_api_backend> backend)>;

}  // namespace apigw::emulator::functions
