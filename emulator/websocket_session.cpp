#include "emulator/websocket_session.hpp"

#include <algorithm>
#include <chrono>
#include <vector>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "emulator/connection.hpp"
#include "emulator/frame_guard.hpp"
#include "emulator/gateway.hpp"
#include "emulator/identifiers.hpp"
#include "emulator/server_context.hpp"
#include "emulator/sigv4.hpp"
#include "emulator/throttle.hpp"
#include "emulator/trace_record.hpp"

namespace apigw::emulator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using steady = std::chrono::steady_clock;

// Close handshakes and refused handshakes that the peer does not complete in this time are cut.
constexpr auto kCloseTimeout = std::chrono::seconds(10);
// A client that reads slower than the gateway sends is closed once this much waits for it.
constexpr std::size_t kMaxQueuedBytes = 16 * 1024 * 1024;
// Read buffers grown by a large message are given back afterwards.
constexpr std::size_t kKeepReadBufferBytes = 16 * 1024;

// One integration call: the event and everything it refers to, kept together while a handler
// may still be reading it (possibly on a worker thread).
struct invocation {
  invocation() : pool(pool_buffer, sizeof pool_buffer), event(&pool) {}
  invocation(const invocation&) = delete;
  invocation& operator=(const invocation&) = delete;

  gateway::request_ids ids;
  std::string text;      // the message body, or the disconnect reason
  header_list headers;   // the handshake's, for $connect
  // Events are small: the first 2 KiB of the document come from this buffer, not the heap.
  char pool_buffer[2048];
  rapidjson::MemoryPoolAllocator<> pool;
  rapidjson::Document event;
};

