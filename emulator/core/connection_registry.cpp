#include "emulator/core/connection_registry.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace apigw::emulator {

std::optional<connection_registry::key> connection_registry::key_of(std::string_view id) {
  if (id.size() != kIdentifierLength) return std::nullopt;
  key k;
  std::copy(id.begin(), id.end(), k.begin());
  return k;
}

void connection_registry::add(std::string_view id, std::weak_ptr<connection> c) {
  const auto k = key_of(id);
  if (!k) {
    throw std::invalid_argument("connection_registry: \"" + std::string(id) + "\" is not a connection id (" +
                                std::to_string(kIdentifierLength) + " characters)");
  }
  std::lock_guard lock(mutex_);
  map_.insert_or_assign(*k, std::move(c));
}

void connection_registry::remove(std::string_view id) {
  const auto k = key_of(id);
  if (!k) return;
  std::lock_guard lock(mutex_);
  map_.erase(*k);
}

std::shared_ptr<connection> connection_registry::find(std::string_view id) const {
  const auto k = key_of(id);
  if (!k) return nullptr;
  std::lock_guard lock(mutex_);
  auto it = map_.find(*k);
  return it == map_.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<connection>> connection_registry::all() const {
  std::vector<std::shared_ptr<connection>> out;
  std::lock_guard lock(mutex_);
  out.reserve(map_.size());
  for (const auto& [id, weak] : map_) {
    if (auto c = weak.lock()) out.push_back(std::move(c));
  }
  return out;
}

std::size_t connection_registry::size() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

}  // namespace apigw::emulator
