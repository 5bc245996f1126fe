// The dates and numbers SigV4 reads and writes: X-Amz-Date's ISO 8601 basic format, HTTP's Date,
// X-Amz-Expires.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace apigw::emulator {

// The value of the decimal digits S; nullopt when S is empty or has anything but digits.
std::optional<int> digits_value(std::string_view s);

// "20150830T123600Z" (ISO 8601 basic format, UTC); nullopt when S is not one.
std::optional<std::chrono::system_clock::time_point> parse_basic_iso8601(std::string_view s);
// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110's IMF-fixdate); nullopt when S is not one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);
// T as "20150830T123600Z".
std::string basic_iso8601(std::chrono::system_clock::time_point t);

}  // namespace apigw::emulator
