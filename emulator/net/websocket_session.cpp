#include "emulator/net/websocket_session.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <vector>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "emulator/core/block_cache.hpp"
#include "emulator/core/connection.hpp"
#include "emulator/net/deadline_sweep.hpp"
#include "emulator/net/frame_guard.hpp"
#include "emulator/net/read_memory.hpp"
#include "emulator/core/gateway.hpp"
#include "emulator/core/identifiers.hpp"
#include "emulator/net/server_context.hpp"
#include "emulator/core/connect_flow.hpp"
#include "emulator/core/message_flow.hpp"
#include "emulator/core/trace_record.hpp"
#include "emulator/core/write_queue.hpp"

namespace apigw::emulator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using steady = std::chrono::steady_clock;

// Close handshakes and refused handshakes that the peer does not complete in this time are cut.
constexpr auto kCloseTimeout = std::chrono::seconds(10);
// Read buffers grown by a large message are given back afterwards.
constexpr std::size_t kKeepReadBufferBytes = 16 * 1024;
// The bytes of a message read into the session itself; a longer message continues in a buffer.
constexpr std::size_t kFirstReadBytes = 256;

// The memory of a frame's write (Asio's operation around Beast's: 720 bytes in a release build)
// comes from its I/O thread's own cache of them. Asio's cache keeps two freed operations a
// thread, fewer than the writes in flight once the thread answers several connections in one
// turn of its loop, let alone a broadcast's; this one keeps up to 256, for as long as the thread
// runs: at most 256 KiB.
using write_memory = block_cache<struct write_memory_tag, 1024, 256>;

// An address as text: IPv4's dotted quad without the C library's inet_ntop (which formats it
// through sprintf), IPv6 as Asio writes it.
std::string address_text(const net::ip::address& a) {
  if (!a.is_v4()) return a.to_string();
  const auto bytes = a.to_v4().to_bytes();
  char text[16];  // "255.255.255.255": each number has room for three digits
  char* end = std::to_chars(text, text + 3, bytes[0]).ptr;
  for (std::size_t i = 1; i < bytes.size(); ++i) {
    *end++ = '.';
    end = std::to_chars(end, end + 3, bytes[i]).ptr;
  }
  return std::string(text, end);
}

class inbox;

