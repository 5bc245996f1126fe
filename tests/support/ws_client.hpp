// A synchronous WebSocket client for end-to-end tests: every operation has a timeout, reads that
// time out stay pending (the stream stays usable), and the handshake outcome is reported whole.
// Thread-safety: one instance per thread. Boost.Beast stays behind the pimpl (ws_client.cpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/header_list.hpp"

namespace apigw::test_support {

struct connect_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string target = "/";                // path and query, e.g. "/dev?a=1"
  std::optional<std::string> host_header;  // the Host field; default "HOST:PORT"
  header_list headers;                     // extra request fields (User-Agent is not sent unless here)
  std::vector<std::string> subprotocols;   // offered in Sec-WebSocket-Protocol
};

struct handshake_result {
  bool upgraded = false;                   // 101 and a valid WebSocket handshake
  int status = 0;                          // HTTP status; 0 when no response arrived
  header_list headers;                     // the response's fields
  std::string body;                        // the response body (when the upgrade was refused)
  std::optional<std::string> subprotocol;  // the 101's Sec-WebSocket-Protocol, if any
  std::string error;                       // why the handshake failed

  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

struct ws_message {
  enum class kind { text, binary, close, timeout, error };
  kind type = kind::error;
  std::string data;    // text/binary: the payload; close: the reason; error: what happened
  int close_code = 0;  // close: the code, 1005 when the close frame carried none

  bool is_text(std::string_view payload) const { return type == kind::text && data == payload; }
  bool is_close(int code, std::string_view reason) const {
    return type == kind::close && close_code == code && data == reason;
  }
};

std::ostream& operator<<(std::ostream& os, const ws_message& m);

class ws_client {
 public:
  explicit ws_client(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Connects and performs the upgrade. One connection per client.
  handshake_result connect(const connect_options& options);

  // Each sends one message as ONE frame (no fragmentation); false on failure or timeout.
  bool send_text(std::string_view text);
  bool send_binary(std::string_view data);
  // Sends one message as consecutive frames of at most FRAME_BYTES bytes each.
  bool send_frames(std::string_view data, std::size_t frame_bytes, bool binary = false);
  bool ping();

  // The next message, the server's close (code and reason), a timeout, or an error. A read
  // that times out stays pending: the next read() continues it.
  ws_message read();
  ws_message read(std::chrono::milliseconds timeout);

  // Sends a close frame with CODE and REASON and waits for the server's close frame, which it
  // returns (or a timeout/error). Messages that arrive meanwhile are discarded.
  ws_message close(int code, std::string_view reason = "");
  // The same with an empty close frame (no status code).
  ws_message close_without_status();

  // Closes the TCP connection without a close frame.
  void drop();

  bool is_open() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

// A connection that offered SUBPROTOCOLS and got RESULT would be accepted by a browser
// (RFC 6455 4.1): no subprotocol back when none was offered, else one of those offered.
bool browser_accepts(const handshake_result& result, const std::vector<std::string>& subprotocols);

}  // namespace apigw::test_support