class websocket_session final : public connection,
                                public std::enable_shared_from_this<websocket_session> {
 public:
  websocket_session(beast::tcp_stream&& stream, server_context& ctx)
      : ws_(std::move(stream)), ctx_(ctx), deadline_(ws_.get_executor()) {
    ctx_.session_started();
  }
  ~websocket_session() override { end_of_work(); }

  void run(http::request<http::string_body> req);

  const connection_info& info() const override { return *info_; }
  bool is_open() const override {
    return open_.load(std::memory_order_acquire) && !close_requested_.load(std::memory_order_acquire);
  }

  std::chrono::system_clock::time_point last_active() const override {
    return info_->connected_at +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(last_activity() - started_at_);
  }

  void send(std::string data, bool binary) override {
    net::post(ws_.get_executor(), [self = shared_from_this(), data = std::move(data), binary]() mutable {
      self->enqueue(std::move(data), binary);
    });
  }

  void close(int code, std::string reason) override {
    close_requested_.store(true, std::memory_order_release);
    net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
      self->start_close(code, std::move(reason));
    });
  }

 private:
  struct outgoing {
    std::string data;
    bool binary = false;
    bool close = false;
  };

  using done_fn = std::function<void(gateway::outcome, bool timed_out)>;

  // Runs WORK (returning an OUTCOME) on the worker pool, raced by the integration timeout: DONE
  // gets its result, or timed_out, on the strand, whichever comes first.
  template <class Outcome, class Work>
  void race_on_workers(Work work, std::function<void(Outcome, bool timed_out)> done);
  void run_integration(const gateway::route& r, std::shared_ptr<invocation> inv, done_fn done);
  // $connect's authorization (AWS_IAM or CUSTOM, then the API key), then its integration.
  void authorize_connect(std::shared_ptr<invocation> inv);
  void on_authorizer_outcome(std::shared_ptr<invocation> inv, gateway::authorization_outcome o, bool timed_out);
  void check_api_key(std::shared_ptr<invocation> inv);
  // Refuses the handshake before $connect's integration (throttled or not authorized).
  void refuse_connect(int status, std::string error, const std::string& request_id, double latency_ms = 0);
  // Runs $connect's integration with INV's ids and headers (or accepts when there is none).
  void start_connect(std::shared_ptr<invocation> inv);
  void on_connect_outcome(gateway::outcome o, bool timed_out, const std::string& request_id);
  trace_record new_record(const char* event_type, std::string request_id) const;
  // The latency a timed-out integration is reported with: the whole integration timeout.
  double timeout_ms() const {
    return std::chrono::duration<double, std::milli>(ctx_.limits.integration_timeout).count();
  }
  // Records a routing decision of route R (null: none), with the integration's outcome O.
  void trace(trace_record r, const gateway::route* route, const gateway::outcome* o, bool timed_out);
  void refuse(int status);
  // VALID: the request is a WebSocket handshake Beast will accept (else Beast answers it with
  // its own error, and the connection never opens).
  void accept(std::optional<std::string> subprotocol, bool valid = true);
  void on_accept(beast::error_code ec);
  void record_connection();
  void do_read();
  void on_read(beast::error_code ec, std::size_t n);
  void dispatch(std::string body);
  void enqueue(std::string data, bool binary);
  void start_close(int code, std::string reason);
  void do_write();
  void pop_front() {
    queue_[head_++] = {};
    if (head_ == queue_.size()) {
      head_ = 0;
      if (queue_.capacity() > 16) queue_ = {};  // give back what a burst grew
      else queue_.clear();
    } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void on_write(beast::error_code ec, std::size_t n);
  void arm_deadline();
  void on_deadline(beast::error_code ec);
  void finish(int code, std::string reason);
  // Shutdown waits for sessions until this: after $disconnect, not for a late handler's result.
  void end_of_work() {
    if (!ended_) ctx_.session_ended();
    ended_ = true;
  }
  std::pair<int, std::string> close_status(beast::error_code ec) const;
  void touch(steady::time_point t) { last_activity_.store(t.time_since_epoch().count(), std::memory_order_relaxed); }
  steady::time_point last_activity() const {
    return steady::time_point(steady::duration(last_activity_.load(std::memory_order_relaxed)));
  }

  websocket::stream<frame_guard<beast::tcp_stream>> ws_;
  server_context& ctx_;
  std::shared_ptr<const connection_info> info_;
  http::request<http::string_body> req_;
  std::unique_ptr<http::response<http::empty_body>> refusal_;
  beast::flat_buffer buffer_;
  // Frames waiting to go out, oldest at head_: a vector costs an idle connection nothing, where
  // a deque would hold a node of its own.
  std::vector<outgoing> queue_;
  std::size_t head_ = 0;
  std::size_t queued_bytes_ = 0;
  std::uint64_t delivered_ = 0;  // payload bytes of the messages read so far
  net::steady_timer deadline_;
  steady::time_point started_at_;  // when the handshake arrived (connection_info::connected_at)
  steady::time_point opened_at_;
  // Written on the strand, read by GetConnection from any thread.
  std::atomic<steady::rep> last_activity_{0};
  std::atomic<bool> open_{false};
  std::atomic<bool> close_requested_{false};
  bool accepted_ = false;    // the 101 went out: frames may be written
  bool writing_ = false;
  bool closing_ = false;      // a close frame is queued or sent; nothing more goes out
  bool finished_ = false;
  bool ended_ = false;
  int close_code_ = 0;        // set when the gateway closed the connection
  std::string close_reason_;
};

void websocket_session::run(http::request<http::string_body> req) {
  auto& socket = beast::get_lowest_layer(ws_).socket();
  beast::get_lowest_layer(ws_).expires_never();
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const auto local = socket.local_endpoint(ec);

  auto info = std::make_shared<connection_info>();
  info->id = new_identifier();
  info->connected_at = std::chrono::system_clock::now();
  started_at_ = steady::now();
  info->source_ip = remote.address().to_string();
  info->local_port = local.port();
  if (auto host = req.find(http::field::host); host != req.end()) {
    info->domain_name = std::string(host->value());
  } else {
    info->domain_name = local.address().to_string() + ":" + std::to_string(local.port());
  }
  if (auto agent = req.find(http::field::user_agent); agent != req.end()) {
    info->user_agent = std::string(agent->value());
  }
  const std::string_view target = req.target();
  if (auto q = target.find('?'); q != std::string_view::npos) info->query = target.substr(q + 1);
  info_ = std::move(info);
  req_ = std::move(req);

  // A request Beast will refuse anyway (no key, another protocol version) never reaches $connect.
  const bool valid = !req_[http::field::sec_websocket_key].empty() &&
                     req_[http::field::sec_websocket_version] == "13";
  ctx_.registry.add(info_->id, weak_from_this());
  if (!valid) {
    accept(std::nullopt, false);
    return;
  }
  auto inv = std::make_shared<invocation>();
  inv->ids = gateway::new_request(false);
  // Stage throttling takes a token for every handshake, before anything else runs.
  if (ctx_.connect_throttle && !ctx_.connect_throttle->try_take()) {
    refuse_connect(429, "Too Many Requests", inv->ids.request_id);
    return;
  }
  if (ctx_.gw.connect_route() == nullptr) {
    // No $connect route: accepted without authorization (only $connect takes any).
    accept(std::nullopt);
    // Recorded once the connection is open, so that whoever reads the trace finds it listed.
    auto r = new_record("CONNECT", inv->ids.request_id);
    r.status = 101;
    ctx_.trace.record(r);
    return;
  }
  for (const auto& field : req_) {
    inv->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  if (ctx_.gw.authorizes_connect()) return authorize_connect(std::move(inv));
  start_connect(std::move(inv));
}

void websocket_session::start_connect(std::shared_ptr<invocation> inv) {
  ctx_.gw.build_connect_event(inv->event, *info_, inv->headers, inv->ids);
  run_integration(*ctx_.gw.connect_route(), inv,
                  [self = shared_from_this(), inv](gateway::outcome o, bool timed_out) {
                    self->on_connect_outcome(std::move(o), timed_out, inv->ids.request_id);
                  });
}

// AWS's order: the signature or the authorizer, then the API key, then $connect's integration.
// What authorization establishes goes into a completed copy of the connection's info, published
// before the connection opens (nobody else reads it before).
void websocket_session::authorize_connect(std::shared_ptr<invocation> inv) {
  const auto& auth = ctx_.gw.authorization();
  if (auth.type == gateway::authorization_type::aws_iam) {
    sigv4::request_view request;
    request.method = req_.method_string();
    request.target = req_.target();
    for (const auto& field : req_) request.headers.emplace_back(field.name_string(), field.value());
    const auto verdict = sigv4::verify(request, ctx_.gw.api().credentials, ctx_.gw.api().region,
                                       std::chrono::system_clock::now());
    auto judged = ctx_.gw.judge_signature(verdict);
    if (judged.status != 0) return refuse_connect(judged.status, std::move(judged.error), inv->ids.request_id);
    auto completed = std::make_shared<connection_info>(*info_);
    completed->iam = std::move(judged.iam);
    info_ = std::move(completed);
    return check_api_key(std::move(inv));
  }
  if (auth.type != gateway::authorization_type::custom) return check_api_key(std::move(inv));

  if (const auto* missing = ctx_.gw.missing_identity_source(*info_, inv->headers, inv->ids)) {
    // AWS answers 401 without invoking the authorizer.
    return refuse_connect(401, "identity source missing or empty: " + missing->text, inv->ids.request_id);
  }
  // The authorizer's event in an invocation of its own: a timed-out authorizer may still read it.
  auto call = std::make_shared<invocation>();
  call->ids = inv->ids;
  call->headers = inv->headers;
  ctx_.gw.build_authorizer_event(call->event, *info_, call->headers, call->ids);
  std::function<void(gateway::authorization_outcome, bool)> done =
      [self = shared_from_this(), inv](gateway::authorization_outcome o, bool timed_out) mutable {
        self->on_authorizer_outcome(std::move(inv), std::move(o), timed_out);
      };
  if (!auth.authorizer->may_block()) {
    done(ctx_.gw.authorize(call->event, call->ids.request_id), false);
    return;
  }
  race_on_workers<gateway::authorization_outcome>(
      [&gw = ctx_.gw, call] { return gw.authorize(call->event, call->ids.request_id); }, std::move(done));
}

void websocket_session::on_authorizer_outcome(std::shared_ptr<invocation> inv,
                                              gateway::authorization_outcome o, bool timed_out) {
  if (timed_out) {
    return refuse_connect(500, "authorizer timed out", inv->ids.request_id, timeout_ms());
  }
  if (o.status != 0) return refuse_connect(o.status, std::move(o.error), inv->ids.request_id, o.latency_ms);
  auto completed = std::make_shared<connection_info>(*info_);
  completed->authorizer = std::move(o.grant);
  info_ = std::move(completed);
  check_api_key(std::move(inv));
}

void websocket_session::check_api_key(std::shared_ptr<invocation> inv) {
  if (ctx_.gw.authorization().api_key_required) {
    std::optional<std::string> key;
    for (const auto& [name, value] : inv->headers) {
      if (beast::iequals(name, "x-api-key")) key = value;
    }
    if (!ctx_.gw.accepts_api_key(key)) {
      return refuse_connect(403, key && !key->empty() ? "API key not accepted" : "API key missing",
                            inv->ids.request_id);
    }
    auto completed = std::make_shared<connection_info>(*info_);
    completed->api_key = std::move(key);
    info_ = std::move(completed);
  }
  start_connect(std::move(inv));
}

void websocket_session::refuse_connect(int status, std::string error, const std::string& request_id,
                                       double latency_ms) {
  auto record = new_record("CONNECT", request_id);
  record.route_key = "$connect";
  record.status = status;
  record.error = std::move(error);
  record.latency_ms = latency_ms;
  ctx_.trace.record(record);
  refuse(status);
}

template <class Outcome, class Work>
void websocket_session::race_on_workers(Work work, std::function<void(Outcome, bool)> done) {
  struct race {
    explicit race(net::any_io_executor ex) : timer(std::move(ex)) {}
    net::steady_timer timer;
    bool settled = false;
    std::function<void(Outcome, bool)> done;
  };
  auto state = std::make_shared<race>(ws_.get_executor());
  state->done = std::move(done);
  state->timer.expires_after(ctx_.limits.integration_timeout);
  state->timer.async_wait([self = shared_from_this(), state](beast::error_code ec) {
    if (ec || state->settled) return;
    state->settled = true;
    state->done({}, true);
  });
  net::post(ctx_.workers, [self = shared_from_this(), state, work = std::move(work)]() mutable {
    Outcome o = work();
    net::post(self->ws_.get_executor(), [self, state, o = std::move(o)]() mutable {
      if (state->settled) return;
      state->settled = true;
      state->timer.cancel();
      state->done(std::move(o), false);
    });
  });
}

// Cheap handlers run right here on the strand; the others go to the worker pool, raced by the
// integration timeout. Whichever settles first wins; a late result is dropped, as AWS drops it.
void websocket_session::run_integration(const gateway::route& r, std::shared_ptr<invocation> inv,
                                        done_fn done) {
  if (!r.handler->may_block()) {
    done(ctx_.gw.invoke(r, inv->event, inv->ids.request_id), false);
    return;
  }
  race_on_workers<gateway::outcome>(
      [&gw = ctx_.gw, inv = std::move(inv), route = &r] { return gw.invoke(*route, inv->event, inv->ids.request_id); },
      std::move(done));
}

void websocket_session::on_connect_outcome(gateway::outcome o, bool timed_out,
                                           const std::string& request_id) {
  auto decision = gateway::decide_connect(o);
  if (ctx_.stopping.load()) {
    decision = {503, std::nullopt};
  } else if (timed_out) {
    decision = {504, std::nullopt};
  }
  auto record = new_record("CONNECT", request_id);
  record.route_key = "$connect";
  record.integration = ctx_.gw.connect_route()->integration;
  record.latency_ms = timed_out ? timeout_ms() : o.latency_ms;
  record.status = decision.status;
  if (timed_out) record.error = "Endpoint request timed out";
  if (decision.status != 101) {
    ctx_.trace.record(record);
    refuse(decision.status);
    return;
  }
  // Recorded once the connection is open, so that whoever reads the trace finds it listed.
  accept(std::move(decision.subprotocol));
  ctx_.trace.record(record);
}

trace_record websocket_session::new_record(const char* event_type, std::string request_id) const {
  trace_record r;
  r.time = std::chrono::system_clock::now();
  r.event_type = event_type;
  r.connection = info_;
  r.request_id = std::move(request_id);
  return r;
}

void websocket_session::trace(trace_record r, const gateway::route* route, const gateway::outcome* o,
                              bool timed_out) {
  if (route) {
    r.route_key = route->key;
    r.integration = route->integration;
  }
  if (timed_out) {
    r.latency_ms = timeout_ms();
    r.status = 504;
    r.error = "Endpoint request timed out";
  } else if (o) {
    r.latency_ms = o->latency_ms;
    if (o->failed) {
      r.status = 500;
      r.error = "Internal server error";
    } else {
      r.status = o->result.status_code;
    }
  }
  ctx_.trace.record(r);
}

void websocket_session::refuse(int status) {
  refusal_ = std::make_unique<http::response<http::empty_body>>(
      static_cast<http::status>(status), req_.version());
  refusal_->keep_alive(false);
  refusal_->content_length(0);
  auto& stream = beast::get_lowest_layer(ws_);
  stream.expires_after(kCloseTimeout);
  http::async_write(stream, *refusal_,
                    [self = shared_from_this()](beast::error_code, std::size_t) {
                      beast::error_code ignored;
                      beast::get_lowest_layer(self->ws_).socket().shutdown(
                          net::ip::tcp::socket::shutdown_send, ignored);
                      self->finish(0, {});
                    });
}

void websocket_session::accept(std::optional<std::string> subprotocol, bool valid) {
  const auto& limits = ctx_.limits;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = kCloseTimeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [subprotocol = std::move(subprotocol)](websocket::response_type& res) {
        // The 101 carries what AWS's carries: no server banner, a subprotocol only when
        // $connect's integration returned one.
        res.erase(http::field::server);
        if (subprotocol) res.set(http::field::sec_websocket_protocol, *subprotocol);
      }));
  ws_.read_message_max(limits.max_message_bytes);
  ws_.auto_fragment(true);
  ws_.write_buffer_bytes(limits.max_frame_bytes);
  ws_.next_layer().set_max_frame_bytes(limits.max_frame_bytes);
  // $connect succeeded: from now on the connection is reachable, as on AWS, although the 101 is
  // still on its way. What is sent meanwhile waits in the queue until the handshake is done.
  if (valid) {
    opened_at_ = steady::now();
    touch(opened_at_);
    record_connection();
    open_.store(true, std::memory_order_release);
  }
  ws_.async_accept(req_, beast::bind_front_handler(&websocket_session::on_accept, shared_from_this()));
}