// The session only does I/O: the $connect flow and the message flow (emulator/core/) decide; the
// session is their integration runner (inline on its I/O thread, or on the worker pool raced by the
// integration timeout) and their reply sink (its write queue).
class websocket_session final : public connection,
                                public integration_runner,
                                public reply_sink,
                                public deadline_sweep::member,
                                public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(connection_socket&& socket, server_context& ctx)
      : ws_(std::move(socket)), ctx_(ctx) {
    ctx_.session_started();
  }
  ~websocket_session() override { end_of_work(); }

  // Takes the upgrade request: $connect's flow decides, then the 101 or the refusal goes out.
  void start(http::request<http::string_body> req);

  const connection_info& info() const override { return *info_; }
  bool is_open() const override {
    return open_.load(std::memory_order_acquire) && !close_requested_.load(std::memory_order_acquire);
  }

  std::chrono::system_clock::time_point last_active() const override {
    return info_->connected_at +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(last_activity() - started_at_);
  }

  // On the connection's own thread (a handler running inline, or a management call served there)
  // the frame is queued at once; from another thread it goes through that thread's inbox.
  void send(std::string data, bool binary) override;

  void close(int code, std::string reason) override {
    close_requested_.store(true, std::memory_order_release);
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->start_close(code, std::move(reason));
    });
  }

 private:
  // integration_runner: cheap calls run right here, on the connection's thread; the others go to
  // the worker pool, raced by the integration timeout. Whichever settles first wins; a late result
  // is dropped, as AWS drops it.
  void run(bool may_block, std::shared_ptr<integration_call> call) override;
  void run_here(integration_call& call) override;
  // reply_sink: what the message flow sends back.
  void deliver(std::string data, bool binary) override { enqueue(std::move(data), binary); }

  // The upgrade request is held by the operations that need it, not by the session: an open
  // connection does not keep it.
  using upgrade_request = std::shared_ptr<const http::request<http::string_body>>;
  void on_connect_result(connect_result r, upgrade_request req);
  void refuse(int status, unsigned http_version);
  // VALID: the request is a WebSocket handshake Beast will accept (else Beast answers it with
  // its own error, and the connection never opens).
  void accept(upgrade_request req, std::optional<std::string> subprotocol, bool valid = true);
  // OPENED_AT: when the connection opened, from which its maximum duration counts.
  void on_accept(beast::error_code ec, steady::time_point opened_at);
  // The time Beast gives a close handshake (none: no timer of the stream's own).
  void set_close_timeout(steady::duration timeout);
  void record_connection();
  void do_read();
  void on_first_read(beast::error_code ec, std::size_t n);
  void on_rest_read(beast::error_code ec);
  void on_read_failed(beast::error_code ec);
  // A whole message was read: N payload bytes, BODY.
  void on_message_read(std::size_t n, std::string_view body);
  void enqueue(std::string data, bool binary);
  void start_close(int code, std::string reason);
  void do_write();
  void on_write(beast::error_code ec, std::size_t n);
  // deadline_sweep::member: the idle timeout and the maximum duration of an open connection, or
  // the end of a close or a refusal the client does not complete.
  steady::time_point deadline() const override;
  void expired(steady::time_point now) override;
  // Into this I/O thread's sweep, ticking at least a tenth of TIMEOUT apart.
  void watch_deadline(steady::duration timeout) { deadline_sweep::of(ws_.get_executor()).add(*this, timeout); }
  // The transport is cut TIMEOUT from now unless the session has finished by then.
  void cut_after(steady::duration timeout);
  // REASON: what the client sent (possibly empty); nullopt when the emulator closed without one
  // (then $disconnect gets the standard name of CODE).
  void finish(int code, std::optional<std::string> reason);
  // $disconnect, once no integration call of the connection is in flight.
  void disconnect(int code, std::optional<std::string> reason);
  // A call run() started was settled (on the connection's thread).
  void call_settled();
  friend struct pending_call;
  friend class inbox;
  // Shutdown waits for sessions until this: after $disconnect, not for a late handler's result.
  void end_of_work() {
    if (!ended_) ctx_.session_ended();
    ended_ = true;
  }
  // The connection's message flow: it holds nothing of its own, so it is made when used.
  message_flow messages() { return message_flow(ctx_.flows, *this, *this); }
  std::pair<int, std::optional<std::string>> close_status(beast::error_code ec) const;
  // The reason of a close the emulator started: its own, or nullopt for the standard name.
  std::optional<std::string> emulator_reason() const {
    if (!ending_ || ending_->close_reason.empty()) return std::nullopt;
    return ending_->close_reason;
  }
  void touch(steady::time_point t) { last_activity_.store(t.time_since_epoch().count(), std::memory_order_relaxed); }
  steady::time_point last_activity() const {
    return steady::time_point(steady::duration(last_activity_.load(std::memory_order_relaxed)));
  }

  // On the socket itself: the WebSocket stream and the deadline sweep time everything a session
  // waits for, so the timers of Beast's basic_stream would only cost every read and write.
  websocket::stream<frame_guard<connection_socket>> ws_;
  server_context& ctx_;
  std::shared_ptr<const connection_info> info_;
  // Every message starts in first_; the rest of a longer one follows into long_, made by the
  // first such message. An idle connection's pending read so holds no buffer of its own (a read
  // into a dynamic buffer keeps 1,536 bytes prepared in it while it waits).
  std::array<char, kFirstReadBytes + 1> first_;  // and the NUL that ends a message read whole
  read_memory read_memory_;  // the operation of the read into first_
  std::unique_ptr<beast::flat_buffer> long_;
  // Frames waiting to go out, with the 16 MiB cap; made by the first frame to go out, so that a
  // connection that never gets one does not carry it.
  std::unique_ptr<write_queue> queue_;
  write_queue& queue() {
    if (!queue_) queue_ = std::make_unique<write_queue>();
    return *queue_;
  }
  bool queue_empty() const { return !queue_ || queue_->empty(); }
  steady::time_point started_at_;  // when the handshake arrived (connection_info::connected_at)
  // While the connection is open, when its maximum duration ends; while the 101 goes out, and
  // once a close or a refusal is under way (cutting_), when the transport is cut if the client
  // has not taken it.
  steady::time_point limit_at_ = steady::time_point::max();
  // Written on the connection's thread, read by GetConnection from any thread.
  std::atomic<steady::rep> last_activity_{0};
  std::atomic<bool> open_{false};
  std::atomic<bool> close_requested_{false};
  // The inbox of the connection's thread, once another thread sent a frame (send()).
  std::atomic<inbox*> inbox_{nullptr};
  bool accepted_ = false;    // the 101 went out: frames may be written
  bool writing_ = false;
  bool closing_ = false;      // a close frame is queued or sent; nothing more goes out
  bool finished_ = false;
  bool ended_ = false;
  bool cutting_ = false;      // limit_at_ is the cut of a handshake, a close or a refusal
  // Integration calls started and not yet settled; $disconnect waits for them, so that it is the
  // connection's last event (the trace and the function logs read in order).
  std::uint32_t in_flight_ = 0;
  int close_code_ = 0;        // set when the gateway closed the connection
  // What only a refused or closing connection needs, made when that starts.
  struct ending_state {
    http::response<http::empty_body> refusal;
    std::string close_reason;  // of a close the gateway started; empty for the standard name
    std::optional<std::pair<int, std::optional<std::string>>> deferred_disconnect;
  };
  std::unique_ptr<ending_state> ending_;
  ending_state& ending() {
    if (!ending_) ending_ = std::make_unique<ending_state>();
    return *ending_;
  }
};

