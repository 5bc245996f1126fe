// Running one integration as Lambda runs a function: the handler is called with the event, what
// it throws is caught, and the function's log stream gets the lines Lambda writes (START, the
// error, END, REPORT with the duration).
// Thread-safety: free functions; the log must be thread-safe (invocation_log is).
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "apigw/handler.hpp"
#include "routes/route_table.hpp"

namespace apigw::emulator {

// How a Lambda function's invocation went (emulator/functions), for the trace and the dashboard.
struct function_report {
  std::string request_id;   // Lambda's own (context.awsRequestId), in the function's log lines
  bool cold = false;        // a new process ran it
  double init_ms = 0;       // cold: its initialization
  std::string error_type;   // "Runtime.ExitError", "Sandbox.Timedout", "TypeError", ...; empty: none
};

// What an integration did.
struct outcome {
  bool failed = false;        // threw or returned something unusable
  std::string error;          // the exception's message, for logs
  apigw::handler_result result;
  double latency_ms = 0;      // how long the handler took
  std::optional<function_report> function;  // when a Lambda function's process ran it
};

// A handler whose answer comes from a Lambda function's process: start() hands the event over
// and returns; the outcome (with how the invocation went) comes later, from another thread, and
// no thread waits for it meanwhile. may_block() is false because the flows call start(), which
// does not wait; invoke() does wait, and must not be called from a network thread.
class function_handler : public apigw::handler {
 public:
  using done_fn = std::function<void(outcome)>;
  // Starts one invocation with EVENT (read before start() returns); DONE gets its outcome once,
  // from any thread (before start() returns when the function cannot run at all).
  virtual void start(const rapidjson::Value& event, done_fn done) = 0;

  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override;
  bool may_block() const override { return false; }
};

// Runs CALL; what it throws becomes a failed outcome with the exception's message, as Lambda
// reports a function's error. Writes no log.
template <class Call>
outcome guarded(Call&& call) {
  outcome o;
  try {
    call(o);
  } catch (const std::exception& e) {
    o.failed = true;
    o.error = e.what();
  } catch (...) {
    o.failed = true;
    o.error = "unknown exception";
  }
  return o;
}

// Calls H with EVENT and CONTEXT; an exception becomes a failed outcome. Writes no log.
outcome call_handler(apigw::handler& h, const rapidjson::Value& event, apigw::invocation_context& context);

// The two halves of run_logged(): START, and the error line when O failed, END and REPORT.
void log_invocation_start(apigw::invocation_log& log, std::string_view function, std::string_view request_id);
void log_invocation_end(apigw::invocation_log& log, std::string_view function, std::string_view request_id,
                        const outcome& o);

// Runs CALL (returning an outcome) as one invocation of FUNCTION logged to LOG (may be null: then
// nothing is written): START before, then the error line when CALL's outcome failed, END and
// REPORT. Sets latency_ms.
template <class Call>
outcome run_logged(apigw::invocation_log* log, std::string_view function, std::string_view request_id,
                   Call&& call) {
  if (log) log_invocation_start(*log, function, request_id);
  const auto began = std::chrono::steady_clock::now();
  outcome o = call();
  o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  if (log) log_invocation_end(*log, function, request_id, o);
  return o;
}

// Runs route R's in-process handler on EVENT with the route's context, logged under its
// integration (START, the error, END and REPORT written by run_logged), and returns the outcome.
outcome run_in_process(const routes::route& r, const rapidjson::Value& event, std::string_view request_id,
                       apigw::invocation_log* log);

// Runs route R's integration on EVENT with the route's context, logged under its integration:
// DONE (a callable taking an outcome) gets the outcome, before start_route() returns for an
// in-process handler, later and from another thread for a function (function_handler::start; its
// pool writes its lines). A template so that the in-process path, the common one, calls DONE
// without storing it anywhere.
template <class Done>
void start_route(const routes::route& r, const rapidjson::Value& event, std::string_view request_id,
                 apigw::invocation_log* log, Done&& done) {
  if (r.answers_later) {
    // A function's pool writes its own START, END and REPORT lines.
    static_cast<function_handler*>(r.handler.get())->start(event, [began = std::chrono::steady_clock::now(), done = std::forward<Done>(done)](outcome o) mutable {
      o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
      done(std::move(o));
    });
    return;
  }
  done(run_in_process(r, event, request_id, log));
}

}  // namespace apigw::emulator
