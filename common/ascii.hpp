// Case-insensitive comparison of ASCII text, as HTTP field names and DynamoDB keywords compare:
// the one iequals of the emulator's own code. Locale-free (a std::locale per call would cost
// more than the comparison).
// Thread-safety: a pure function.
#pragma once

#include <string_view>

namespace apigw {

constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace apigw
