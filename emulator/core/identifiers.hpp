// Identifiers and timestamps in API Gateway's formats.
// Thread-safety: all functions are safe from any thread (the generator is thread-local).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace apigw::emulator {

// A connection, request or message id as AWS prints them: base64url of 11 random bytes with one
// '=' of padding, 16 characters, e.g. "TXzPWdnOjoECGjA=".
std::string new_identifier();

std::int64_t epoch_millis(std::chrono::system_clock::time_point t);

// requestTime: "17/Jan/2024:15:14:00 +0000".
std::string request_time(std::chrono::system_clock::time_point t);

// The management API's timestamps: "2022-01-25T18:50:04.673Z".
std::string iso8601_millis(std::chrono::system_clock::time_point t);

}  // namespace apigw::emulator