void websocket_session::start(http::request<http::string_body> req) {
  auto& socket = beast::get_lowest_layer(ws_);
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const auto local = socket.local_endpoint(ec);

  auto info = std::make_shared<connection_info>();
  info->id = new_identifier();
  info->connected_at = std::chrono::system_clock::now();
  started_at_ = steady::now();
  info->source_ip = address_text(remote.address());
  info->local_port = local.port();
  // The fields read here, in one pass (the first of each, as find() gives it).
  const http::fields::value_type *host = nullptr, *agent = nullptr, *key = nullptr, *version = nullptr,
                                *other = nullptr;
  for (const auto& field : req) {
    const http::field name = field.name();
    auto& seen = name == http::field::host                    ? host
                 : name == http::field::user_agent            ? agent
                 : name == http::field::sec_websocket_key     ? key
                 : name == http::field::sec_websocket_version ? version
                                                              : other;
    if (seen == nullptr) seen = &field;
  }
  if (host != nullptr) {
    info->domain_name = std::string(host->value());
  } else {
    info->domain_name = address_text(local.address()) + ":" + std::to_string(local.port());
  }
  if (agent != nullptr) info->user_agent = std::string(agent->value());
  const std::string_view target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) info->query = target.substr(q + 1);
  info_ = std::move(info);
  // A request Beast will refuse anyway (no key, another protocol version) never reaches $connect.
  const bool valid = key != nullptr && !key->value().empty() && version != nullptr && version->value() == "13";
  auto upgrade = std::make_shared<const http::request<http::string_body>>(std::move(req));

  ctx_.registry.add(info_->id, weak_from_this());
  if (!valid) {
    accept(std::move(upgrade), std::nullopt, false);
    return;
  }
  handshake request;
  request.method = std::string(upgrade->method_string());
  request.target = std::string(upgrade->target());
  request.received = info_->connected_at;
  // Only authorization and a $connect integration that reads its whole event read the headers.
  if (const auto* connect = ctx_.gw.connect_route();
      connect != nullptr &&
      (connect->reads == routes::event_use::whole || ctx_.gw.authorization().authorizes_connect())) {
    for (const auto& field : *upgrade) {
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
  }
  auto flow = std::make_shared<connect_flow>(ctx_.flows, *this, info_, std::move(request));
  flow->start([self = shared_from_this(), upgrade = std::move(upgrade)](connect_result r) mutable {
    self->on_connect_result(std::move(r), std::move(upgrade));
  });
}

