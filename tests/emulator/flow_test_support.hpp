// What the $connect and message flow tests share: a compiled API from JSON, fake integration
// runners and a reply sink, and the trace records read back as JSON.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "apigw/handler_registry.hpp"
#include "config/config_loader.hpp"
#include "emulator/core/flow_context.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/integration_runner.hpp"
#include "emulator/core/message_flow.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::emulator::flow_test {

// A compiled API, its trace and the flows' context, from the API's JSON text.
struct api_fixture {
  explicit api_fixture(const std::string& json) : api_fixture(json, builtins()) {}
  // With the handlers of REGISTRY.
  api_fixture(const std::string& json, const apigw::handler_registry& registry)
      : spec(load(json)), gw(make(spec, registry)), trace(tracer::options{}), ctx{*gw, trace} {
    // As the server does: one bucket for handshakes, one for messages.
    if (const auto& throttling = spec.stage.throttling) {
      connect_bucket = std::make_unique<token_bucket>(throttling->rate_limit, throttling->burst_limit);
      message_bucket = std::make_unique<token_bucket>(throttling->rate_limit, throttling->burst_limit);
      ctx.connect_throttle = connect_bucket.get();
      ctx.message_throttle = message_bucket.get();
    }
  }

  static config::api_spec load(const std::string& json) {
    auto loaded = config::load_text(json, "t.json");
    if (!loaded) throw std::runtime_error(loaded.error());
    return *std::move(loaded);
  }
  static const apigw::handler_registry& builtins() {
    static const auto registry = apigw::handler_registry::with_builtins();
    return registry;
  }
  static std::unique_ptr<gateway> make(const config::api_spec& spec, const apigw::handler_registry& registry) {
    auto made = gateway::create(spec, registry);
    if (!made) throw std::runtime_error(made.error());
    return std::move(*made);
  }

  // The last trace record, parsed.
  rapidjson::Document last_record() const {
    const auto records = trace.last(1);
    rapidjson::Document d;
    if (!records.empty()) d.Parse(records.back().c_str());
    return d;
  }
  std::size_t records() const { return trace.last(1000).size(); }

  config::api_spec spec;
  std::unique_ptr<gateway> gw;
  tracer trace;
  std::unique_ptr<token_bucket> connect_bucket;
  std::unique_ptr<token_bucket> message_bucket;
  flow_context ctx;
};

// Starts CALL inline and finishes it as a runner does: finish(false) once it completed; a call
// that has not completed when start() returns is treated as timed out (the flows' calls always
// complete).
inline void run_now(integration_call& call) {
  struct flag final : completion::target {
    void completed() override { set = true; }
    bool set = false;
  };
  auto completed = std::make_shared<flag>();
  call.start(completion(completed));
  call.finish(!completed->set);
}

// Runs every call inline and counts them.
class counting_runner final : public integration_runner {
 public:
  void run(bool, std::shared_ptr<integration_call> call) override {
    ++calls;
    run_now(*call);
  }
  void run_here(integration_call& call) override {
    ++calls;
    ++calls_in_place;
    run_now(call);
  }
  int calls = 0;
  int calls_in_place = 0;  // of them, calls run in place
};

// Every call times out: the work never runs.
class timing_out_runner final : public integration_runner {
 public:
  void run(bool, std::shared_ptr<integration_call> call) override { call->finish(true); }
  void run_here(integration_call& call) override { call.finish(true); }
};

// Keeps the shared calls until the test settles them, as a worker pool would later; a call in
// place cannot wait, and runs at once.
class deferred_runner final : public integration_runner {
 public:
  void run(bool, std::shared_ptr<integration_call> call) override { pending.push_back(std::move(call)); }
  void run_here(integration_call& call) override { run_now(call); }
  void settle_all() {
    auto calls = std::move(pending);
    for (auto& call : calls) run_now(*call);
  }
  std::vector<std::shared_ptr<integration_call>> pending;
};

struct collecting_sink final : reply_sink {
  struct frame {
    std::string data;
    bool binary = false;
  };
  void deliver(std::string data, bool binary) override { frames.push_back({std::move(data), binary}); }
  std::vector<frame> frames;
};

inline std::string str(const rapidjson::Value& v) {
  return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string("(not a string)");
}

}  // namespace apigw::emulator::flow_test
