#include "routes/route_table.hpp"

#include <rapidjson/document.h>

namespace apigw::routes {

bool route_table::add(std::unique_ptr<route> r) {
  if (!by_key_.emplace(r->key, r.get()).second) return false;
  if (r->key == "$connect") connect_ = r.get();
  if (r->key == "$disconnect") disconnect_ = r.get();
  if (r->key == "$default") default_ = r.get();
  routes_.push_back(std::move(r));
  return true;
}

const route* route_table::find(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

selection route_table::resolve(std::string_view message) const {
  // Every message must be JSON to be routed: one that is empty or not JSON goes to $default,
  // whatever the expression (docs/route-selection.md). Typical messages parse without touching
  // the heap: RapidJSON's pools start in these stack buffers.
  char value_buffer[4096];
  char parse_buffer[1024];
  rapidjson::MemoryPoolAllocator<> value_pool(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_pool(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      body(&value_pool, sizeof parse_buffer, &parse_pool);
  // Iterative: a message nested thousands of levels deep must not exhaust the thread's stack.
  body.Parse<rapidjson::kParseIterativeFlag>(message.data(), message.size());
  selection out;
  out.chosen = default_;
  if (message.empty() || body.HasParseError()) return out;
  out.json = true;
  out.key = expression_.evaluate(&body);
  // "$connect" and "$disconnect" are lifecycle routes: a message never selects them.
  if (auto it = by_key_.find(out.key);
      it != by_key_.end() && it->second != connect_ && it->second != disconnect_) {
    out.chosen = it->second;
  }
  return out;
}

}  // namespace apigw::routes
