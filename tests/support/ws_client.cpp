// The one test translation unit that includes Boost.Beast: everything else sees ws_client.hpp.
#include "tests/support/ws_client.hpp"

#include <deque>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace apigw::test_support {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

std::string printable(std::string_view s) {
  std::string out;
  const std::size_t shown = s.size() > 200 ? 200 : s.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (shown < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const ws_message& m) {
  switch (m.type) {
    case ws_message::kind::text:
      return os << "text \"" << printable(m.data) << "\"";
    case ws_message::kind::binary:
      return os << "binary \"" << printable(m.data) << "\"";
    case ws_message::kind::close:
      return os << "close " << m.close_code << " \"" << printable(m.data) << "\"";
    case ws_message::kind::timeout:
      return os << "timeout";
    case ws_message::kind::error:
      return os << "error (" << m.data << ")";
  }
  return os;
}

bool browser_accepts(const handshake_result& result, const std::vector<std::string>& subprotocols) {
  if (!result.upgraded) return false;
  if (!result.subprotocol) return subprotocols.empty();
  for (const auto& p : subprotocols) {
    if (p == *result.subprotocol) return true;
  }
  return false;
}

class ws_client::impl {
 public:
  explicit impl(std::chrono::milliseconds timeout)
      : timeout_(timeout), work_(asio::make_work_guard(ioc_)), ws_(ioc_) {
    ws_.read_message_max(64 * 1024 * 1024);
    ws_.auto_fragment(false);
  }

  ~impl() {
    abort();
    // Let aborted operations complete so no handler outlives this object.
    work_.reset();
    ioc_.restart();
    ioc_.run_for(std::chrono::seconds(2));
  }

  // Runs handlers until DONE() or TIMEOUT; false on timeout.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (!done()) {
      const auto now = clock::now();
      if (now >= deadline) return false;
      if (ioc_.stopped()) ioc_.restart();
      ioc_.run_one_for(deadline - now);
    }
    return true;
  }

  // Closes the socket and runs until the operation that DONE() watches has completed.
  template <class Pred>
  void abort_and_drain(Pred done) {
    abort();
    run_until(done, std::chrono::seconds(2));
  }

  void abort() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    open_ = false;
  }

  handshake_result connect(const connect_options& o) {
    handshake_result r;
    beast::error_code ec;
    auto address = asio::ip::make_address(o.host, ec);
    tcp::endpoint endpoint;
    if (ec) {
      tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(o.host, std::to_string(o.port), ec);
      if (ec || results.empty()) {
        r.error = "resolve " + o.host + ": " + ec.message();
        return r;
      }
      endpoint = *results.begin();
    } else {
      endpoint = tcp::endpoint(address, o.port);
    }

    bool done = false;
    beast::get_lowest_layer(ws_).async_connect(endpoint, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, timeout_)) {
      abort_and_drain([&] { return done; });
      r.error = "connect timed out";
      return r;
    }
    if (ec) {
      r.error = "connect: " + ec.message();
      return r;
    }
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ec);

    header_list extra = o.headers;
    std::string protocols;
    for (const auto& p : o.subprotocols) {
      if (!protocols.empty()) protocols += ", ";
      protocols += p;
    }
    ws_.set_option(websocket::stream_base::decorator([extra, protocols](websocket::request_type& req) {
      for (const auto& [name, value] : extra) req.insert(name, value);
      if (!protocols.empty()) req.set(http::field::sec_websocket_protocol, protocols);
    }));

    const std::string host = o.host_header ? *o.host_header : o.host + ":" + std::to_string(o.port);
    websocket::response_type res;
    done = false;
    ws_.async_handshake(res, host, o.target, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, timeout_)) {
      abort_and_drain([&] { return done; });
      r.error = "handshake timed out";
      return r;
    }
    r.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    r.body = res.body();
    if (ec) {
      r.error = "handshake: " + ec.message();
      abort();
      return r;
    }
    r.upgraded = true;
    r.subprotocol = r.header("Sec-WebSocket-Protocol");
    open_ = true;
    return r;
  }

  // Runs one write-like operation START(handler) to completion under the timeout.
  template <class Start>
  bool run_op(Start start) {
    if (!open_) return false;
    bool done = false;
    beast::error_code ec;
    start([&](beast::error_code e, std::size_t = 0) {
      ec = e;
      done = true;
    });
    if (!run_until([&] { return done; }, timeout_)) {
      abort_and_drain([&] { return done; });
      return false;
    }
    return !ec;
  }

  bool send(std::string_view data, bool binary) {
    ws_.binary(binary);
    return run_op([&](auto handler) { ws_.async_write(asio::buffer(data.data(), data.size()), handler); });
  }

  bool send_frames(std::string_view data, std::size_t frame_bytes, bool binary) {
    if (frame_bytes == 0) return false;
    ws_.binary(binary);
    do {
      const std::size_t n = data.size() < frame_bytes ? data.size() : frame_bytes;
      const bool fin = n == data.size();
      const auto chunk = data.substr(0, n);
      if (!run_op([&](auto handler) {
            ws_.async_write_some(fin, asio::buffer(chunk.data(), chunk.size()), handler);
          })) {
        return false;
      }
      data.remove_prefix(n);
    } while (!data.empty());
    return true;
  }

  bool ping() {
    return run_op([&](auto handler) {
      ws_.async_ping({}, [handler](beast::error_code e) mutable { handler(e, 0); });
    });
  }

  // The server's close frame as a message (Beast answers it and ends the read with `closed`).
  ws_message close_message() const {
    ws_message m;
    m.type = ws_message::kind::close;
    const auto& reason = ws_.reason();
    m.close_code = reason.code == websocket::close_code::none ? 1005 : static_cast<int>(reason.code);
    m.data = std::string(reason.reason.c_str());
    return m;
  }

  void start_read() {
    if (read_pending_ || !open_) return;
    read_pending_ = true;
    ws_.async_read(rbuf_, [this](beast::error_code ec, std::size_t) {
      read_pending_ = false;
      ws_message m;
      if (!ec) {
        m.type = ws_.got_text() ? ws_message::kind::text : ws_message::kind::binary;
        m.data = beast::buffers_to_string(rbuf_.data());
        rbuf_.consume(rbuf_.size());
      } else if (ec == websocket::error::closed ||
                 ws_.reason().code != websocket::close_code::none) {
        m = close_message();
        open_ = false;
      } else {
        m.type = ws_message::kind::error;
        m.data = ec.message();
        open_ = false;
      }
      inbox_.push_back(std::move(m));
    });
  }

  ws_message read(std::chrono::milliseconds timeout) {
    if (inbox_.empty()) {
      if (!open_ && !read_pending_) {
        return ws_message{ws_message::kind::error, "not connected", 0};
      }
      start_read();
      if (!run_until([&] { return !inbox_.empty(); }, timeout)) {
        return ws_message{ws_message::kind::timeout, "", 0};
      }
    }
    ws_message m = std::move(inbox_.front());
    inbox_.pop_front();
    return m;
  }

  ws_message close(websocket::close_reason reason) {
    if (!open_) return ws_message{ws_message::kind::error, "not connected", 0};
    bool done = false;
    beast::error_code ec;
    ws_.async_close(reason, [&](beast::error_code e) {
      ec = e;
      done = true;
    });
    // A pending read receives the server's close frame; the close waits for it.
    if (!run_until([&] { return done && !read_pending_; }, timeout_)) {
      abort_and_drain([&] { return done && !read_pending_; });
      inbox_.clear();
      return ws_message{ws_message::kind::timeout, "", 0};
    }
    open_ = false;
    const bool read_saw_close =
        !inbox_.empty() && inbox_.back().type == ws_message::kind::close;
    inbox_.clear();
    if (!ec || ec == websocket::error::closed || read_saw_close) return close_message();
    return ws_message{ws_message::kind::error, ec.message(), 0};
  }

  std::chrono::milliseconds timeout_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer rbuf_;
  std::deque<ws_message> inbox_;
  bool read_pending_ = false;
  bool open_ = false;
};

ws_client::ws_client(std::chrono::milliseconds timeout) : impl_(std::make_unique<impl>(timeout)) {}

ws_client::~ws_client() = default;

handshake_result ws_client::connect(const connect_options& options) { return impl_->connect(options); }

bool ws_client::send_text(std::string_view text) { return impl_->send(text, false); }

bool ws_client::send_binary(std::string_view data) { return impl_->send(data, true); }

bool ws_client::send_frames(std::string_view data, std::size_t frame_bytes, bool binary) {
  return impl_->send_frames(data, frame_bytes, binary);
}

bool ws_client::ping() { return impl_->ping(); }

ws_message ws_client::read() { return impl_->read(impl_->timeout_); }

ws_message ws_client::read(std::chrono::milliseconds timeout) { return impl_->read(timeout); }

ws_message ws_client::close(int code, std::string_view reason) {
  websocket::close_reason cr(static_cast<websocket::close_code>(code),
                             beast::string_view(reason.data(), reason.size()));
  return impl_->close(cr);
}

ws_message ws_client::close_without_status() { return impl_->close(websocket::close_reason{}); }

void ws_client::drop() {
  impl_->abort_and_drain([this] { return !impl_->read_pending_; });
}

bool ws_client::is_open() const { return impl_->open_; }

}  // namespace apigw::test_support
