// A live client connection as the rest of the emulator sees it: something to send frames to
// and to close, without knowing about sockets.
// Thread-safety: every member may be called from any thread; sends and closes are queued on the
// connection's own I/O thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "emulator/auth/connection_info.hpp"

namespace apigw::emulator {

class connection {
 public:
  virtual ~connection() = default;

  virtual const connection_info& info() const = 0;

  // True once $connect has succeeded and the 101 was sent; false before, and from the moment a
  // close was asked for.
  virtual bool is_open() const = 0;

  // When the last data frame went either way (or the connection opened).
  virtual std::chrono::system_clock::time_point last_active() const = 0;

  // Queues a text frame (binary when BINARY); frames above the frame limit go out fragmented.
  virtual void send(std::string data, bool binary) = 0;

  // Sends a close frame with CODE and REASON; $disconnect reports the same.
  virtual void close(int code, std::string reason) = 0;
};

}  // namespace apigw::emulator
