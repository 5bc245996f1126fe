// The emulator's own endpoints under /@emulator/ (not part of the emulated API): health, the live
// connections, the route table and the route decision for a message, for the chat page and scripts.
// Thread-safety: safe from any thread; it only reads the registry.
#pragma once

#include <string_view>

#include "emulator/core/connection_registry.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/http_answer.hpp"
#include "emulator/core/tracer.hpp"

namespace apigw::emulator {

class admin_api {
 public:
  admin_api(const connection_registry& registry, const gateway& gw, const tracer& trace)
      : registry_(registry), gw_(gw), trace_(trace) {}

  // True for "/@emulator" and everything below it.
  static bool is_admin_target(std::string_view target);

  // REQUIRES: is_admin_target(target).
  http_answer handle_http(std::string_view method, std::string_view target, std::string_view body) const;

 private:
  const connection_registry& registry_;
  const gateway& gw_;
  const tracer& trace_;
};

}  // namespace apigw::emulator
