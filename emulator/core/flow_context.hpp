// What the $connect and message flows of one server share: the compiled API, the routing trace,
// the stage's throttling buckets, the integration timeout and whether the server is stopping.
// Thread-safety: every member is immutable or itself thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "emulator/auth/throttle.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::emulator {

struct flow_context {
  const gateway& gw;
  tracer& trace;
  // Stage throttling ("stage.throttling"): null when the stage sets none.
  token_bucket* connect_throttle = nullptr;
  token_bucket* message_throttle = nullptr;
  // Set when shutdown began: a $connect that completes then is refused with 503.
  const std::atomic<bool>* stopping = nullptr;

  bool is_stopping() const { return stopping != nullptr && stopping->load(); }
  // The latency a timed-out integration is reported with: the whole integration timeout.
  double timeout_ms() const {
    return std::chrono::duration<double, std::milli>(gw.api().limits.integration_timeout).count();
  }
};

}  // namespace apigw::emulator
