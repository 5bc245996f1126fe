// AWS Signature Version 4 verification for service "execute-api": the Authorization header form
// and the presigned query form (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Expires), with AWS's 5-minute clock skew.
// Hashing and HMAC use OpenSSL. Messages never contain a secret key or a full signature.
// Thread-safety: free functions without shared state; safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/api_config.hpp"

namespace apigw::emulator::sigv4 {

// One HTTP request as it arrived.
struct request_view {
  std::string_view method;   // "GET", "POST", ...
  std::string_view target;   // the request target as on the wire: path and raw query
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received
  std::string_view body;     // the payload (empty for a handshake)
};

struct verdict {
  // The credential that signed the request; null when the signature does not verify.
  const config::credential_spec* signer = nullptr;
  // Why it did not verify (for the trace and the 403 body): no secret, no full signature.
  std::string error;

  bool ok() const { return signer != nullptr; }
};

// Verifies REQUEST's signature against CREDENTIALS for region REGION and service "execute-api".
verdict verify(const request_view& request, std::span<const config::credential_spec> credentials,
               std::string_view region, std::chrono::system_clock::time_point now);

}  // namespace apigw::emulator::sigv4
