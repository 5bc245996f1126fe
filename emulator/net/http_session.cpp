#include "emulator/net/http_session.hpp"

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/ascii.hpp"
#include "emulator/core/block_cache.hpp"
#include "emulator/core/identifiers.hpp"
#include "emulator/core/management_api.hpp"
#include "emulator/core/trace_record.hpp"
#include "emulator/net/deadline_sweep.hpp"
#include "emulator/net/pages.hpp"
#include "emulator/net/server_context.hpp"
#include "emulator/net/websocket_session.hpp"

namespace apigw::emulator {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// Against slow clients: the whole request head must arrive in this time, within these sizes.
constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr std::uint64_t kBodyLimit = 1024 * 1024;

// Every connection starts as an HTTP session, which lives until its request is read (a WebSocket
// handshake's, the usual one) or answered: its memory comes from its I/O thread's cache of
// 512-byte blocks. glibc keeps 7 freed blocks of a size a thread, fewer than overlapping
// handshakes (a CI suite connecting its clients at once) free between their allocations, and
// each free past those takes the heap's slow path; this cache keeps 32.
using session_memory = block_cache<struct http_session_memory_tag, 512, 32>;

// GET /@emulator/feed: the routing trace as server-sent events, one "trace" event a decision,
// for the dashboard. The client's end of the socket is watched only to notice that it left.
class feed_session : public std::enable_shared_from_this<feed_session> {
 public:
  feed_session(connection_socket&& socket, server_context& ctx) : socket_(std::move(socket)), ctx_(ctx) {}

