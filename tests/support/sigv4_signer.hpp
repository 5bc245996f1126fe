// AWS Signature Version 4, computed the way the AWS SDKs sign, for tests: a presigned request
// target (the WebSocket URL form) or the X-Amz-Date and Authorization headers. Written apart from
// the emulator's verifier, so that tests check it against an independent signer.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/header_list.hpp"

namespace apigw::test_support {

struct sigv4_key {
  std::string access_key_id;
  std::string secret_access_key;
};

struct sigv4_request {
  std::string method = "GET";
  std::string path = "/";                                   // as sent, e.g. "/dev"
  std::vector<std::pair<std::string, std::string>> query;   // decoded names and values
  std::string host;                                         // the Host header, e.g. "127.0.0.1:8080"
  header_list headers;                                      // more headers to sign, as sent
  std::string body;
  std::string region = "us-east-1";
  std::string service = "execute-api";
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
};

// "PATH?QUERY" with REQUEST's query plus X-Amz-Algorithm, -Credential, -Date, -Expires,
// -SignedHeaders (host and REQUEST's headers) and -Signature.
std::string presigned_target(const sigv4_request& request, const sigv4_key& key,
                             std::chrono::seconds expires = std::chrono::seconds(300));

// The headers that sign REQUEST: X-Amz-Date and Authorization (Host and REQUEST's headers signed).
header_list signature_headers(const sigv4_request& request, const sigv4_key& key);

// "PATH?QUERY" of REQUEST without a signature, its query percent-encoded as SigV4 encodes it.
std::string plain_target(const sigv4_request& request);

}  // namespace apigw::test_support
