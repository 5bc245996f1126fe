#include "tests/support/ws_frame.hpp"

namespace apigw::test_support {

std::string masked_frame(ws_opcode opcode, std::string_view payload, bool fin, std::uint32_t mask) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode)));
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
    }
  }
  const unsigned char key[4] = {
      static_cast<unsigned char>((mask >> 24) & 0xFF), static_cast<unsigned char>((mask >> 16) & 0xFF),
      static_cast<unsigned char>((mask >> 8) & 0xFF), static_cast<unsigned char>(mask & 0xFF)};
  for (unsigned char k : key) out.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]));
  }
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>((code >> 8) & 0xFF));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

int ws_frame::close_code() const {
  if (payload.size() < 2) return 1005;
  return (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
}

std::string ws_frame::close_reason() const {
  return payload.size() > 2 ? payload.substr(2) : std::string();
}

std::optional<ws_frame> parse_frame(std::string_view bytes, std::size_t& consumed) {
  if (bytes.size() < 2) return std::nullopt;
  const auto b0 = static_cast<unsigned char>(bytes[0]);
  const auto b1 = static_cast<unsigned char>(bytes[1]);
  ws_frame f;
  f.fin = (b0 & 0x80) != 0;
  f.opcode = static_cast<ws_opcode>(b0 & 0x0F);
  f.masked = (b1 & 0x80) != 0;
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (bytes.size() < 4) return std::nullopt;
    len = (static_cast<unsigned char>(bytes[2]) << 8) | static_cast<unsigned char>(bytes[3]);
    pos = 4;
  } else if (len == 127) {
    if (bytes.size() < 10) return std::nullopt;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<unsigned char>(bytes[i]);
    pos = 10;
  }
  unsigned char key[4] = {0, 0, 0, 0};
  if (f.masked) {
    if (bytes.size() < pos + 4) return std::nullopt;
    for (int i = 0; i < 4; ++i) key[i] = static_cast<unsigned char>(bytes[pos + i]);
    pos += 4;
  }
  if (bytes.size() - pos < len) return std::nullopt;
  f.payload.assign(bytes.substr(pos, static_cast<std::size_t>(len)));
  if (f.masked) {
    for (std::size_t i = 0; i < f.payload.size(); ++i) {
      f.payload[i] = static_cast<char>(static_cast<unsigned char>(f.payload[i]) ^ key[i % 4]);
    }
  }
  consumed = pos + static_cast<std::size_t>(len);
  return f;
}

}  // namespace apigw::test_support