void websocket_session::on_connect_result(connect_result r, upgrade_request req) {
  info_ = std::move(r.info);
  if (r.status != 101) {
    ctx_.trace.record(std::move(r.record));
    refuse(r.status, req->version());
    return;
  }
  // Recorded once the connection is open, so that whoever reads the trace finds it listed.
  accept(std::move(req), std::move(r.subprotocol));
  ctx_.trace.record(std::move(r.record));
}

// An integration call of a session that did not complete while it started: settled once, on the
// session's I/O thread, by its completion or by its timeout. The timeout's wait keeps it alive
// until then (the call holds it only weakly, so that a call abandoned at shutdown, its timer
// destroyed unrun, leaves no cycle behind).
struct pending_call final : completion::target, std::enable_shared_from_this<pending_call> {
  pending_call(connection_executor s, std::shared_ptr<websocket_session> o, std::shared_ptr<integration_call> c)
      : executor(std::move(s)), owner(std::move(o)), call(std::move(c)), timer(executor) {}
  const connection_executor executor;
  std::shared_ptr<websocket_session> owner;  // kept alive until the call is settled
  std::shared_ptr<integration_call> call;    // finished when settled
  connection_timer timer;                    // the integration timeout
  bool settled = false;

  // From any thread.
  void completed() override {
    net::dispatch(executor, [self = shared_from_this()] { self->settle(false); });
  }

  // REQUIRES: on the connection's thread.
  void settle(bool timed_out) {
    if (settled) return;
    settled = true;
    timer.cancel();
    auto finished = std::move(call);
    auto session = std::move(owner);
    finished->finish(timed_out);
    session->call_settled();
  }
};

// The frames other threads send to one I/O thread's connections (a handler on the worker pool, an
// @connections call served by another I/O thread), delivered in the order they came, on the
// connection's thread. A broadcast sends one a connection: they wait in one list, and one
// operation posted to the thread takes them all, where an operation a frame cost a heap block
// (allocated on the sending thread, freed on the connection's, so no thread's cache keeps it),
// the scheduler's lock twice and a turn of the loop. One inbox per io_context, an Asio service.
// Thread-safety: put() from any thread; the rest on the io_context's thread.
class inbox final : public net::execution_context::service {
 public:
  static inline net::execution_context::id id;
  explicit inbox(net::execution_context& ctx) : service(ctx) {}

  static inbox& of(const connection_executor& executor) { return net::use_service<inbox>(executor.context()); }

  void put(std::shared_ptr<websocket_session> to, std::string data, bool binary) {
    bool first;
    {
      std::lock_guard lock(mutex_);
      first = waiting_.empty();
      waiting_.push_back({std::move(to), std::move(data), binary});
    }
    // The first letter of a batch asks for the delivery; the others join it.
    if (first) net::post(to_executor(), [this] { deliver(); });
  }

 private:
  struct letter {
    std::shared_ptr<websocket_session> to;
    std::string data;
    bool binary;
  };
  // A broadcast's list is kept for the next, up to this many letters.
  static constexpr std::size_t kKeptLetters = 1024;

  connection_executor to_executor() { return static_cast<net::io_context&>(context()).get_executor(); }

  void deliver() {
    {
      std::lock_guard lock(mutex_);
      delivering_.swap(waiting_);
    }
    for (auto& l : delivering_) l.to->enqueue(std::move(l.data), l.binary);
    delivering_.clear();
    if (delivering_.capacity() > kKeptLetters) std::vector<letter>().swap(delivering_);
  }

  // At the io_context's end: letters not delivered release their connections, as the operations
  // of a stopped io_context do.
  void shutdown() override {
    std::vector<letter> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(waiting_);
    }
    delivering_.clear();
  }

  std::mutex mutex_;
  std::vector<letter> waiting_;     // guarded by mutex_
  std::vector<letter> delivering_;  // the io_context's thread's
};

void websocket_session::send(std::string data, bool binary) {
  if (ws_.get_executor().running_in_this_thread()) {
    enqueue(std::move(data), binary);
    return;
  }
  // The thread's inbox is looked up (under the service registry's lock) by the first frame
  // another thread sends, and kept: a broadcast sends to every connection.
  // (Acquire and release: a thread that finds the pointer another stored sees the inbox it made.)
  inbox* box = inbox_.load(std::memory_order_acquire);
  if (box == nullptr) {
    box = &inbox::of(ws_.get_executor());
    inbox_.store(box, std::memory_order_release);
  }
  box->put(shared_from_this(), std::move(data), binary);
}

