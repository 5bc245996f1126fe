// The one seam through which the flows run integrations and authorizers. The network room
// implements it (emulator/net/websocket_session.cpp): a call that cannot block runs inline on the
// connection's I/O thread; one that may block goes to the worker pool, raced by the integration
// timeout. An integration whose answer comes from another process can complete later from any
// thread the same way, without a thread blocked per pending call. Tests fake it.
// Thread-safety: one runner serves one connection; its calls come from that connection's I/O thread.
#pragma once

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "emulator/auth/connection_info.hpp"
#include "emulator/core/call_memory.hpp"

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
  // The message body, or the disconnect reason (keep_text()): in text_buffer when it fits with
  // the NUL that follows it, else in text_storage. A call in place views the session's read
  // buffer instead, which ends the message with a NUL too: the event's values refer to the text,
  // and a handler may read them as C strings, as RapidJSON's strings are.
  std::string_view text;
  header_list headers;   // the handshake's, for $connect and the authorizer
  void keep_text(std::string_view t) {
    if (t.size() >= sizeof text_buffer) {
      text_storage.assign(t);
      text = text_storage;
      return;
    }
    if (!t.empty()) std::memcpy(text_buffer, t.data(), t.size());
    text_buffer[t.size()] = '\0';
    text = std::string_view(text_buffer, t.size());
  }
  void keep_text(std::string&& t) {
    if (t.size() < sizeof text_buffer) return keep_text(std::string_view(t));
    text_storage = std::move(t);
    text = text_storage;
  }
  char text_buffer[256];
  std::string text_storage;
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

// Says that a call's work is finished: called once, from any thread, at any time. A runner
// gives it a target of its own; copies share it.
class completion {
 public:
  struct target {
    virtual ~target() = default;
    virtual void completed() = 0;
  };
  completion() = default;
  explicit completion(std::shared_ptr<target> t) : target_(std::move(t)) {}
  void operator()() const {
    if (target_) target_->completed();
  }

 private:
  std::shared_ptr<target> target_;
};

// One integration or authorizer call as a flow hands it to the runner: the work that starts it
// and what follows once it is over, in one object (make_call() makes one).
//
// A call can be its own completion's target, so that a runner needs no record of its own for a
// call that completes while it starts (an in-process handler): the runner starts it with
// completion(call), asks has_completed() afterwards, and only for a call still going hands it a
// waiter, which gets completed() when the call does.
class integration_call : public completion::target {
 public:
  // Starts the call, which keeps its result itself and calls COMPLETE once it has it.
  virtual void start(completion complete) = 0;
  // The call is over: FALSE once it completed, TRUE when the integration timeout came first
  // (what the work produces afterwards must then be ignored). Once, on the connection's I/O thread.
  virtual void finish(bool timed_out) = 0;

  // The call's completion, when the call is its target: from any thread, once (more are ignored).
  void completed() final {
    if (state_.exchange(kCompleted, std::memory_order_acq_rel) != kWaited) return;
    if (auto waiter = waiter_.lock()) waiter->completed();
  }
  // Whether the call's completion came, when the call is its completion's target.
  bool has_completed() const { return state_.load(std::memory_order_acquire) == kCompleted; }
  // WAITER gets completed() once the call completes, from the thread that completes it, if it is
  // still alive then: the call holds it weakly (a runner's record of the call holds the call, and
  // the runner keeps the record alive while it waits). FALSE when the call has completed already:
  // then WAITER is not called. REQUIRES: called once.
  bool wait_with(std::weak_ptr<completion::target> waiter) {
    waiter_ = std::move(waiter);
    int going = kGoing;
    return state_.compare_exchange_strong(going, kWaited, std::memory_order_acq_rel);
  }

 private:
  static constexpr int kGoing = 0, kWaited = 1, kCompleted = 2;
  std::atomic<int> state_{kGoing};
  // Set before state_ becomes kWaited, read only after: the atomic orders the two.
  std::weak_ptr<completion::target> waiter_;
};

// A call and its STATE in one allocation, a block of call_memory: the state (an
// invocation_with<Result>, and whatever the flow keeps with it) is filled through state() before
// the runner starts the call. Its start is WORK(std::shared_ptr<State>, completion): the work
// shares the state, for a handler that may still read its event after the call is over. Its
// finish is DONE(State&, bool timed_out).
template <class State, class Work, class Done>
class stateful_call final : public integration_call,
                            public std::enable_shared_from_this<stateful_call<State, Work, Done>> {
 public:
  stateful_call(Work work, Done done) : work_(std::move(work)), done_(std::move(done)) {}
  State& state() { return state_; }
  void start(completion complete) override {
    work_(std::shared_ptr<State>(this->shared_from_this(), &state_), std::move(complete));
  }
  void finish(bool timed_out) override { done_(state_, timed_out); }

 private:
  State state_;
  Work work_;
  Done done_;
};

template <class State, class Work, class Done>
std::shared_ptr<stateful_call<State, Work, Done>> make_call(Work work, Done done) {
  using call = stateful_call<State, Work, Done>;
  return std::allocate_shared<call>(call_memory::allocator<call>(), std::move(work), std::move(done));
}

// A call and its STATE where the flow makes it (on its stack), for a call that is over before
// its start returns: an in-process handler that cannot block. Nothing shares it, and nothing can
// read it once integration_runner::run_here() has returned. Its start is WORK(State*, completion);
// its finish DONE(State&, bool timed_out), as stateful_call's.
template <class State, class Work, class Done>
class call_in_place final : public integration_call {
 public:
  call_in_place(Work work, Done done) : work_(std::move(work)), done_(std::move(done)) {}
  State& state() { return state_; }
  void start(completion complete) override { work_(&state_, std::move(complete)); }
  void finish(bool timed_out) override { done_(state_, timed_out); }

 private:
  State state_;
  Work work_;
  Done done_;
};

class integration_runner {
 public:
  virtual ~integration_runner() = default;

  // Starts CALL, which keeps its result itself and completes when it has it: before start()
  // returns (a handler in this process), or later from any thread (an answer from another
  // process; no thread waits for it meanwhile). CALL starts right away, inline, unless MAY_BLOCK;
  // then on a worker thread. Its finish() is called exactly once, on the connection's I/O thread:
  // with false once it completed, with true when the integration timeout came first.
  virtual void run(bool may_block, std::shared_ptr<integration_call> call) = 0;

  // Runs CALL, whose work completes before its start returns (an in-process handler that cannot
  // block: a call_in_place), here and now: CALL is started and finished, with false, before
  // run_here() returns, or only finished, with true, when the runner times every call out. CALL
  // stays the caller's; the runner keeps nothing of it.
  virtual void run_here(integration_call& call) = 0;
};

}  // namespace apigw::emulator
