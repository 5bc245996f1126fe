// apigw::client (include/apigw/client.hpp): a synchronous WebSocket client. Each call runs the
// client's own io_context until its operation completes or times out; a read that times out
// stays pending, so the next receive() continues it. Messages go out unfragmented unless
// send_frames() splits them.
#include "apigw/client.hpp"

#include <algorithm>
#include <cctype>
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

// S for a message: unprintable bytes as \xNN, cut after 200 bytes.
std::string printable(std::string_view s) {
  static constexpr std::size_t shown_max = 200;
  std::string out;
  const std::size_t shown = std::min(s.size(), shown_max);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (shown < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

std::optional<std::string> handshake_response::header(std::string_view name) const {
  const auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  };
  for (const auto& [key, value] : headers) {
    if (same(key, name)) return value;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& os, const frame& f) {
  switch (f.type) {
    case frame::kind::text: return os << "text frame \"" << printable(f.data) << "\"";
    case frame::kind::binary: return os << "binary frame \"" << printable(f.data) << "\"";
    case frame::kind::close: return os << "close " << f.close_code << " \"" << printable(f.data) << "\"";
    case frame::kind::timeout: return os << "nothing (timed out)";
    case frame::kind::error: return os << "error (" << f.data << ")";
  }
  return os;
}

class client::impl {
 public:
  impl() : work_(asio::make_work_guard(ioc_)), ws_(ioc_) {
    ws_.read_message_max(64 * 1024 * 1024);
    // One message, one frame: API Gateway limits frames as well as messages.
    ws_.auto_fragment(false);
  }

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

  // Closes the socket and runs until the operation that DONE() watches has completed.
  template <class Pred>
  void cut_and_drain(Pred done) {
    cut();
    run_until(done, std::chrono::seconds(2));
  }

  // Runs START(completion) to its end under the timeout; the error, or "timed out". RESULT, when
  // given, receives the error code (beast::error::timeout on timeout).
  template <class Start>
  std::string run_op(Start start, beast::error_code* result = nullptr) {
    bool done = false;
    beast::error_code ec;
    start([&](beast::error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, timeout_)) {
      cut_and_drain([&] { return done; });
      if (result) *result = beast::error::timeout;
      return "timed out";
    }
    if (result) *result = ec;
    return ec ? ec.message() : std::string();
  }

  void cut() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    open_ = false;
  }

  std::string connect(std::string_view url, const client_options& o) {
    if (open_ || handshake_sent_) return "this client has connected before; use a new one";
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
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ec);
    auto headers = o.headers;
    std::string protocols;
    for (const auto& p : o.subprotocols) protocols += (protocols.empty() ? "" : ", ") + p;
    ws_.set_option(websocket::stream_base::decorator([headers, protocols](websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.insert(name, value);
      if (!protocols.empty()) req.set(beast::http::field::sec_websocket_protocol, protocols);
    }));
    const std::string host = o.host_header ? *o.host_header : u->host + ":" + u->port;
    const std::string target = o.target.empty() ? u->target : o.target;
    websocket::response_type res;
    beast::error_code ec_handshake;
    handshake_sent_ = true;
    const auto e = run_op([&](auto done) { ws_.async_handshake(res, host, target, done); }, &ec_handshake);
    // Beast fills RES only from a whole response, which it then either accepts or refuses with
    // an error of its websocket category; any other error means no answer came.
    const auto& refusals = make_error_code(websocket::error::upgrade_declined).category();
    const bool answered = !ec_handshake || ec_handshake.category() == refusals;
    if (answered) {
      handshake_.status = static_cast<int>(res.result_int());
      for (const auto& field : res) {
        handshake_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      handshake_.body = res.body();
    }
    if (!e.empty()) {
      cut();
      const int status = handshake_.status;
      if (status != 0 && status != 101) return "handshake refused with status " + std::to_string(status);
      return "handshake failed: " + e;
    }
    handshake_.subprotocol = handshake_.header("Sec-WebSocket-Protocol");
    open_ = true;
    return {};
  }

  bool send(std::string_view data, bool binary) {
    if (!open_) return false;
    ws_.binary(binary);
    return run_op([&](auto done) { ws_.async_write(asio::buffer(data.data(), data.size()), done); }).empty();
  }

  bool send_frames(std::string_view data, std::size_t frame_bytes, bool binary) {
    if (!open_ || frame_bytes == 0) return false;
    ws_.binary(binary);
    do {
      const std::size_t n = data.size() < frame_bytes ? data.size() : frame_bytes;
      const bool fin = n == data.size();
      const auto chunk = data.substr(0, n);
      const auto e = run_op([&](auto done) {
        ws_.async_write_some(fin, asio::buffer(chunk.data(), chunk.size()), done);
      });
      if (!e.empty()) return false;
      data.remove_prefix(n);
    } while (!data.empty());
    return true;
  }

  bool ping() {
    if (!open_) return false;
    return run_op([&](auto done) { ws_.async_ping({}, done); }).empty();
  }

  // The server's close frame (Beast answers it and ends the read with `closed`).
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

  frame close(const websocket::close_reason& why) {
    if (!open_) return frame{frame::kind::error, "not connected", 0};
    bool done = false;
    beast::error_code ec;
    ws_.async_close(why, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    // A pending read receives the server's close frame; the close waits for it.
    if (!run_until([&] { return done && !read_pending_; }, timeout_)) {
      cut_and_drain([&] { return done && !read_pending_; });
      inbox_.clear();
      return frame{frame::kind::timeout, "", 0};
    }
    open_ = false;
    const bool read_saw_close = !inbox_.empty() && inbox_.back().type == frame::kind::close;
    inbox_.clear();
    if (!ec || ec == websocket::error::closed || read_saw_close) return close_frame();
    return frame{frame::kind::error, ec.message(), 0};
  }

  void drop() {
    cut_and_drain([this] { return !read_pending_; });
  }

  std::chrono::milliseconds timeout_ = std::chrono::seconds(5);
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<frame> inbox_;
  bool read_pending_ = false;
  bool open_ = false;
  bool handshake_sent_ = false;
  handshake_response handshake_;
};

client::client() : impl_(std::make_unique<impl>()) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

std::string client::connect(std::string_view url, const client_options& options) {
  return impl_->connect(url, options);
}
int client::handshake_status() const { return impl_->handshake_.status; }
std::string client::handshake_body() const { return impl_->handshake_.body; }
const handshake_response& client::handshake() const { return impl_->handshake_; }
bool client::send(std::string_view text) { return impl_->send(text, false); }
bool client::send_binary(std::string_view data) { return impl_->send(data, true); }
bool client::send_frames(std::string_view data, std::size_t frame_bytes, bool binary) {
  return impl_->send_frames(data, frame_bytes, binary);
}
bool client::ping() { return impl_->ping(); }
frame client::receive(std::chrono::milliseconds timeout) { return impl_->receive(timeout); }
frame client::close(int code, std::string_view reason) {
  return impl_->close(websocket::close_reason(static_cast<websocket::close_code>(code),
                                              beast::string_view(reason.data(), reason.size())));
}
frame client::close_without_status() { return impl_->close(websocket::close_reason{}); }
void client::drop() { impl_->drop(); }
bool client::is_open() const { return impl_ && impl_->open_; }

}  // namespace apigw
