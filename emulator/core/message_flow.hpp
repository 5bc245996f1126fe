// A connection's messages and its $disconnect, without I/O. A message takes a token from the
// stage's bucket (429 frame), is routed by the route table (Forbidden frame when no route takes
// it), becomes a MESSAGE event and runs its route's integration; what goes back is the route
// response, the "Internal server error" frame or the "Endpoint request timed out" frame, byte for
// byte as AWS sends them. Every decision is written to the routing trace.
// Thread-safety: one flow per connection, driven on its connection's I/O thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "emulator/auth/connection_info.hpp"
#include "emulator/core/flow_context.hpp"
#include "emulator/core/integration_runner.hpp"

namespace apigw::emulator {

// Where a connection's replies go (the session's write queue).
class reply_sink {
 public:
  virtual ~reply_sink() = default;
  virtual void deliver(std::string data, bool binary) = 0;
};

// A flow holds nothing but references: it may be made for one call and dropped (the calls it
// starts keep a copy).
class message_flow {
 public:
  // RUNNER and SINK must outlive every call in flight (the session is both and keeps itself
  // alive while calls are pending).
  message_flow(const flow_context& ctx, integration_runner& runner, reply_sink& sink)
      : ctx_(ctx), runner_(runner), sink_(sink) {}

  // Routes one text message of connection INFO.
  // BODY is read before this returns. REQUIRES: a NUL follows it (body.data()[body.size()], as
  // after a std::string's characters): a handler that answers in place reads the event's body
  // where BODY is, and may read it as a C string.
  void on_message(const std::shared_ptr<const connection_info>& info, std::string_view body);

  // Runs $disconnect (when the API has it) for a connection that ended with CODE and REASON: what
  // the client's close frame said, as it said it (an empty reason stays empty, as on AWS), or
  // nullopt when the emulator closed without a reason of its own (then the standard name of
  // CODE); DONE once it finished or timed out.
  void on_disconnect(const std::shared_ptr<const connection_info>& info, int code,
                     std::optional<std::string> reason, std::function<void()> done);

 private:
  const flow_context& ctx_;
  integration_runner& runner_;
  reply_sink& sink_;
};

}  // namespace apigw::emulator
