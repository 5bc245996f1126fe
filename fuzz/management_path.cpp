// libFuzzer target: the @connections management API's request handling without sockets
// (management_api::is_management_target and handle_http: the path parser, the stage check, the
// connection id's percent-decoding) and the percent-decoding functions themselves.
// Input: "METHOD TARGET", a newline, then the body.
// Checks beyond "no crash": strict decoding, when it succeeds, agrees with lenient decoding;
// every byte string percent-encodes and decodes back to itself; answers have an HTTP status.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "config/api_config.hpp"
#include "emulator/core/connection_registry.hpp"
#include "emulator/core/management_api.hpp"
#include "emulator/auth/percent_decoding.hpp"

namespace {

using namespace apigw::emulator;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "management_path fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

std::string percent_encode_all(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += '%';
    out += hex[u >> 4];
    out += hex[u & 0xF];
  }
  return out;
}

void check_decoding(std::string_view text) {
  const std::optional<std::string> strict = percent_decode(text);
  const std::string lenient = percent_decode_lenient(text);
  if (strict && *strict != lenient) fail("strict and lenient decoding differ", text);
  if (lenient.size() > text.size()) fail("decoding made the text longer", text);
  const auto round_trip = percent_decode(percent_encode_all(text));
  if (!round_trip || *round_trip != text) fail("encoding then decoding changed the text", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static connection_registry registry;
  static const apigw::config::api_spec api = [] {
    apigw::config::api_spec a;
    a.stage.name = "Prod";
    return a;
  }();
  static management_api management(registry, api);

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view line = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  const std::size_t space = line.find(' ');
  const std::string_view method = space == std::string_view::npos ? "GET" : line.substr(0, space);
  const std::string_view target = space == std::string_view::npos ? line : line.substr(space + 1);

  check_decoding(target);
  if (!management_api::is_management_target(target)) return 0;
  const http_answer answer = management.handle_http(method, target, body);
  if (answer.status < 100 || answer.status > 599) fail("an answer without an HTTP status", target);
  return 0;
}
