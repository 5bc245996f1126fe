// A WebSocket client for tests and tools: connect to the emulator (or any server), send text,
// receive frames with a timeout, close. Synchronous; the network runs only inside its calls.
// Thread-safety: one client per thread at a time.
#pragma once

#include <chrono>
#include <memory>
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
};

// One thing the client received.
struct frame {
  enum class kind { text, binary, close, timeout, error };
  kind type = kind::error;
  std::string data;    // text/binary: the payload; close: the reason; error: what happened
  int close_code = 0;  // close: the code, 1005 when the close frame carried none

  bool is_text(std::string_view payload) const { return type == kind::text && data == payload; }
};

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
  std::string connect(std::string_view url, const client_options& options = {});
  int handshake_status() const;       // 101 once upgraded; the refusal's status; 0: no answer
  std::string handshake_body() const;  // the refusal's body

  // One text message as one frame; false when not connected or the send failed.
  bool send(std::string_view text);

  // The next message, the server's close, a timeout or an error. A receive that times out
  // leaves the read pending: the next receive() continues it.
  frame receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Sends a close frame and waits for the server's; returns it (or a timeout/error).
  frame close(int code = 1000, std::string_view reason = "");

  bool is_open() const;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace apigw
