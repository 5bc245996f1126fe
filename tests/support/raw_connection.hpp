// A plain TCP client that sends arbitrary bytes and reads raw answers (an HTTP response, server
// WebSocket frames, the peer closing) with a timeout: for hostile-client and plain-HTTP tests.
// Thread-safety: one instance per thread; no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/header_list.hpp"
#include "tests/support/ws_frame.hpp"

namespace apigw::test_support {

struct http_response {
  bool complete = false;      // a whole response (head, and body per Content-Length) arrived
  bool peer_closed = false;   // the server closed (or reset) the connection
  int status = 0;             // 0 when no status line arrived
  std::string reason;
  header_list headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

class raw_connection {
 public:
  explicit raw_connection(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  // Connects to HOST (an IPv4 address) and PORT. False on failure or timeout.
  bool connect(const std::string& host, std::uint16_t port);

  // Sends every byte. False when the peer closed, reset, or the timeout passed.
  bool send(std::string_view bytes);

  // Reads one HTTP response: the head, then a Content-Length body (or the bytes until the peer
  // closes when there is no Content-Length and the status is not 101, 204 or 304, which have no
  // body). Bytes after it stay buffered for read_frame().
  http_response read_http_response();

  // Reads one server WebSocket frame; nullopt on timeout or when the peer closed first.
  std::optional<ws_frame> read_frame();

  // True when the peer closes (EOF or reset) within TIMEOUT; anything received is discarded.
  bool wait_for_close(std::chrono::milliseconds timeout);

  // True while the peer has neither closed nor reset (checked without blocking).
  bool peer_open();

  void close();

 private:
  // Appends what arrives before DEADLINE to buffer_. False on timeout; sets eof_ on close.
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  bool eof_ = false;
};

// An HTTP/1.1 WebSocket upgrade request with a fixed key, ready to send on a raw_connection.
std::string upgrade_request(std::string_view target, std::string_view host,
                            std::string_view extra_headers = "");

// An HTTP/1.1 request: METHOD TARGET, a Host field, EXTRA_HEADERS ("Name: value\r\n" lines), and
// BODY with its Content-Length (sent for every method but GET and HEAD, and for those too when
// BODY is not empty).
std::string http_request(std::string_view method, std::string_view target, std::string_view host,
                         std::string_view body = "", std::string_view extra_headers = "");

// Connects to 127.0.0.1:PORT, sends one http_request() and reads the response (status 0 when
// none arrived in TIMEOUT).
http_response http_call(std::uint16_t port, std::string_view method, std::string_view target,
                        std::string_view body = "", std::string_view extra_headers = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace apigw::test_support
