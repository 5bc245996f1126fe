#include "tests/support/recorder.hpp"

#include <stdexcept>

namespace apigw::test_support {

void recorder::set_reply(reply r) {
  std::lock_guard lock(mutex_);
  reply_ = std::move(r);
}

apigw::handler_result recorder::invoke(const rapidjson::Value& event,
                                        apigw::invocation_context& context) {
  reply r;
  {
    std::lock_guard lock(mutex_);
    events_.emplace_back(to_json(event));
    r = reply_;
  }
  changed_.notify_all();
  if (r.throw_message) throw std::runtime_error(*r.throw_message);
  if (r.post_to_self && context.has_connections()) {
    const auto& id = event["requestContext"]["connectionId"];
    context.connections().post_to_connection(std::string_view(id.GetString(), id.GetStringLength()),
                                             *r.post_to_self);
  }
  apigw::handler_result result;
  result.status_code = r.status_code;
  result.body = r.body;
  result.headers = r.headers;
  result.is_base64_encoded = r.is_base64_encoded;
  return result;
}

std::vector<json_doc> recorder::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<json_doc> recorder::events(std::string_view event_type) const {
  std::lock_guard lock(mutex_);
  std::vector<json_doc> out;
  for (const auto& e : events_) {
    if (e.str("requestContext.eventType") == event_type) out.push_back(e);
  }
  return out;
}

std::size_t recorder::count_locked(std::string_view event_type) const {
  if (event_type.empty()) return events_.size();
  std::size_t n = 0;
  for (const auto& e : events_) {
    if (e.str("requestContext.eventType") == event_type) ++n;
  }
  return n;
}

bool recorder::wait_for(std::size_t count, std::chrono::milliseconds timeout,
                        std::string_view event_type) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return count_locked(event_type) >= count; });
}

std::optional<json_doc> recorder::wait_for_disconnect(std::string_view connection_id,
                                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  std::optional<json_doc> found;
  changed_.wait_for(lock, timeout, [&] {
    for (const auto& e : events_) {
      if (e.str("requestContext.eventType") == "DISCONNECT" &&
          e.str("requestContext.connectionId") == connection_id) {
        found = e;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace apigw::test_support