void websocket_session::run(bool may_block, std::shared_ptr<integration_call> call) {
  ++in_flight_;
  if (!may_block) {
    // The call is its own completion's target: one that completes while it starts (an in-process
    // handler) is finished right here, with no record of it kept.
    call->start(completion(call));
    if (call->has_completed()) {
      call->finish(false);
      call_settled();
      return;
    }
  }
  // The answer comes later (from another process, or from the worker pool): the call is raced by
  // the integration timeout.
  auto pending = std::make_shared<pending_call>(ws_.get_executor(), shared_from_this(), call);
  pending->timer.expires_after(ctx_.limits.integration_timeout);
  pending->timer.async_wait([pending](beast::error_code ec) {
    if (!ec) pending->settle(true);
  });
  if (!call->wait_with(pending)) {
    pending->settle(false);  // it completed in the meantime
    return;
  }
  if (may_block) {
    net::post(ctx_.workers, [call = std::move(call)] { call->start(completion(call)); });
  }
}

// A call in place completes while it starts: it is finished at once. It counts as in flight
// meanwhile, as any call does, so that a $disconnect its handler causes waits for its end.
void websocket_session::run_here(integration_call& call) {
  ++in_flight_;
  call.start(completion());
  call.finish(false);
  call_settled();
}

void websocket_session::refuse(int status, unsigned http_version) {
  auto& refusal = ending().refusal;
  refusal.result(static_cast<http::status>(status));
  refusal.version(http_version);
  refusal.keep_alive(false);
  refusal.content_length(0);
  // A client that does not read its refusal is cut after kCloseTimeout.
  cut_after(kCloseTimeout);
  http::async_write(beast::get_lowest_layer(ws_), refusal,
                    [self = shared_from_this()](beast::error_code, std::size_t) {
                      beast::error_code ignored;
                      beast::get_lowest_layer(self->ws_).shutdown(net::ip::tcp::socket::shutdown_send, ignored);
                      self->finish(0, std::nullopt);
                    });
}

void websocket_session::accept(upgrade_request req, std::optional<std::string> subprotocol, bool valid) {
  const auto& limits = ctx_.limits;
  // No timeout of the stream's own while the 101 goes out (the cut below), so that no handshake
  // arms and cancels the stream's timer; on_accept() sets the one for a close the client starts.
  set_close_timeout(websocket::stream_base::none());
  ws_.set_option(websocket::stream_base::decorator(
      [subprotocol = std::move(subprotocol)](websocket::response_type& res) {
        // The 101 carries what AWS's carries: a subprotocol only when $connect's integration
        // returned one, and no server banner (see below).
        if (subprotocol) res.set(http::field::sec_websocket_protocol, *subprotocol);
      }));
  // Beast adds "Server: Boost.Beast/…" after the decorator whatever it does; the layer below
  // leaves that line out of the 101.
  ws_.next_layer().drop_field_of_next_write("Server");
  ws_.read_message_max(limits.max_message_bytes);
  ws_.auto_fragment(true);
  ws_.write_buffer_bytes(limits.max_frame_bytes);
  ws_.next_layer().set_max_frame_bytes(limits.max_frame_bytes);
  // $connect succeeded: from now on the connection is reachable, as on AWS, although the 101 is
  // still on its way. What is sent meanwhile waits in the queue until the handshake is done.
  const auto opened_at = steady::now();
  if (valid) {
    touch(opened_at);
    record_connection();
    open_.store(true, std::memory_order_release);
  }
  // A client that does not take the 101 (or Beast's answer to a handshake it refuses) is cut
  // after kCloseTimeout, by the I/O thread's deadline sweep.
  cut_after(kCloseTimeout);
  // The request must outlive the operation: its handler holds it.
  const auto& request = *req;
  ws_.async_accept(request, [self = shared_from_this(), req = std::move(req), opened_at](beast::error_code ec) {
    self->on_accept(ec, opened_at);
  });
}

void websocket_session::set_close_timeout(steady::duration timeout) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
}

