// apigw::client (include/apigw/client.hpp): a synchronous WebSocket client. Each call runs the
// client's own io_context until its operation completes or times out; a read that times out
// stays pending, so the next receive() continues it.
#include "apigw/client.hpp"

#include <deque>
#include <optional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace apigw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct parsed_url {
  std::string host;
  std::string port;
  std::string target;
};

// "ws://HOST[:PORT][/PATH][?QUERY]"; an error message when it is not one.
std::optional<parsed_url> parse_url(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "ws://";
  if (url.substr(0, scheme.size()) != scheme) {
    error = "\"" + std::string(url) + "\" is not a ws:// URL";
    return std::nullopt;
  }
  url.remove_prefix(scheme.size());
  const auto slash = url.find_first_of("/?");
  const std::string_view authority = url.substr(0, slash);
  parsed_url out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (out.target.front() == '?') out.target.insert(0, "/");
  const auto colon = authority.rfind(':');
  out.host = std::string(authority.substr(0, colon));
  out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  if (out.host.empty() || out.port.empty()) {
    error = "\"ws://" + std::string(url) + "\" names no host or port";
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const frame& f) {
  switch (f.type) {
    case frame::kind::text: return os << "text frame \"" << f.data << "\"";
    case frame::kind::binary: return os << "binary frame of " << f.data.size() << " bytes";
    case frame::kind::close: return os << "close " << f.close_code << " \"" << f.data << "\"";
    case frame::kind::timeout: return os << "nothing (timed out)";
    case frame::kind::error: return os << "error (" << f.data << ")";
  }
  return os;
}

class client::impl {
 public:
  impl() : work_(asio::make_work_guard(ioc_)), ws_(ioc_) { ws_.read_message_max(64 * 1024 * 1024); }

  ~impl() {
    cut();
    // Let the aborted operations complete so that none outlives this object.
    work_.reset();
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(2));
  }

  // Runs handlers until DONE() or TIMEOUT; false on timeout.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one_for(deadline - now);
    }
    return true;
  }

  // Runs START(completion) to its end under the timeout; the error, or "timed out".
  template <class Start>
  std::string run_op(Start start) {
    bool done = false;
    beast::error_code ec;
    start([&](beast::error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, timeout_)) {
      cut();
      run_until([&] { return done; }, std::chrono::seconds(2));
      return "timed out";
    }
    return ec ? ec.message() : std::string();
  }

  void cut() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    open_ = false;
  }

  std::string connect(std::string_view url, const client_options& o) {
    if (open_ || status_ != 0) return "this client has connected before; use a new one";
    timeout_ = o.timeout;
    std::string error;
    auto u = parse_url(url, error);
    if (!u) return error;
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    const auto endpoints = resolver.resolve(u->host, u->port, ec);
    if (ec || endpoints.empty()) return "cannot resolve " + u->host + ":" + u->port + ": " + ec.message();
    if (auto e = run_op([&](auto done) { beast::get_lowest_layer(ws_).async_connect(endpoints, done); });
        !e.empty()) {
      return "cannot connect to " + u->host + ":" + u->port + ": " + e;
    }
    auto headers = o.headers;
    std::string protocols;
    for (const auto& p : o.subprotocols) protocols += (protocols.empty() ? "" : ", ") + p;
    ws_.set_option(websocket::stream_base::decorator([headers, protocols](websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.insert(name, value);
      if (!protocols.empty()) req.set(beast::http::field::sec_websocket_protocol, protocols);
    }));
    websocket::response_type res;
    const std::string host = u->host + ":" + u->port;
    const auto e = run_op([&](auto done) { ws_.async_handshake(res, host, u->target, done); });
    status_ = static_cast<int>(res.result_int());
    body_ = res.body();
    if (!e.empty()) {
      cut();
      if (status_ != 0 && status_ != 101) return "handshake refused with status " + std::to_string(status_);
      return "handshake failed: " + e;
    }
    open_ = true;
    return {};
  }

  bool send(std::string_view text) {
    if (!open_) return false;
    ws_.text(true);
    return run_op([&](auto done) { ws_.async_write(asio::buffer(text.data(), text.size()), done); }).empty();
  }

  frame close_frame() const {
    frame f;
    f.type = frame::kind::close;
    const auto& reason = ws_.reason();
    f.close_code = reason.code == websocket::close_code::none ? 1005 : static_cast<int>(reason.code);
    f.data = std::string(reason.reason.c_str());
    return f;
  }

  void start_read() {
    if (read_pending_ || !open_) return;
    read_pending_ = true;
    ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
      read_pending_ = false;
      frame f;
      if (!ec) {
        f.type = ws_.got_text() ? frame::kind::text : frame::kind::binary;
        f.data = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
      } else if (ec == websocket::error::closed || ws_.reason().code != websocket::close_code::none) {
        f = close_frame();
        open_ = false;
      } else {
        f.type = frame::kind::error;
        f.data = ec.message();
        open_ = false;
      }
      inbox_.push_back(std::move(f));
    });
  }

  frame receive(std::chrono::milliseconds timeout) {
    if (inbox_.empty()) {
      if (!open_ && !read_pending_) return frame{frame::kind::error, "not connected", 0};
      start_read();
      if (!run_until([&] { return !inbox_.empty(); }, timeout)) return frame{frame::kind::timeout, "", 0};
    }
    frame f = std::move(inbox_.front());
    inbox_.pop_front();
    return f;
  }

  frame close(int code, std::string_view reason) {
    if (!open_) return frame{frame::kind::error, "not connected", 0};
    websocket::close_reason why(static_cast<websocket::close_code>(code),
                                beast::string_view(reason.data(), reason.size()));
    bool done = false;
    beast::error_code ec;
    ws_.async_close(why, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    // A pending read receives the server's close frame; the close waits for it.
    if (!run_until([&] { return done && !read_pending_; }, timeout_)) {
      cut();
      run_until([&] { return done && !read_pending_; }, std::chrono::seconds(2));
      return frame{frame::kind::timeout, "", 0};
    }
    open_ = false;
    inbox_.clear();
    if (!ec || ec == websocket::error::closed) return close_frame();
    return frame{frame::kind::error, ec.message(), 0};
  }

  std::chrono::milliseconds timeout_ = std::chrono::seconds(5);
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<frame> inbox_;
  bool read_pending_ = false;
  bool open_ = false;
  int status_ = 0;
  std::string body_;
};

client::client() : impl_(std::make_unique<impl>()) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

std::string client::connect(std::string_view url, const client_options& options) {
  return impl_->connect(url, options);
}
int client::handshake_status() const { return impl_->status_; }
std::string client::handshake_body() const { return impl_->body_; }
bool client::send(std::string_view text) { return impl_->send(text); }
frame client::receive(std::chrono::milliseconds timeout) { return impl_->receive(timeout); }
frame client::close(int code, std::string_view reason) { return impl_->close(code, reason); }
bool client::is_open() const { return impl_ && impl_->open_; }

}  // namespace apigw