void websocket_session::on_accept(beast::error_code ec) {
  req_ = {};
  if (ec) {
    finish(1006, {});
    return;
  }
  accepted_ = true;
  if (ctx_.stopping.load()) start_close(1001, "Going away");
  if (!writing_ && head_ < queue_.size()) do_write();
  arm_deadline();
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
  if (const auto& grant = info_->authorizer) {
    // As requestContext.authorizer shows it.
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> w(text);
    w.StartObject();
    w.Key("principalId");
    w.String(grant->principal_id.c_str(), static_cast<rapidjson::SizeType>(grant->principal_id.size()));
    w.Key("integrationLatency");
    w.Int64(grant->integration_latency_ms);
    for (const auto& [key, value] : grant->context) {
      if (key == "principalId" || key == "integrationLatency") continue;
      w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
      w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    }
    w.EndObject();
    record.authorizer.emplace(text.GetString(), text.GetSize());
  }
  ctx_.store.record_connection_later(std::move(record));
}

void websocket_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&websocket_session::on_read, shared_from_this()));
}

void websocket_session::on_read(beast::error_code ec, std::size_t n) {
  if (ec) {
    auto [code, reason] = close_status(ec);
    finish(code, std::move(reason));
    return;
  }
  touch(steady::now());
  const auto oversized_at = ws_.next_layer().oversized_at();
  if (oversized_at && *oversized_at < delivered_ + n) {
    start_close(1009, {});
    return;
  }
  delivered_ += n;
  if (ws_.got_binary()) {
    start_close(1003, {});
    return;
  }
  std::string body = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > kKeepReadBufferBytes) buffer_.shrink_to_fit();
  if (!closing_) dispatch(std::move(body));
  do_read();
}

