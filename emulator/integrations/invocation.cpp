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

void log_invocation_start(apigw::invocation_log& log, std::string_view function, std::string_view request_id) {
  const std::string id(request_id);
  log.write(function, id, "", "START RequestId: " + id + " Version: $LATEST");
}

void log_invocation_end(apigw::invocation_log& log, std::string_view function, std::string_view request_id,
                        const outcome& o) {
  const std::string id(request_id);
  if (o.failed) {
    rapidjson::StringBuffer error;
    rapidjson::Writer<rapidjson::StringBuffer> w(error);
    w.StartObject();
    w.Key("errorType");
    w.String("Error");
    w.Key("errorMessage");
    w.String(o.error.c_str(), static_cast<rapidjson::SizeType>(o.error.size()));
    w.EndObject();
    log.write(function, id, "ERROR", std::string("Invoke Error \t") + error.GetString());
  }
  log.write(function, id, "", "END RequestId: " + id);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f", o.latency_ms);
  log.write(function, id, "",
            "REPORT RequestId: " + id + "\tDuration: " + duration + " ms" + (o.failed ? "\tStatus: error" : ""));
}

apigw::handler_result function_handler::invoke(const rapidjson::Value& event, apigw::invocation_context&) {
  std::promise<outcome> ended;
  auto result = ended.get_future();
  start(event, [&ended](outcome o) { ended.set_value(std::move(o)); });
  outcome o = result.get();
  if (o.failed) throw std::runtime_error(o.error);
  return std::move(o.result);
}

outcome run_in_process(const routes::route& r, const rapidjson::Value& event, std::string_view request_id,
                       apigw::invocation_log* log) {
  apigw::invocation_context context(r.connections.get(), r.tables.get(), log, r.integration, request_id);
  return run_logged(log, r.integration, request_id, [&] { return call_handler(*r.handler, event, context); });
}

}  // namespace apigw::emulator