void websocket_session::on_accept(beast::error_code ec, steady::time_point opened_at) {
  if (ec) {
    finish(1006, std::nullopt);
    return;
  }
  accepted_ = true;
  // The handshake's cut is over (a close started meanwhile keeps its own); from now on the
  // connection's deadlines are its idle timeout and its maximum duration.
  if (!closing_) {
    cutting_ = false;
    limit_at_ = opened_at + ctx_.limits.max_connection_duration;
  }
  // A close the client starts: Beast's reply to it must go out within kCloseTimeout.
  set_close_timeout(kCloseTimeout);
  if (ctx_.stopping.load()) start_close(1001, "Going away");
  if (!writing_ && !queue_empty()) do_write();
  watch_deadline(std::min(ctx_.limits.idle_timeout, ctx_.limits.max_connection_duration));
  do_read();
}

// The connection's record in the store, for inspection (`store connections`); the live
// lastActiveAt is the session's own, answered by GetConnection.
void websocket_session::record_connection() {
  store::connection_record record;
  record.id = info_->id;
  record.connected_at = epoch_millis(info_->connected_at);
  record.last_active_at = record.connected_at;
  record.source_ip = info_->source_ip;
  record.user_agent = info_->user_agent.value_or("");
  if (const auto* grant = info_->authorizer()) {
    // As requestContext.authorizer shows it.
    rapidjson::Document doc;
    const rapidjson::Value object = authorizer_object(*grant, doc.GetAllocator());
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> w(text);
    object.Accept(w);
    record.authorizer.emplace(text.GetString(), text.GetSize());
  }
  ctx_.store.record_connection_later(std::move(record));
}

void websocket_session::do_read() {
  ws_.async_read_some(net::buffer(first_.data(), kFirstReadBytes),
                      net::bind_allocator(read_allocator<void>(read_memory_),
                                          [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                            self->on_first_read(ec, n);
                                          }));
}

void websocket_session::on_first_read(beast::error_code ec, std::size_t n) {
  if (ec) return on_read_failed(ec);
  if (ws_.is_message_done()) {
    first_[n] = '\0';
    return on_message_read(n, std::string_view(first_.data(), n));
  }
  if (!long_) long_ = std::make_unique<beast::flat_buffer>();
  long_->commit(net::buffer_copy(long_->prepare(n), net::buffer(first_.data(), n)));
  ws_.async_read(*long_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_rest_read(ec);
  });
}

void websocket_session::on_rest_read(beast::error_code ec) {
  const std::size_t n = long_->size();
  // The message is read where it is (a flat buffer's bytes are contiguous), then let go.
  if (!ec) {
    // A NUL after the message, outside its bytes: the flow's call in place views them.
    *static_cast<char*>(long_->prepare(1).data()) = '\0';
    const auto data = long_->cdata();
    on_message_read(n, std::string_view(static_cast<const char*>(data.data()), data.size()));
  }
  long_->consume(n);
  if (long_->capacity() > kKeepReadBufferBytes) long_->shrink_to_fit();
  if (ec) on_read_failed(ec);
}

void websocket_session::on_read_failed(beast::error_code ec) {
  auto [code, reason] = close_status(ec);
  finish(code, std::move(reason));
}

void websocket_session::on_message_read(std::size_t n, std::string_view body) {
  touch(steady::now());
  if (ws_.next_layer().took_oversized_message(n)) {
    start_close(1009, {});
    return;
  }
  if (ws_.got_binary()) {
    start_close(1003, {});
    return;
  }
  if (!closing_) messages().on_message(info_, body);
  do_read();
}

void websocket_session::enqueue(std::string data, bool binary) {
  if (closing_ || finished_ || !open_.load(std::memory_order_relaxed)) return;
  if (!queue().push(std::move(data), binary, writing_)) {
    start_close(1008, "Send queue full");
    return;
  }
  if (!writing_ && accepted_) do_write();
}

void websocket_session::start_close(int code, std::string reason) {
  if (closing_ || finished_ || !open_.load(std::memory_order_relaxed)) return;
  closing_ = true;
  close_requested_.store(true, std::memory_order_release);
  close_code_ = code;
  if (!reason.empty()) ending().close_reason = std::move(reason);
  queue().push_close();
  if (!writing_ && accepted_) do_write();
  // A client that never reads can hold a write (and the close frame queued behind it) forever:
  // if the close has not finished within kCloseTimeout, drop the transport. The pending read
  // then ends the session with the code chosen here.
  cut_after(kCloseTimeout);
}

