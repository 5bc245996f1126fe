// One WebSocket connection as the emulator records it in the store, for inspection.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace apigw::store {

struct connection_record {
  std::string id;                       // the connectionId
  std::int64_t connected_at = 0;        // epoch milliseconds, like requestContext.connectedAt
  std::int64_t last_active_at = 0;      // epoch milliseconds of the last frame either way
  std::string source_ip;
  std::string user_agent;
  std::optional<std::string> authorizer;  // the authorizer context as compact JSON, when any

  bool operator==(const connection_record&) const = default;
};

}  // namespace apigw::store
