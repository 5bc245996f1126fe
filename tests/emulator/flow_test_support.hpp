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
  explicit api_fixture(const std::string& json)
      : spec(load(json)), gw(make(spec)), trace(tracer::options{}), ctx{*gw, trace} {
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
  static std::unique_ptr<gateway> make(const config::api_spec& spec) {
    static const auto registry = apigw::handler_registry::with_builtins();
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

// Runs WORK inline and settles as a runner does: done(false) once it completed; a work that
// has not completed when it returns is treated as timed out (the flows' work always completes).
inline void run_now(integration_runner::work_fn& work, integration_runner::done_fn& done) {
  bool completed = false;
  work([&completed] { completed = true; });
  done(!completed);
}

// Runs every call inline and counts them.
class counting_runner final : public integration_runner {
 public:
  void run(bool, work_fn work, done_fn done) override {
    ++calls;
    run_now(work, done);
  }
  int calls = 0;
};

// Every call times out: the work never runs.
class timing_out_runner final : public integration_runner {
 public:
  void run(bool, work_fn, done_fn done) override { done(true); }
};

// Keeps the calls until the test settles them, as a worker pool would later.
class deferred_runner final : public integration_runner {
 public:
  void run(bool, work_fn work, done_fn done) override { pending.push_back({std::move(work), std::move(done)}); }
  void settle_all() {
    auto calls = std::move(pending);
    for (auto& [work, done] : calls) run_now(work, done);
  }
  std::vector<std::pair<work_fn, done_fn>> pending;
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
