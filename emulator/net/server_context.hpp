// What every session of one server shares: the gateway, the registry, the worker pool for
// blocking handlers, the stage's throttling buckets, and the count of live WebSocket sessions
// that shutdown waits on.
// Thread-safety: the members are themselves thread-safe or immutable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "emulator/core/admin_api.hpp"
#include "emulator/core/connection_registry.hpp"
#include "emulator/core/flow_context.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/dynamodb_api.hpp"
#include "emulator/core/management_api.hpp"
#include "emulator/auth/throttle.hpp"
#include "emulator/core/tracer.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

struct server_context {
  server_context(boost::asio::io_context& io, const gateway& g, connection_registry& r,
                 management_api& m, store::session_store& s, tracer& t, unsigned worker_threads)
      : ioc(io), gw(g), limits(g.api().limits), stage_path("/" + g.api().stage.name), registry(r),
        store(s), trace(t), workers(worker_threads), management(m), admin(r, g, t, s), flows{g, t} {
    if (const auto& throttling = g.api().stage.throttling) {
      connect_throttle = std::make_unique<token_bucket>(throttling->rate_limit, throttling->burst_limit);
      message_throttle = std::make_unique<token_bucket>(throttling->rate_limit, throttling->burst_limit);
    }
    flows.connect_throttle = connect_throttle.get();
    flows.message_throttle = message_throttle.get();
    flows.stopping = &stopping;
  }

  boost::asio::io_context& ioc;  // the listener's, the runtime API's; the first I/O thread's
  // One io_context per I/O thread (ioc first): a new connection is served by the next in turn.
  std::vector<boost::asio::io_context*> io_contexts;
  boost::asio::io_context::executor_type next_connection_executor() {
    if (io_contexts.empty()) return ioc.get_executor();
    return io_contexts[next_context_.fetch_add(1, std::memory_order_relaxed) % io_contexts.size()]->get_executor();
  }
  const gateway& gw;
  const config::limits& limits;
  const std::string stage_path;
  connection_registry& registry;
  store::session_store& store;
  tracer& trace;
  // Handlers that may block run here, so that a slow one never stalls the I/O threads.
  boost::asio::thread_pool workers;
  std::atomic<bool> stopping{false};
  management_api& management;
  dynamodb_api* dynamodb = nullptr;  // DynamoDB's protocol on this port; null: not served
  admin_api admin;
  bool admin_enabled = true;
  // Stage throttling ("stage.throttling"): one bucket for handshakes, one for messages; null
  // when the stage sets none, so that sessions then pay one pointer test.
  std::unique_ptr<token_bucket> connect_throttle;
  std::unique_ptr<token_bucket> message_throttle;
  // What the $connect and message flows of every session share.
  flow_context flows;

  void session_started() {
    std::lock_guard lock(live_mutex_);
    ++live_;
  }
  void session_ended() {
    std::lock_guard lock(live_mutex_);
    if (--live_ == 0) live_cv_.notify_all();
  }
  // Waits until no session is left or TIMEOUT passes; true when none is left.
  template <class Duration>
  bool wait_for_sessions(Duration timeout) {
    std::unique_lock lock(live_mutex_);
    return live_cv_.wait_for(lock, timeout, [this] { return live_ == 0; });
  }

 private:
  std::atomic<std::size_t> next_context_{0};
  std::mutex live_mutex_;
  std::condition_variable live_cv_;
  std::size_t live_ = 0;
};

}  // namespace apigw::emulator
