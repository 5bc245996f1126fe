#include "emulator/auth/aws_dates.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace apigw::emulator {
namespace {

std::optional<std::chrono::system_clock::time_point> make_time(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{mo}, std::chrono::day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

}  // namespace

std::optional<int> digits_value(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// "20150830T123600Z" (ISO 8601 basic format, UTC).
std::optional<std::chrono::system_clock::time_point> parse_basic_iso8601(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  const auto y = digits_value(s.substr(0, 4));
  const auto mo = digits_value(s.substr(4, 2));
  const auto d = digits_value(s.substr(6, 2));
  const auto h = digits_value(s.substr(9, 2));
  const auto mi = digits_value(s.substr(11, 2));
  const auto sec = digits_value(s.substr(13, 2));
  if (!y || !mo || !d || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d), *h, *mi, *sec);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110's IMF-fixdate), for requests dated by Date.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  const auto month = std::find(std::begin(months), std::end(months), s.substr(8, 3));
  if (month == std::end(months)) return std::nullopt;
  const auto d = digits_value(s.substr(5, 2));
  const auto y = digits_value(s.substr(12, 4));
  const auto h = digits_value(s.substr(17, 2));
  const auto mi = digits_value(s.substr(20, 2));
  const auto sec = digits_value(s.substr(23, 2));
  if (!y || !d || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, static_cast<unsigned>(month - std::begin(months) + 1), static_cast<unsigned>(*d), *h, *mi,
                   *sec);
}

std::string basic_iso8601(std::chrono::system_clock::time_point t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace apigw::emulator
