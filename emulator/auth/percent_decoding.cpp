#include "emulator/auth/percent_decoding.hpp"

namespace apigw::emulator {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the decoded text to OUT; false at the first malformed escape when STRICT.
bool decode(std::string_view s, bool strict, std::string& out) {
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
      if (strict) return false;
    }
    out.push_back(s[i]);
  }
  return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  if (!decode(text, true, out)) return std::nullopt;
  return out;
}

std::string percent_decode_lenient(std::string_view text) {
  std::string out;
  decode(text, false, out);
  return out;
}

void for_each_query_parameter(std::string_view query,
                              const std::function<void(const std::string& name, const std::string& value)>& f) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    f(percent_decode_lenient(pair.substr(0, eq)),
      eq == std::string_view::npos ? std::string() : percent_decode_lenient(pair.substr(eq + 1)));
  }
}

}  // namespace apigw::emulator
