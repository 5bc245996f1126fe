// Percent-decoding of URL parts (RFC 3986 2.1) and the one splitter of query strings: for the
// $connect event, identity sources, SigV4 and the admin endpoints; path segments for the
// management API.
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace apigw::emulator {

// Decodes every %XX; nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text);

// Decodes every %XX and keeps a malformed escape as it was sent (API Gateway is lenient with
// query strings).
std::string percent_decode_lenient(std::string_view text);

// Calls F(name, value) for each NAME=VALUE of QUERY (without the '?'), in order, both decoded
// leniently; a parameter without '=' has an empty value, empty parameters are skipped.
void for_each_query_parameter(std::string_view query,
                              const std::function<void(const std::string& name, const std::string& value)>& f);

}  // namespace apigw::emulator
