// The @connections management API: PostToConnection, GetConnection, DeleteConnection, for handlers
// in-process and, through handle_http(), for SDKs and curl on the emulator's own port.
// Thread-safety: safe from any thread; it only reads the registry and queues work on sessions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/api_config.hpp"
#include "emulator/connection_registry.hpp"
#include "emulator/http_answer.hpp"
#include "routes/connections_api.hpp"

namespace apigw::emulator {

class management_api final : public routes::connections_api {
 public:
  management_api(connection_registry& registry, const config::api_spec& api);

  routes::management_result post_to_connection(std::string_view connection_id, std::string_view data) override;
  routes::management_result get_connection(std::string_view connection_id,
                                           routes::connection_description* out) override;
  routes::management_result delete_connection(std::string_view connection_id) override;

  // True when TARGET's path is a management path ("/@connections/…", "/STAGE/@connections/…",
  // with "@" possibly sent as "%40").
  static bool is_management_target(std::string_view target);

  // REQUIRES: is_management_target(target).
  http_answer handle_http(std::string_view method, std::string_view target, std::string_view body);

 private:
  connection_registry& registry_;
  const std::string stage_;
  const std::size_t max_data_bytes_;
};

}  // namespace apigw::emulator
