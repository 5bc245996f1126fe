#include "emulator/core/identifiers.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string_view>

namespace apigw::emulator {

namespace {

// Identifiers need to be unique and unguessable enough for a local emulator, not secret: a
// per-thread generator seeded from the OS keeps them off any lock. Its state is seeded whole (not
// from one 32-bit number), so that no two threads or processes are likely to draw alike.
template <class Engine>
Engine& seeded_engine() {
  thread_local Engine g = [] {
    std::random_device os;
    std::seed_seq seed{os(), os(), os(), os(), os(), os(), os(), os()};
    return Engine(seed);
  }();
  return g;
}

std::mt19937_64& generator() { return seeded_engine<std::mt19937_64>(); }

// The ids of every message and connection come from a subtract-with-carry engine: 48 bits a
// draw for about half of what a 64-bit Mersenne twister's draw costs. Its outputs are known to
// fail statistical tests that a simulation would care about; an id only needs to be new.
std::ranlux48_base& id_generator() { return seeded_engine<std::ranlux48_base>(); }

}  // namespace

std::string new_request_uuid() {
  const std::uint64_t a = generator()();
  const std::uint64_t b = generator()();
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

std::string new_dynamodb_request_id() {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id(52, ' ');
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i % 12 == 0) bits = generator()();  // 36^12 < 2^64: twelve characters a draw
    id[i] = alphabet[bits % alphabet.size()];
    bits /= alphabet.size();
  }
  return id;
}

namespace {

// Base64url's characters two at a time: entry N is the characters of N's low and high 6 bits.
constexpr auto kCharacterPairs = [] {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<std::array<char, 2>, 4096> pairs{};
  for (std::size_t n = 0; n < pairs.size(); ++n) pairs[n] = {alphabet[n & 63], alphabet[n >> 6]};
  return pairs;
}();

}  // namespace

identifier new_identifier() {
  // Base64url of 11 random bytes is 88 random bits in 15 characters and one '=': fourteen
  // characters of 6 bits and a fifteenth of 4 (its two low bits are the padding's zeros). The
  // characters are drawn from two 48-bit draws directly, two at a time (12 bits): eight from the
  // first, six and the fifteenth from the second; no bytes are made to be encoded.
  auto& g = id_generator();
  static_assert(std::ranlux48_base::word_size == 48);
  std::uint64_t a = g();
  std::uint64_t b = g();
  static_assert(kIdentifierLength == 16);
  std::array<char, kIdentifierLength> id;
  for (std::size_t i = 0; i < 8; i += 2, a >>= 12) std::memcpy(&id[i], kCharacterPairs[a & 4095].data(), 2);
  for (std::size_t i = 8; i < 14; i += 2, b >>= 12) std::memcpy(&id[i], kCharacterPairs[b & 4095].data(), 2);
  id[14] = kCharacterPairs[(b & 15) << 2][0];
  id[15] = '=';
  return identifier(std::string_view(id.data(), id.size()));
}

std::int64_t epoch_millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

namespace {

std::tm utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  return parts;
}

}  // namespace

const std::string& request_time(std::chrono::system_clock::time_point t) {
  // Every event carries it, and it changes once a second: each thread formats it once a second.
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached_text;
  const std::time_t second = std::chrono::system_clock::to_time_t(t);
  if (second == cached_second) return cached_text;
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::tm p = utc(t);
  char text[64];
  std::snprintf(text, sizeof text, "%02d/%s/%04d:%02d:%02d:%02d +0000", p.tm_mday, months[p.tm_mon],
                p.tm_year + 1900, p.tm_hour, p.tm_min, p.tm_sec);
  cached_second = second;
  cached_text = text;
  return cached_text;
}

std::string iso8601_millis(std::chrono::system_clock::time_point t) {
  // The trace stamps every event: each thread formats the date and time once a second and only
  // appends the milliseconds.
  thread_local std::time_t cached_second = -1;
  thread_local char cached_prefix[64];  // "2022-01-25T18:50:04." (room for any int the format allows)
  const std::time_t second = std::chrono::system_clock::to_time_t(t);
  if (second != cached_second) {
    const std::tm p = utc(t);
    std::snprintf(cached_prefix, sizeof cached_prefix, "%04d-%02d-%02dT%02d:%02d:%02d.", p.tm_year + 1900,
                  p.tm_mon + 1, p.tm_mday, p.tm_hour, p.tm_min, p.tm_sec);
    cached_second = second;
  }
  const auto millis = static_cast<int>(((epoch_millis(t) % 1000) + 1000) % 1000);
  std::string text(cached_prefix);
  text += static_cast<char>('0' + millis / 100);
  text += static_cast<char>('0' + millis / 10 % 10);
  text += static_cast<char>('0' + millis % 10);
  text += 'Z';
  return text;
}

}  // namespace apigw::emulator
