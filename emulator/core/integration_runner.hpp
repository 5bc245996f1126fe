// The one seam through which the flows run integrations and authorizers. The network room
// implements it (emulator/net/strand_runner.hpp): a call that cannot block runs inline on the
// connection's strand; one that may block goes to the worker pool, raced by the integration
// timeout. An integration whose answer comes from another process can complete later from any
// thread the same way, without a thread blocked per pending call. Tests fake it.
// Thread-safety: one runner serves one connection; its calls come from that connection's strand.
#pragma once

#include <functional>
#include <string>

#include <rapidjson/document.h>

#include "emulator/auth/connection_info.hpp"

namespace apigw::emulator {

// One integration call: the event and everything it refers to, kept together while a handler
// may still be reading it (possibly on a worker thread, possibly after the call timed out).
struct invocation {
  invocation() : pool(pool_buffer, sizeof pool_buffer), event(&pool) {}
  invocation(const invocation&) = delete;
  invocation& operator=(const invocation&) = delete;

  request_ids ids;
  std::string text;      // the message body, or the disconnect reason
  header_list headers;   // the handshake's, for $connect and the authorizer
  // Events are small: the first 2 KiB of the document come from this buffer, not the heap.
  char pool_buffer[2048];
  rapidjson::MemoryPoolAllocator<> pool;
  rapidjson::Document event;
};

class integration_runner {
 public:
  virtual ~integration_runner() = default;

  // Runs WORK, which calls one integration or authorizer and keeps its result itself. When
  // MAY_BLOCK is false WORK runs right away, inline; otherwise it runs elsewhere, raced by the
  // integration timeout. DONE is called exactly once, on the connection's strand: with false
  // once WORK returned, with true when the timeout came first (WORK may still be running then,
  // and what it produces must be ignored).
  virtual void run(bool may_block, std::function<void()> work, std::function<void(bool timed_out)> done) = 0;
};

// Runs every call inline and never times out: for tools and tests that have no strand.
class inline_runner final : public integration_runner {
 public:
  void run(bool, std::function<void()> work, std::function<void(bool)> done) override {
    work();
    done(false);
  }
};

}  // namespace apigw::emulator
