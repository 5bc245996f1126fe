// What the gateway knows of one client connection, fixed when its handshake arrives.
// Thread-safety: immutable once built; shared read-only between the session and handlers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace apigw::emulator {

// Request headers in order, as sent.
using header_list = std::vector<std::pair<std::string, std::string>>;

struct connection_info {
  std::string id;
  std::chrono::system_clock::time_point connected_at;
  std::string source_ip;
  std::optional<std::string> user_agent;
  std::string domain_name;   // the handshake's Host, with its port
  std::uint16_t local_port = 0;
  // The handshake's query string without the '?' (the headers are kept only for $connect).
  std::string query;
};

}  // namespace apigw::emulator
