// The one seam through which the flows run integrations and authorizers. The network room
// implements it (emulator/net/strand_runner.hpp): a call that cannot block runs inline on the
// connection's strand; one that may block goes to the worker pool, raced by the integration
// timeout. An integration whose answer comes from another process can complete later from any
// thread the same way, without a thread blocked per pending call. Tests fake it.
// Thread-safety: one runner serves one connection; its calls come from that connection's strand.
#pragma once

#include <functional>
#include <memory>
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

  // The connection the event refers to: kept while the call may still read it (a call that
  // timed out can outlive its session).
  std::shared_ptr<const connection_info> connection;
  request_ids ids;
  std::string text;      // the message body, or the disconnect reason
  header_list headers;   // the handshake's, for $connect and the authorizer
  // Events are small: the first 2 KiB of the document come from this buffer, not the heap.
  char pool_buffer[2048];
  rapidjson::MemoryPoolAllocator<> pool;
  rapidjson::Document event;
};

// An invocation and the result its work writes: shared by the work and its completion, so that
// both live as long as either may still use them.
template <class Result>
struct invocation_with {
  invocation call;
  Result result;
};

class integration_runner {
 public:
  virtual ~integration_runner() = default;

  // Says that a call's work is finished: called once, from any thread, at any time.
  using completion = std::function<void()>;
  using work_fn = std::function<void(completion complete)>;
  using done_fn = std::function<void(bool timed_out)>;

  // Runs WORK, which starts one integration or authorizer call, keeps its result itself and
  // calls COMPLETE when it has it: before it returns (a handler in this process), or later from
  // any thread (an answer from another process; no thread waits for it meanwhile). WORK starts
  // right away, inline, unless MAY_BLOCK; then on a worker thread. DONE is called exactly once,
  // on the connection's strand: with false once COMPLETE was called, with true when the
  // integration timeout came first (what the work produces afterwards must be ignored).
  virtual void run(bool may_block, work_fn work, done_fn done) = 0;
};

}  // namespace apigw::emulator
