// A handler that records every event it receives and answers with a configurable result (or
// throws), so end-to-end tests can see $connect/$disconnect/message events and drive outcomes.
// Thread-safety: invoke() and every accessor are safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apigw/handler.hpp"
#include "tests/support/header_list.hpp"
#include "tests/support/json_doc.hpp"

namespace apigw::test_support {

class recorder final : public apigw::handler {
 public:
  // What invoke() returns; by default nothing at all (no statusCode, no body).
  struct reply {
    std::optional<int> status_code;
    std::optional<std::string> body;
    header_list headers;
    bool is_base64_encoded = false;
    std::optional<std::string> throw_message;  // set: invoke() throws std::runtime_error
    // Set: invoke() first posts this to its own connection (postToConnection), then answers.
    std::optional<std::string> post_to_self;
  };

  void set_reply(reply r);

  apigw::handler_result invoke(const rapidjson::Value& event,
                                apigw::invocation_context& context) override;
  bool may_block() const override { return false; }

  // Every event so far, in arrival order; or those whose requestContext.eventType is EVENT_TYPE.
  std::vector<json_doc> events() const;
  std::vector<json_doc> events(std::string_view event_type) const;

  // Waits until at least COUNT events (of EVENT_TYPE, when not empty) were recorded.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout,
                std::string_view event_type = "") const;

  // Waits for the DISCONNECT event of CONNECTION_ID; nullopt on timeout.
  std::optional<json_doc> wait_for_disconnect(std::string_view connection_id,
                                              std::chrono::milliseconds timeout) const;

 private:
  std::size_t count_locked(std::string_view event_type) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<json_doc> events_;
  reply reply_;
};

}  // namespace apigw::test_support