  void run(unsigned version) {
    header_.version(version);
    header_.result(http::status::ok);
    header_.set(http::field::content_type, "text/event-stream");
    header_.set(http::field::cache_control, "no-store");
    header_.keep_alive(true);
    serializer_.emplace(header_);
    std::weak_ptr<feed_session> weak = shared_from_this();
    subscription_ = ctx_.trace.subscribe([weak, executor = socket_.get_executor()](const std::string& json) {
      net::post(executor, [weak, json] {
        if (auto self = weak.lock()) self->push("event: trace\ndata: " + json + "\n\n");
      });
    });
    // A first comment right away: proxies that buffer until the body starts pass the stream on.
    pending_.push_back(": live\n\n");
    writing_ = true;
    http::async_write_header(socket_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
    watch();
  }

 private:
  // A dashboard that stopped reading gets no more than this backlog; the rest is dropped.
  static constexpr std::size_t kMaxPending = 1000;

  void push(std::string event) {
    if (closed_ || pending_.size() >= kMaxPending) return;
    pending_.push_back(std::move(event));
    if (!writing_) write_next();
  }

  void write_next() {
    current_.clear();
    for (auto& e : pending_) current_ += e;
    pending_.clear();
    writing_ = true;
    net::async_write(socket_, net::buffer(current_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (ec) return end();
    if (!pending_.empty()) write_next();
  }

  void watch() {
    socket_.async_read_some(net::buffer(ignored_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->end();
      self->watch();
    });
  }

  void end() {
    if (closed_) return;
    closed_ = true;
    ctx_.trace.unsubscribe(subscription_);
    beast::error_code ignored;
    socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  connection_socket socket_;
  server_context& ctx_;
  http::response<http::empty_body> header_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::uint64_t subscription_ = 0;
  std::vector<std::string> pending_;
  std::string current_;
  char ignored_[512];
  bool writing_ = false;
  bool closed_ = false;
};

void start_feed_session(connection_socket socket, unsigned version, server_context& ctx) {
  std::make_shared<feed_session>(std::move(socket), ctx)->run(version);
}

// The request deadline is kept by the I/O thread's deadline sweep, not by a timer of the
// session's own: a handshake then arms and cancels no timer before its connection opens.
class http_session final : public deadline_sweep::member, public std::enable_shared_from_this<http_session> {
 public:
  http_session(connection_socket&& socket, server_context& ctx)
      : socket_(std::move(socket)), ctx_(ctx), sweep_(deadline_sweep::of(socket_.get_executor())) {}

  void run() {
    net::dispatch(socket_.get_executor(),
                  beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

  // deadline_sweep::member: the request (or the answer) did not get through in time. Closing the
  // socket ends the pending operation, and with it the session.
  deadline_sweep::clock::time_point deadline() const override { return deadline_; }
  void expired(deadline_sweep::clock::time_point) override {
    deadline_sweep::remove(*this);
    beast::error_code ignored;
    socket_.close(ignored);
  }

 private:
  // From now, the next read or write has kRequestTimeout to complete.
  void start_deadline() {
    deadline_ = deadline_sweep::clock::now() + kRequestTimeout;
    sweep_.add(*this, kRequestTimeout);
  }
  // The socket leaves this session, or no operation is pending any more.
  void stop_deadline() { deadline_sweep::remove(*this); }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    start_deadline();
    http::async_read(socket_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    stop_deadline();
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset) {
      return close();
    }
    if (ec == http::error::header_limit) {
      return respond(http::status::request_header_fields_too_large, "Request Header Fields Too Large", false);
    }
    if (ec == http::error::body_limit) {
      auto res = std::make_shared<http::response<http::string_body>>(http::status::payload_too_large, 11);
      res->set("x-amzn-ErrorType", "PayloadTooLargeException");
      res->set(http::field::content_type, "application/json");
      res->body() = "{\"message\":\"Request body too large\"}";
      res->keep_alive(false);
      return send(std::move(res));
    }
    if (ec) return respond(http::status::bad_request, "Bad Request", false);

    auto req = parser_->release();
    std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const std::string& stage = ctx_.stage_path;
    const bool websocket_path = path == "/" || path == stage ||
                                (path.size() == stage.size() + 1 && path.substr(0, stage.size()) == stage &&
                                 path.back() == '/');
    if (management_api::is_management_target(target)) {
      // The headers go along: a signed call is checked against them.
      sigv4::request_view call{req.method_string(), target, {}, req.body()};
      for (const auto& field : req) call.headers.emplace_back(field.name_string(), field.value());
      return send(to_response(ctx_.management.handle_http(call, std::chrono::system_clock::now()), req));
    }
    if (ctx_.dynamodb != nullptr && req.method() == http::verb::post && path == "/") {
      sigv4::request_view call{req.method_string(), target, {}, req.body()};
      for (const auto& field : req) call.headers.emplace_back(field.name_string(), field.value());
      if (dynamodb_api::is_dynamodb_request(call)) {
        return send(to_response(ctx_.dynamodb->handle_http(call, std::chrono::system_clock::now()), req));
      }
    }
    if (ctx_.admin_enabled && path == "/@emulator/feed" && req.method() == http::verb::get) {
      return start_feed_session(std::move(socket_), req.version(), ctx_);
    }
    if (ctx_.admin_enabled && (path == "/@emulator/" || path == "/@emulator") &&
        (req.method() == http::verb::get || req.method() == http::verb::head)) {
      return respond(http::status::ok, std::string(dashboard_html()), req.keep_alive(), "text/html; charset=utf-8");
    }
    if (ctx_.admin_enabled && admin_api::is_admin_target(target)) {
      return send(to_response(ctx_.admin.handle_http(req.method_string(), target, req.body()), req));
    }
    if (websocket_path) {
      if (beast::websocket::is_upgrade(req)) {
        return start_websocket_session(std::move(socket_), std::move(req), ctx_);
      }
      // The root serves the lab's chat page to browsers; the stage path answers like AWS.
      if (path == "/" && (req.method() == http::verb::get || req.method() == http::verb::head)) {
        return respond(http::status::ok, std::string(chat_page_html()), req.keep_alive(),
                       "text/html; charset=utf-8");
      }
      return respond(http::status::upgrade_required, "Upgrade Required", req.keep_alive());
    }
    if (beast::websocket::is_upgrade(req)) trace_wrong_stage(req, path);
    respond(http::status::not_found, "{\"message\":\"Not Found\"}", req.keep_alive(), "application/json");
  }

  // A handshake on a path that is not the API's stage gets AWS's 404, which says nothing: the
  // routing trace (the terminal, the dashboard) says which stage was asked for and which exists.
  void trace_wrong_stage(const http::request<http::string_body>& req, std::string_view path) {
    auto info = std::make_shared<connection_info>();
    info->id = new_identifier();
    info->connected_at = std::chrono::system_clock::now();
    beast::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    if (!ec) info->source_ip = remote.address().to_string();
    if (auto host = req.find(http::field::host); host != req.end()) info->domain_name = std::string(host->value());
    if (auto agent = req.find(http::field::user_agent); agent != req.end()) info->user_agent = std::string(agent->value());
    // The target need not start with '/' ("Prod", "?x", "*" parse as request targets too).
    std::string_view asked = path;
    if (asked.starts_with('/')) asked.remove_prefix(1);
    asked = asked.substr(0, asked.find('/'));
    const std::string& stage = ctx_.gw.api().stage.name;
    trace_record r;
    r.time = info->connected_at;
    r.event_type = "CONNECT";
    r.connection = std::move(info);
    r.request_id = new_identifier();
    r.status = 404;
    r.error = "no stage \"" + std::string(asked) + "\": this API's stage is \"" + stage + "\"; connect to " +
              ctx_.stage_path + (iequals(asked, stage) ? " (stage names are case-sensitive)" : "");
    ctx_.trace.record(std::move(r));
  }

  void respond(http::status status, std::string body, bool keep_alive,
               const char* content_type = "text/plain") {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, content_type);
    res->keep_alive(keep_alive);
    res->body() = std::move(body);
    send(std::move(res));
  }

  static std::shared_ptr<http::response<http::string_body>> to_response(
      http_answer answer, const http::request<http::string_body>& req) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status),
                                                                   req.version());
    for (auto& [name, value] : answer.headers) res->set(name, value);
    res->body() = std::move(answer.body);
    res->keep_alive(req.keep_alive());
    return res;
  }

  // Beast's serializer writes the head into head_ once; head and body then leave in one gather
  // write. (http::async_write walks the head's nested buffer views at every step of its
  // composed operation, which cost more than the rest of an answer.)
  void send(std::shared_ptr<http::response<http::string_body>> res) {
    res->prepare_payload();
    head_.clear();
    http::response_serializer<http::string_body> serializer(*res);
    serializer.split(true);
    beast::error_code ec;
    while (!ec && !serializer.is_header_done()) {
      serializer.next(ec, [&](beast::error_code&, const auto& buffers) {
        const std::size_t n = net::buffer_copy(head_.prepare(net::buffer_size(buffers)), buffers);
        head_.commit(n);
        serializer.consume(n);
      });
    }
    if (ec) return close();
    const std::array<net::const_buffer, 2> answer{head_.data(), net::buffer(res->body())};
    start_deadline();
    net::async_write(socket_, answer, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      self->stop_deadline();
      if (ec || !res->keep_alive()) return self->close();
      self->do_read();
    });
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  }

  connection_socket socket_;
  server_context& ctx_;
  deadline_sweep& sweep_;
  deadline_sweep::clock::time_point deadline_ = deadline_sweep::clock::time_point::max();
  beast::flat_buffer buffer_;
  beast::flat_buffer head_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

// The session and its shared_ptr's counts (two counts and a vtable pointer) share one block.
static_assert(sizeof(http_session) + 16 <= session_memory::block_bytes, "an HTTP session fits a block");

void start_http_session(connection_socket socket, server_context& ctx) {
  std::allocate_shared<http_session>(session_memory::allocator<http_session>(), std::move(socket), ctx)->run();
}

}  // namespace apigw::emulator
