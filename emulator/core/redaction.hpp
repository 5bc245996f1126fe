// Masks secrets in text the emulator prints (the routing trace, access logs, the functions' log
// streams): the values of Authorization and Cookie headers, X-Amz-Signature and
// X-Amz-Security-Token, x-api-key, secret keys, passwords and tokens, written as a query
// parameter (name=value), an HTTP header (Name: value) or a JSON member ("name":"value", also
// inside an escaped JSON string). A value of 16 characters or more keeps its first 4 (enough to
// tell two keys apart); the rest becomes "****".
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace apigw::emulator {

namespace redaction_detail {

inline char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Parts of names whose values are secret, lower case. "signature" covers X-Amz-Signature and
// SigV4's Signature=; "token" covers X-Amz-Security-Token, access_token and the like.
inline constexpr std::array<std::string_view, 8> kSecretNameParts = {
    "authorization", "signature", "token", "api-key", "apikey", "secret", "password", "cookie"};

// The first letters of those parts, and the length of the shortest: most text is ruled out
// character by character without comparing it with each part.
inline constexpr std::array<bool, 256> kSecretFirstLetter = [] {
  std::array<bool, 256> first{};
  for (const auto part : kSecretNameParts) first[static_cast<unsigned char>(part[0])] = true;
  return first;
}();
inline constexpr std::size_t kShortestSecretPart = [] {
  std::size_t shortest = kSecretNameParts[0].size();
  for (const auto part : kSecretNameParts) shortest = part.size() < shortest ? part.size() : shortest;
  return shortest;
}();

// The length of the secret name part starting at TEXT[I], or 0.
inline std::size_t secret_part_at(std::string_view text, std::size_t i) {
  if (!kSecretFirstLetter[static_cast<unsigned char>(lower(text[i]))]) return 0;
  for (const auto part : kSecretNameParts) {
    if (text.size() - i < part.size() || lower(text[i]) != part[0]) continue;
    std::size_t k = 1;
    while (k < part.size() && lower(text[i + k]) == part[k]) ++k;
    if (k == part.size()) return k;
  }
  return 0;
}

}  // namespace redaction_detail

// True when TEXT names something secret (cheap: callers skip redact_secrets() when false).
inline bool may_hold_secret(std::string_view text) {
  if (text.size() < redaction_detail::kShortestSecretPart) return false;
  for (std::size_t i = 0; i + redaction_detail::kShortestSecretPart <= text.size(); ++i) {
    if (redaction_detail::secret_part_at(text, i)) return true;
  }
  return false;
}

// TEXT with the value of every secret name masked.
inline std::string redact_secrets(std::string_view text) {
  using namespace redaction_detail;
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;  // TEXT before this is in OUT
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t part = secret_part_at(text, i);
    if (part == 0) {
      ++i;
      continue;
    }
    // The rest of the name, then a separator: '=', ':' (a header), '":"' or '\":\"' (JSON).
    std::size_t j = i + part;
    while (j < text.size() && key_char(text[j])) ++j;
    std::string_view stop;  // characters that end the value
    const std::string_view rest = text.substr(j);
    std::size_t value_at = std::string_view::npos;
    if (rest.starts_with("\\\":")) {
      value_at = j + 3;
      while (value_at < text.size() && text[value_at] == ' ') ++value_at;
      if (text.substr(value_at).starts_with("\\\"")) {
        value_at += 2;
        stop = "\\\"";
      } else {
        value_at = std::string_view::npos;
      }
    } else if (rest.starts_with("\":")) {
      value_at = j + 2;
      while (value_at < text.size() && text[value_at] == ' ') ++value_at;
      if (value_at < text.size() && text[value_at] == '"') {
        ++value_at;
        stop = "\"\\";
      } else {
        value_at = std::string_view::npos;
      }
    } else if (rest.starts_with("=")) {
      value_at = j + 1;
      stop = "&\"' \t\r\n,;)\\";
    } else if (rest.starts_with(":")) {
      value_at = j + 1;
      while (value_at < text.size() && text[value_at] == ' ') ++value_at;
      stop = "\"\r\n\\";
    }
    if (value_at == std::string_view::npos) {
      i = j;
      continue;
    }
    std::size_t end = value_at;
    while (end < text.size() && stop.find(text[end]) == std::string_view::npos) ++end;
    const std::size_t length = end - value_at;
    if (length > 0) {
      out.append(text.substr(copied, value_at - copied));
      if (length >= 16) out.append(text.substr(value_at, 4));
      out.append("****");
      copied = end;
    }
    i = end > j ? end : j;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace apigw::emulator
