// The end-to-end tests' view of apigw::client (include/apigw/client.hpp): a connection named by
// host, port and target, the handshake's outcome as one value, and a default timeout per client
// for every operation and read. Every call forwards to apigw::client; there is no WebSocket code
// here.
// Thread-safety: one instance per thread, as apigw::client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apigw/client.hpp"
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

// The server's answer (status, headers, body, subprotocol, header(name)) and the outcome.
struct handshake_result : handshake_response {
  bool upgraded = false;  // 101 and a valid WebSocket handshake
  std::string error;      // why the handshake failed
};

using ws_message = frame;

class ws_client {
 public:
  explicit ws_client(std::chrono::milliseconds timeout = std::chrono::seconds(5)) : timeout_(timeout) {}

  // Connects and performs the upgrade. One connection per client.
  handshake_result connect(const connect_options& o) {
    client_options options;
    options.headers = o.headers;
    options.subprotocols = o.subprotocols;
    options.timeout = timeout_;
    options.target = o.target;
    options.host_header = o.host_header;
    handshake_result r;
    r.error = client_.connect("ws://" + o.host + ":" + std::to_string(o.port), options);
    static_cast<handshake_response&>(r) = client_.handshake();
    r.upgraded = r.error.empty();
    return r;
  }

  // Each sends one message as ONE frame (no fragmentation); false on failure or timeout.
  bool send_text(std::string_view text) { return client_.send(text); }
  bool send_binary(std::string_view data) { return client_.send_binary(data); }
  // Sends one message as consecutive frames of at most FRAME_BYTES bytes each.
  bool send_frames(std::string_view data, std::size_t frame_bytes, bool binary = false) {
    return client_.send_frames(data, frame_bytes, binary);
  }
  bool ping() { return client_.ping(); }

  // The next message, the server's close (code and reason), a timeout, or an error. A read
  // that times out stays pending: the next read() continues it.
  ws_message read() { return client_.receive(timeout_); }
  ws_message read(std::chrono::milliseconds timeout) { return client_.receive(timeout); }

  // Sends a close frame with CODE and REASON and waits for the server's close frame, which it
  // returns (or a timeout/error). Messages that arrive meanwhile are discarded.
  ws_message close(int code, std::string_view reason = "") { return client_.close(code, reason); }
  // The same with an empty close frame (no status code).
  ws_message close_without_status() { return client_.close_without_status(); }

  // Closes the TCP connection without a close frame.
  void drop() { client_.drop(); }

  bool is_open() const { return client_.is_open(); }

 private:
  std::chrono::milliseconds timeout_;
  client client_;
};

// A connection that offered SUBPROTOCOLS and got RESULT would be accepted by a browser
// (RFC 6455 4.1): no subprotocol back when none was offered, else one of those offered.
inline bool browser_accepts(const handshake_result& result, const std::vector<std::string>& subprotocols) {
  if (!result.upgraded) return false;
  if (!result.subprotocol) return subprotocols.empty();
  for (const auto& p : subprotocols) {
    if (p == *result.subprotocol) return true;
  }
  return false;
}

}  // namespace apigw::test_support
