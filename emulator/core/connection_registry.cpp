#include "emulator/core/connection_registry.hpp"

namespace apigw::emulator {

void connection_registry::add(const std::string& id, std::weak_ptr<connection> c) {
  std::lock_guard lock(mutex_);
  map_.insert_or_assign(id, std::move(c));
}

void connection_registry::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  map_.erase(id);
}

std::shared_ptr<connection> connection_registry::find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = map_.find(id);
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
