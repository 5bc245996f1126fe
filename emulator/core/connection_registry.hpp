// Connection id -> live connection, for the management API, shutdown and fan-out.
// Thread-safety: all members are safe from any thread. Callers copy out under the lock and do
// their I/O after it is released: nothing is sent while the lock is held.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/core/connection.hpp"

namespace apigw::emulator {

class connection_registry {
 public:
  void add(const std::string& id, std::weak_ptr<connection> c);
  void remove(const std::string& id);

  // The connection, or nullptr when it is unknown or already gone.
  std::shared_ptr<connection> find(std::string_view id) const;

  std::vector<std::shared_ptr<connection>> all() const;
  std::size_t size() const;

 private:
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<connection>, key_hash, std::equal_to<>> map_;
};

}  // namespace apigw::emulator
