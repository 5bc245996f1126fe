// Percent-decoding of URL parts (RFC 3986 2.1): query strings for the $connect event, path
// segments for the management API.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace apigw::emulator {

// Decodes every %XX; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

// Decodes every %XX and keeps a malformed escape as it was sent (API Gateway is lenient with
// query strings).
std::string percent_decode_lenient(std::string_view text);

}  // namespace apigw::emulator