void websocket_session::dispatch(std::string body) {
  // Stage throttling, when the stage sets it: one token a message, taken before routing.
  if (ctx_.message_throttle && !ctx_.message_throttle->try_take()) {
    auto ids = gateway::new_request(true);
    auto record = new_record("MESSAGE", ids.request_id);
    record.message_id = ids.message_id;
    record.bytes = body.size();
    record.why = "throttled";
    record.status = 429;
    record.error = "Too Many Requests";
    ctx_.trace.record(record);
    enqueue(gateway::error_frame("Too Many Requests", info_->id, ids.request_id), false);
    return;
  }
  const gateway::selection chosen = ctx_.gw.resolve(body);
  const gateway::route* r = chosen.route;
  auto ids = gateway::new_request(true);
  auto record = new_record("MESSAGE", ids.request_id);
  record.message_id = ids.message_id;
  record.bytes = body.size();
  if (chosen.json) record.selection = chosen.key;
  if (r == nullptr) {
    record.why = "no route";
    record.status = 403;
    record.error = "Forbidden";
    ctx_.trace.record(record);
    enqueue(gateway::error_frame("Forbidden", info_->id, ids.request_id), false);
    return;
  }
  record.why = chosen.json && r->key == chosen.key ? "exact match" : "fell back to $default";
  auto inv = std::make_shared<invocation>();
  inv->ids = std::move(ids);
  inv->text = std::move(body);
  ctx_.gw.build_message_event(inv->event, *info_, *r, inv->ids, inv->text);
  run_integration(*r, inv,
                  [self = shared_from_this(), r, inv, record = std::move(record)](gateway::outcome o,
                                                                                  bool timed_out) mutable {
                    self->trace(std::move(record), r, &o, timed_out);
                    if (timed_out) {
                      self->enqueue(gateway::error_frame("Endpoint request timed out", self->info_->id,
                                                         inv->ids.request_id),
                                    false);
                      return;
                    }
                    auto reply = gateway::message_reply(*r, o, *self->info_, inv->ids);
                    if (reply.send) self->enqueue(std::move(reply.data), reply.binary);
                  });
}

