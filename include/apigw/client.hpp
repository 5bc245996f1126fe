// A WebSocket client for tests and tools: connect to the emulator (or any server), send text or
// binary messages (whole or as several frames), ping, receive frames with a timeout, close with
// or without a status, or drop the connection. The handshake's answer is kept whole (status,
// fields, body, subprotocol). Synchronous; the network runs only inside its calls.
// Thread-safety: one client per thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apigw/export.hpp"

namespace apigw {

struct client_options {
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields of the upgrade request
  std::vector<std::string> subprotocols;                     // offered in Sec-WebSocket-Protocol
  std::chrono::milliseconds timeout = std::chrono::seconds(5);  // connect, handshake, send, close
  std::string target;                      // the request target ("/dev?a=1"); "": the URL's
  std::optional<std::string> host_header;  // the Host field; default: the URL's "HOST:PORT"
};

// The server's answer to the upgrade request. Thread-safety: a plain value.
struct APIGW_EXPORT handshake_response {
  int status = 0;  // 101 once upgraded; a refusal's status; 0: no complete answer arrived
  std::vector<std::pair<std::string, std::string>> headers;  // its fields, in the order received
  std::string body;                                          // a refusal's body
  std::optional<std::string> subprotocol;  // the 101's Sec-WebSocket-Protocol, when it has one

  // The first field named NAME (any case), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

// One thing the client received.
struct frame {
  enum class kind { text, binary, close, timeout, error };
  kind type = kind::error;
  std::string data;    // text/binary: the payload; close: the reason; error: what happened
  int close_code = 0;  // close: the code, 1005 when the close frame carried none

  bool is_text(std::string_view payload) const { return type == kind::text && data == payload; }
  bool is_close(int code, std::string_view reason) const {
    return type == kind::close && close_code == code && data == reason;
  }
};

// "text frame \"...\"", "binary frame \"...\"", "close 1000 \"...\"", ...: payloads with
// unprintable bytes escaped and cut after 200 bytes.
APIGW_EXPORT std::ostream& operator<<(std::ostream& os, const frame& f);

class APIGW_EXPORT client {
 public:
  client();
  ~client();
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Connects to URL ("ws://HOST:PORT/PATH?QUERY") and upgrades. Returns "" when upgraded, else
  // why not; a refused $connect answers "handshake refused with status 403" and handshake_status().
  // OPTIONS.target and OPTIONS.host_header, when set, replace the URL's path and Host field.
  // A client connects once: after an upgrade request, connect() refuses (use a new client).
  std::string connect(std::string_view url, const client_options& options = {});
  int handshake_status() const;       // 101 once upgraded; the refusal's status; 0: no answer
  std::string handshake_body() const;  // the refusal's body
  // The whole answer to the upgrade request (empty before connect()).
  const handshake_response& handshake() const;

  // Each sends one message as ONE frame (the client never fragments on its own); false when
  // not connected or the send failed or timed out.
  bool send(std::string_view text);
  bool send_binary(std::string_view data);
  // Sends one message as consecutive frames of at most FRAME_BYTES bytes each (a text message
  // unless BINARY); false when FRAME_BYTES is 0 or a frame could not be sent.
  bool send_frames(std::string_view data, std::size_t frame_bytes, bool binary = false);
  // Sends a ping with no payload (the server's pong is not reported); false on failure.
  bool ping();

  // The next message, the server's close, a timeout or an error. A receive that times out
  // leaves the read pending: the next receive() continues it.
  frame receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends a close frame and waits for the server's; returns it (or a timeout/error). Messages
  // that arrive meanwhile are discarded.
  frame close(int code = 1000, std::string_view reason = "");
  // The same with an empty close frame (no status code).
  frame close_without_status();

  // Closes the TCP connection without a close frame. A read left pending by a timed-out
  // receive() ends with an error, which the next receive() returns.
  void drop();

  bool is_open() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw
