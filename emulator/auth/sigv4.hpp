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
  // AWS's error type for ERROR, the x-amzn-ErrorType of its 403: MissingAuthenticationTokenException,
  // IncompleteSignatureException, InvalidSignatureException or UnrecognizedClientException.
  std::string error_type;

  bool ok() const { return signer != nullptr; }
};

// Verifies REQUEST's signature against CREDENTIALS for region REGION and service "execute-api".
verdict verify(const request_view& request, std::span<const config::credential_spec> credentials,
               std::string_view region, std::chrono::system_clock::time_point now);

// The steps of the algorithm, exposed for tests (AWS's published test suite signs for service
// "service").
namespace detail {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes

// The canonical URI of PATH as sent (still percent-encoded): dot segments and empty segments
// removed, then every byte but RFC 3986's unreserved ones and '/' encoded as %XX, so that what
// the client had encoded is encoded a second time, as every service but S3 signs it.
std::string canonical_uri(std::string_view path);

// The canonical query string of QUERY as sent: each name and value decoded, re-encoded, the pairs
// sorted by name, then value. X-Amz-Signature is left out when WITHOUT_SIGNATURE.
std::string canonical_query(std::string_view query, bool without_signature);

// verify() for any SERVICE.
verdict verify(const request_view& request, std::span<const config::credential_spec> credentials,
               std::string_view region, std::string_view service, std::chrono::system_clock::time_point now);

}  // namespace detail

}  // namespace apigw::emulator::sigv4