void websocket_session::enqueue(std::string data, bool binary) {
  if (closing_ || finished_ || !open_.load(std::memory_order_relaxed)) return;
  queued_bytes_ += data.size();
  if (queued_bytes_ > kMaxQueuedBytes) {
    queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(head_ + (writing_ ? 1 : 0)), queue_.end());
    start_close(1008, "Send queue full");
    return;
  }
  queue_.push_back({std::move(data), binary, false});
  if (!writing_ && accepted_) do_write();
}

void websocket_session::start_close(int code, std::string reason) {
  if (closing_ || finished_ || !open_.load(std::memory_order_relaxed)) return;
  closing_ = true;
  close_requested_.store(true, std::memory_order_release);
  close_code_ = code;
  close_reason_ = std::move(reason);
  queue_.push_back({{}, false, true});
  if (!writing_ && accepted_) do_write();
  // A client that never reads can hold a write (and the close frame queued behind it) forever:
  // if the close has not finished within kCloseTimeout, drop the transport. The pending read
  // then ends the session with the code chosen here.
  deadline_.expires_after(kCloseTimeout);
  deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->finished_) return;
    beast::get_lowest_layer(self->ws_).close();
  });
}

void websocket_session::do_write() {
  writing_ = true;
  outgoing& front = queue_[head_];
  if (front.close) {
    ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_), close_reason_),
                    [self = shared_from_this()](beast::error_code) {
                      self->finish(self->close_code_, self->close_reason_);
                    });
    return;
  }
  ws_.text(!front.binary);
  ws_.async_write(net::buffer(front.data),
                  beast::bind_front_handler(&websocket_session::on_write, shared_from_this()));
}

