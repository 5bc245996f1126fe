// Identifiers and timestamps in API Gateway's formats.
// Thread-safety: all functions are safe from any thread (the generator is thread-local).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "emulator/auth/connection_info.hpp"

namespace apigw::emulator {

// A connection, request or message id as AWS prints them: base64url of 11 random bytes with one
// '=' of padding, kIdentifierLength characters, e.g. "TXzPWdnOjoECGjA=". Held in place, not in a
// std::string (which keeps 15 characters without the heap).
identifier new_identifier();

// An AWS service request id, as x-amzn-RequestId carries it on @connections answers: a random
// (version 4) UUID, "6f2b1f3e-8a9c-4d1e-9b7a-0c5d2e4f6a8b".
std::string new_request_uuid();

// DynamoDB's x-amzn-RequestId: 52 characters of A-Z and 0-9,
// "DJN223PHEHGMMCRCL1A96L426BVV4KQNSO5AEMVJF66Q9ASUAAJG".
std::string new_dynamodb_request_id();

std::int64_t epoch_millis(std::chrono::system_clock::time_point t);

// requestTime: "17/Jan/2024:15:14:00 +0000". The text is this thread's own, valid until its next
// call: every event carries it, and copying it into a string for each would cost an allocation.
const std::string& request_time(std::chrono::system_clock::time_point t);

// The management API's timestamps: "2022-01-25T18:50:04.673Z".
std::string iso8601_millis(std::chrono::system_clock::time_point t);

}  // namespace apigw::emulator
