#include "emulator/integrations/invocation.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <stdexcept>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::emulator {

outcome call_handler(apigw::handler& h, const rapidjson::Value& event, apigw::invocation_context& context) {
  return guarded([&](outcome& o) { o.result = h.invoke(event, context); });
}

namespace {

// The lines Lambda ends an invocation with: the error (when FAILURE is not null), END, REPORT.
void write_invocation_end(apigw::invocation_log& log, std::string_view function, const std::string& id,
                          double latency_ms, const char* failure) {
  if (failure != nullptr) {
    rapidjson::StringBuffer error;
    rapidjson::Writer<rapidjson::StringBuffer> w(error);
    w.StartObject();
    w.Key("errorType");
    w.String("Error");
    w.Key("errorMessage");
    w.String(failure);
    w.EndObject();
    log.write(function, id, "ERROR", std::string("Invoke Error \t") + error.GetString());
  }
  log.write(function, id, "", "END RequestId: " + id);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f", latency_ms);
  log.write(function, id, "",
            "REPORT RequestId: " + id + "\tDuration: " + duration + " ms" +
                (failure != nullptr ? "\tStatus: error" : ""));
}

}  // namespace

outcome run_logged(apigw::invocation_log* log, std::string_view function, std::string_view request_id,
                   const std::function<outcome()>& call) {
  const std::string id = log ? std::string(request_id) : std::string();
  if (log) log->write(function, id, "", "START RequestId: " + id + " Version: $LATEST");
  const auto began = std::chrono::steady_clock::now();
  outcome o = call();
  o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  if (log) write_invocation_end(*log, function, id, o.latency_ms, o.failed ? o.error.c_str() : nullptr);
  return o;
}

apigw::handler_result function_handler::invoke(const rapidjson::Value& event, apigw::invocation_context&) {
  std::promise<outcome> ended;
  auto result = ended.get_future();
  start(event, [&ended](outcome o) { ended.set_value(std::move(o)); });
  outcome o = result.get();
  if (o.failed) throw std::runtime_error(o.error);
  return std::move(o.result);
}

void start_route(const routes::route& r, const rapidjson::Value& event, std::string_view request_id,
                 apigw::invocation_log* log, std::function<void(outcome)> done) {
  if (auto* function = dynamic_cast<function_handler*>(r.handler.get())) {
    // A function's pool writes its own START, END and REPORT lines.
    function->start(event, [began = std::chrono::steady_clock::now(), done = std::move(done)](outcome o) {
      o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
      done(std::move(o));
    });
    return;
  }
  apigw::invocation_context context(r.connections.get(), r.tables.get(), log, r.integration, request_id);
  done(run_logged(log, r.integration, request_id, [&] { return call_handler(*r.handler, event, context); }));
}

}  // namespace apigw::emulator
