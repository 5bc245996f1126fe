// WebSocket frames as raw bytes (RFC 6455 section 5.2), for tests that must put exactly chosen
// bytes on the wire (invalid UTF-8, odd close frames) and read what the server answers.
// Thread-safety: free functions and plain values; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apigw::test_support {

enum class ws_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// A client frame: masked, as RFC 6455 requires of every client-to-server frame.
std::string masked_frame(ws_opcode opcode, std::string_view payload, bool fin = true,
                         std::uint32_t mask = 0x37fa213d);

// The payload of a close frame: the status code (big endian) followed by the reason.
std::string close_payload(std::uint16_t code, std::string_view reason);

// A frame sent by the server (servers never mask).
struct ws_frame {
  bool fin = false;
  ws_opcode opcode = ws_opcode::continuation;
  bool masked = false;
  std::string payload;  // unmasked

  // For close frames: the status code, or 1005 when the payload carries none.
  int close_code() const;
  // For close frames: the reason text (empty when none).
  std::string close_reason() const;
};

// Parses one frame from the front of BYTES. Returns the frame and sets CONSUMED to its size,
// or nullopt when BYTES does not yet hold a whole frame.
std::optional<ws_frame> parse_frame(std::string_view bytes, std::size_t& consumed);

}  // namespace apigw::test_support
