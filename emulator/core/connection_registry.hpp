// Connection id -> live connection, for the management API, shutdown and fan-out.
// Thread-safety: all members are safe from any thread. Callers copy out under the lock and do
// their I/O after it is released: nothing is sent while the lock is held.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/core/connection.hpp"
#include "emulator/core/identifiers.hpp"

namespace apigw::emulator {

class connection_registry {
 public:
  // REQUIRES: ID is a connection id (new_identifier(): kIdentifierLength characters); another
  // throws std::invalid_argument.
  void add(std::string_view id, std::weak_ptr<connection> c);
  void remove(std::string_view id);

  // The connection, or nullptr when it is unknown or already gone.
  std::shared_ptr<connection> find(std::string_view id) const;

  std::vector<std::shared_ptr<connection>> all() const;
  std::size_t size() const;

 private:
  // The id in the map's node itself, not in a string of its own: an idle connection costs a
  // 48-byte node instead of an 80-byte one and a 32-byte string.
  using key = std::array<char, kIdentifierLength>;
  static std::optional<key> key_of(std::string_view id);
  struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
      return std::hash<std::string_view>{}(std::string_view(k.data(), k.size()));
    }
  };
  mutable std::mutex mutex_;
  std::unordered_map<key, std::weak_ptr<connection>, key_hash> map_;
};

}  // namespace apigw::emulator
