// The emulator's own endpoints under /@emulator/ (not part of the emulated API): health, the live
// connections, the route table, the route decision for a message and the tables' items, for the
// chat page, the dashboard and scripts.
// Thread-safety: safe from any thread; it only reads the registry and the store.
#pragma once

#include <string_view>

#include "emulator/core/connection_registry.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/http_answer.hpp"
#include "emulator/core/tracer.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

class admin_api {
 public:
  admin_api(const connection_registry& registry, const gateway& gw, const tracer& trace, store::session_store& store)
      : registry_(registry), gw_(gw), trace_(trace), store_(store) {}

  // True for "/@emulator" and everything below it.
  static bool is_admin_target(std::string_view target);

  // REQUIRES: is_admin_target(target).
  http_answer handle_http(std::string_view method, std::string_view target, std::string_view body) const;

 private:
  const connection_registry& registry_;
  const gateway& gw_;
  const tracer& trace_;
  store::session_store& store_;

  // GET /@emulator/tables and /@emulator/tables/NAME.
  http_answer tables(std::string_view rest) const;
};

}  // namespace apigw::emulator