void websocket_session::do_write() {
  writing_ = true;
  write_queue::frame& front = queue_->front();
  if (front.close) {
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_),
                                            ending_ ? std::string_view(ending_->close_reason) : std::string_view()),
                    [self = shared_from_this()](beast::error_code) {
                      self->finish(self->close_code_, self->emulator_reason());
                    });
    return;
  }
  ws_.text(!front.binary);
  ws_.async_write(net::buffer(front.data),
                  net::bind_allocator(write_memory::allocator<void>(),
                                      beast::bind_front_handler(&websocket_session::on_write, shared_from_this())));
}

void websocket_session::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    // The transport is gone; the pending read ends the session and reports how.
    queue_->clear();
    return;
  }
  queue_->pop_front();
  touch(steady::now());
  if (!queue_->empty()) do_write();
}

// Traffic only records the time (touch()); the sweep reads it at its ticks, so no message pays
// for a timer.
steady::time_point websocket_session::deadline() const {
  if (cutting_) return limit_at_;
  if (!accepted_ || closing_ || finished_ || !open_.load(std::memory_order_relaxed)) return steady::time_point::max();
  return std::min(last_activity() + ctx_.limits.idle_timeout, limit_at_);
}

void websocket_session::cut_after(steady::duration timeout) {
  cutting_ = true;
  limit_at_ = steady::now() + timeout;
  watch_deadline(timeout);
}

void websocket_session::expired(steady::time_point) {
  if (cutting_) {
    // The client did not complete the close or read the refusal: the transport goes, and the
    // pending operation ends the session.
    deadline_sweep::remove(*this);
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    return;
  }
  start_close(1001, "Going away");
}

std::pair<int, std::optional<std::string>> websocket_session::close_status(beast::error_code ec) const {
  if (close_code_ != 0) return {close_code_, emulator_reason()};
  if (ec == websocket::error::closed) {
    const auto& cr = ws_.reason();
    if (cr.code == static_cast<std::uint16_t>(websocket::close_code::none)) return {1005, std::string(gateway::standard_close_reason(1005))};
    const std::string reason(cr.reason.data(), cr.reason.size());
    return {cr.code, reason};
  }
  if (ec == websocket::error::message_too_big) return {1009, std::nullopt};
  if (ec == websocket::error::bad_frame_payload) return {1007, std::nullopt};
  if (ec == websocket::condition::protocol_violation) return {1002, std::nullopt};
  return {1006, std::string(gateway::standard_close_reason(1006))};
}

// The end of every session, whoever ended it: out of the registry first (so the management API
// answers Gone), then $disconnect, exactly once and only after a completed $connect.
void websocket_session::finish(int code, std::optional<std::string> reason) {
  if (finished_) return;
  finished_ = true;
  deadline_sweep::remove(*this);
  const bool was_open = open_.exchange(false);
  ctx_.registry.remove(info_->id);
  if (was_open) ctx_.store.forget_connection_later(info_->id);
  if (!was_open) return end_of_work();
  if (in_flight_ > 0) {
    ending().deferred_disconnect.emplace(code, std::move(reason));
    return;
  }
  disconnect(code, std::move(reason));
}

void websocket_session::disconnect(int code, std::optional<std::string> reason) {
  messages().on_disconnect(info_, code, std::move(reason), [self = shared_from_this()] { self->end_of_work(); });
}

void websocket_session::call_settled() {
  if (--in_flight_ > 0 || !ending_ || !ending_->deferred_disconnect) return;
  auto [code, reason] = std::move(*ending_->deferred_disconnect);
  ending_->deferred_disconnect.reset();
  disconnect(code, std::move(reason));
}

}  // namespace

void start_websocket_session(connection_socket socket, http::request<http::string_body> req,
                             server_context& ctx) {
  std::make_shared<websocket_session>(std::move(socket), ctx)->start(std::move(req));
}

}  // namespace apigw::emulator