void websocket_session::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    // The transport is gone; the pending read ends the session and reports how.
    queue_ = {};
    head_ = 0;
    queued_bytes_ = 0;
    return;
  }
  queued_bytes_ -= queue_[head_].data.size();
  pop_front();
  touch(steady::now());
  if (head_ < queue_.size()) do_write();
}

// One timer serves both the idle timeout and the maximum duration. Traffic only records the
// time; the timer re-arms itself when it fires early, so no message pays for a timer reset.
void websocket_session::arm_deadline() {
  const auto& limits = ctx_.limits;
  const auto idle_at = last_activity() + limits.idle_timeout;
  const auto max_at = opened_at_ + limits.max_connection_duration;
  deadline_.expires_at(std::min(idle_at, max_at));
  deadline_.async_wait(beast::bind_front_handler(&websocket_session::on_deadline, shared_from_this()));
}

void websocket_session::on_deadline(beast::error_code ec) {
  if (ec || closing_ || finished_) return;
  const auto& limits = ctx_.limits;
  const auto now = steady::now();
  if (now >= last_activity() + limits.idle_timeout ||
      now >= opened_at_ + limits.max_connection_duration) {
    start_close(1001, "Going away");
    return;
  }
  arm_deadline();
}

std::pair<int, std::string> websocket_session::close_status(beast::error_code ec) const {
  if (close_code_ != 0) return {close_code_, close_reason_};
  if (ec == websocket::error::closed) {
    const auto& cr = ws_.reason();
    if (cr.code == static_cast<std::uint16_t>(websocket::close_code::none)) return {1005, std::string(gateway::standard_close_reason(1005))};
    const std::string reason(cr.reason.data(), cr.reason.size());
    return {cr.code, reason};
  }
  if (ec == websocket::error::message_too_big) return {1009, {}};
  if (ec == websocket::error::bad_frame_payload) return {1007, {}};
  if (ec == websocket::condition::protocol_violation) return {1002, {}};
  return {1006, std::string(gateway::standard_close_reason(1006))};
}

// The end of every session, whoever ended it: out of the registry first (so the management API
// answers Gone), then $disconnect, exactly once and only after a completed $connect.
void websocket_session::finish(int code, std::string reason) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  const bool was_open = open_.exchange(false);
  ctx_.registry.remove(info_->id);
  if (was_open) ctx_.store.forget_connection_later(info_->id);
  if (!was_open) return end_of_work();
  const gateway::route* r = ctx_.gw.disconnect_route();
  auto inv = std::make_shared<invocation>();
  inv->ids = gateway::new_request(false);
  inv->text = reason.empty() ? std::string(gateway::standard_close_reason(code)) : std::move(reason);
  auto record = new_record("DISCONNECT", inv->ids.request_id);
  record.close_code = code;
  record.close_reason = inv->text;
  if (r == nullptr) {
    trace(std::move(record), nullptr, nullptr, false);
    return end_of_work();
  }
  ctx_.gw.build_disconnect_event(inv->event, *info_, inv->ids, code, inv->text);
  run_integration(*r, std::move(inv),
                  [self = shared_from_this(), r, record = std::move(record)](gateway::outcome o, bool timed_out) mutable {
                    self->trace(std::move(record), r, &o, timed_out);
                    self->end_of_work();
                  });
}

}  // namespace

void start_websocket_session(beast::tcp_stream stream, http::request<http::string_body> req,
                             server_context& ctx) {
  std::make_shared<websocket_session>(std::move(stream), ctx)->run(std::move(req));
}

}  // namespace apigw::emulator
