#include "emulator/auth/sigv4.hpp"

#include <algorithm>
#include <cstdio>
#include <variant>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/ascii.hpp"
#include "emulator/auth/aws_dates.hpp"
#include "emulator/auth/percent_decoding.hpp"

namespace apigw::emulator::sigv4 {
namespace {

using sys_clock = std::chrono::system_clock;

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kService = "execute-api";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr auto kClockSkew = std::chrono::minutes(5);
constexpr long long kMaxExpiresSeconds = 7 * 24 * 60 * 60;  // AWS: a presigned URL lives a week at most

constexpr std::string_view kMissingToken = "MissingAuthenticationTokenException";
constexpr std::string_view kIncomplete = "IncompleteSignatureException";
constexpr std::string_view kInvalid = "InvalidSignatureException";
constexpr std::string_view kUnrecognized = "UnrecognizedClientException";

verdict failure(std::string_view type, std::string message) {
  verdict v;
  v.error = std::move(message);
  v.error_type = std::string(type);
  return v;
}


bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0x0F]);
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

// SigV4's UriEncode(): every byte but the unreserved ones (and '/' when KEEP_SLASH) as %XX.
std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0x0F]);
    }
  }
  return out;
}

// ---- the request -----------------------------------------------------------------------------

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

// Every value of header NAME, in the order received.
std::vector<std::string_view> header_values(const request_view& request, std::string_view name) {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : request.headers) {
    if (iequals(n, name)) values.push_back(v);
  }
  return values;
}

std::optional<std::string_view> first_header(const request_view& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

// SigV4's canonical header value: each value trimmed, runs of spaces and tabs made one space,
// repeated headers joined with ','.
std::string canonical_header_value(const std::vector<std::string_view>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    bool in_space = false;
    for (char c : trim(values[i])) {
      if (is_space(c)) {
        in_space = true;
        continue;
      }
      if (in_space) out.push_back(' ');
      in_space = false;
      out.push_back(c);
    }
  }
  return out;
}

struct query_param {
  std::string name;   // decoded
  std::string value;  // decoded
};

std::vector<query_param> parse_query(std::string_view query) {
  std::vector<query_param> params;
  for_each_query_parameter(query, [&](const std::string& name, const std::string& value) {
    params.push_back({name, value});
  });
  return params;
}

const std::string* find_param(const std::vector<query_param>& params, std::string_view name) {
  for (const auto& p : params) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

// ---- what the signer claims ------------------------------------------------------------------

struct scope {
  std::string_view access_key_id;
  std::string_view date;  // YYYYMMDD
  std::string_view region;
  std::string_view service;
  std::string_view terminator;
};

std::optional<scope> parse_credential(std::string_view credential) {
  std::string_view parts[5];
  for (int i = 0; i < 4; ++i) {
    const auto slash = credential.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    parts[i] = credential.substr(0, slash);
    credential.remove_prefix(slash + 1);
  }
  if (credential.find('/') != std::string_view::npos) return std::nullopt;
  parts[4] = credential;
  return scope{parts[0], parts[1], parts[2], parts[3], parts[4]};
}

// The claims of either form, before any check.
struct claims {
  bool presigned = false;
  std::string credential;
  std::string signed_headers;
  std::string signature;
  std::string request_date;  // as sent: X-Amz-Date, or the Date header's ISO 8601 form
  sys_clock::time_point signed_at;
  std::optional<long long> expires_seconds;  // presigned only
  std::optional<std::string> payload_hash;   // X-Amz-Content-Sha256 when the request names it
};

// An Authorization header quoted back in a message, unless it carries a signature.
std::string quoted_authorization(std::string_view value) {
  if (value.find("Signature=") != std::string_view::npos) return "";
  return " Authorization=" + std::string(value);
}

std::variant<claims, verdict> header_claims(const request_view& request, std::string_view authorization) {
  claims c;
  const std::string_view value = trim(authorization);
  const auto space = value.find(' ');
  const std::string_view algorithm = value.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view{} : value.substr(space + 1);
  bool has_credential = false;
  bool has_signed_headers = false;
  bool has_signature = false;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (part.empty()) continue;
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) {
      std::string message = "'" + std::string(part) + "' not a valid key=value pair (missing equal-sign) in "
                            "Authorization header";
      if (value.find("Signature=") == std::string_view::npos) message += ": '" + std::string(value) + "'";
      return failure(kIncomplete, message + ".");
    }
    const std::string_view key = part.substr(0, eq);
    const std::string_view v = part.substr(eq + 1);
    if (key == "Credential") {
      c.credential = std::string(v);
      has_credential = true;
    } else if (key == "SignedHeaders") {
      c.signed_headers = std::string(v);
      has_signed_headers = true;
    } else if (key == "Signature") {
      c.signature = std::string(v);
      has_signature = true;
    }
  }

  const auto amz_date = first_header(request, "X-Amz-Date");
  const auto http_date = amz_date ? std::nullopt : first_header(request, "Date");
  std::string missing;
  if (!has_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!has_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!has_signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!amz_date && !http_date) {
    missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (!missing.empty()) {
    missing.pop_back();
    return failure(kIncomplete, missing + quoted_authorization(value));
  }
  if (algorithm != kAlgorithm) {
    return failure(kIncomplete, "Unsupported AWS 'algorithm': '" + std::string(algorithm) +
                                    "'; the only one is 'AWS4-HMAC-SHA256'.");
  }
  if (amz_date) {
    const auto t = parse_basic_iso8601(trim(*amz_date));
    if (!t) {
      return failure(kIncomplete, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z', not '" +
                                      std::string(trim(*amz_date)) + "'.");
    }
    c.signed_at = *t;
    c.request_date = std::string(trim(*amz_date));
  } else {
    const auto t = parse_http_date(trim(*http_date));
    if (!t) {
      return failure(kIncomplete, "Date must be an HTTP date such as 'Sun, 06 Nov 1994 08:49:37 GMT', not '" +
                                      std::string(trim(*http_date)) + "'.");
    }
    c.signed_at = *t;
    c.request_date = basic_iso8601(*t);
  }
  if (const auto sha = first_header(request, "x-amz-content-sha256")) c.payload_hash = std::string(trim(*sha));
  return c;
}

std::variant<claims, verdict> query_claims(const std::vector<query_param>& params) {
  claims c;
  c.presigned = true;
  static constexpr std::string_view required[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                                  "X-Amz-SignedHeaders", "X-Amz-Date"};
  std::string missing;
  for (std::string_view name : required) {
    if (!find_param(params, name)) missing += "AWS query-string parameters must include '" + std::string(name) + "'. ";
  }
  if (!missing.empty()) return failure(kIncomplete, missing + "Re-examine the query-string parameters.");

  const std::string& algorithm = *find_param(params, "X-Amz-Algorithm");
  if (algorithm != kAlgorithm) {
    return failure(kIncomplete, "Unsupported AWS 'algorithm': '" + algorithm + "'; the only one is 'AWS4-HMAC-SHA256'.");
  }
  c.credential = *find_param(params, "X-Amz-Credential");
  c.signature = *find_param(params, "X-Amz-Signature");
  c.signed_headers = *find_param(params, "X-Amz-SignedHeaders");
  c.request_date = *find_param(params, "X-Amz-Date");
  const auto t = parse_basic_iso8601(c.request_date);
  if (!t) {
    return failure(kIncomplete, "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z', not '" +
                                    c.request_date + "'.");
  }
  c.signed_at = *t;
  if (const std::string* expires = find_param(params, "X-Amz-Expires")) {
    const auto seconds = expires->size() <= 7 ? digits_value(*expires) : std::nullopt;
    if (!seconds || *seconds < 1 || *seconds > kMaxExpiresSeconds) {
      return failure(kIncomplete, "X-Amz-Expires must be a whole number of seconds from 1 to 604800 (a week), not '" +
                                      *expires + "'.");
    }
    c.expires_seconds = *seconds;
  }
  for (const auto& p : params) {
    if (iequals(p.name, "X-Amz-Content-Sha256")) c.payload_hash = p.value;
  }
  return c;
}

std::string signing_key(std::string_view secret, const scope& s) {
  std::string key = detail::hmac_sha256("AWS4" + std::string(secret), s.date);
  key = detail::hmac_sha256(key, s.region);
  key = detail::hmac_sha256(key, s.service);
  return detail::hmac_sha256(key, kTerminator);
}

bool same_signature(std::string_view computed, std::string_view provided) {
  return computed.size() == provided.size() && CRYPTO_memcmp(computed.data(), provided.data(), computed.size()) == 0;
}

}  // namespace

namespace detail {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "";
  return hex(digest, size);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size)) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(mac), size);
}

std::string canonical_uri(std::string_view path) {
  std::vector<std::string_view> segments;
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string normalized = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i) normalized.push_back('/');
    normalized += segments[i];
  }
  if (!segments.empty() && path.size() > 1 && path.back() == '/') normalized.push_back('/');
  return uri_encode(normalized, true);
}

std::string canonical_query(std::string_view query, bool without_signature) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& p : parse_query(query)) {
    if (without_signature && p.name == "X-Amz-Signature") continue;
    pairs.emplace_back(uri_encode(p.name, false), uri_encode(p.value, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

verdict verify(const request_view& request, std::span<const config::credential_spec> credentials,
               std::string_view region, std::string_view service, sys_clock::time_point now) {
  // Which form: the Authorization header wins over a presigned query, as on AWS.
  const auto query_params = parse_query(query_of(request.target));
  std::variant<claims, verdict> parsed;
  if (const auto authorization = first_header(request, "Authorization")) {
    parsed = header_claims(request, *authorization);
  } else if (find_param(query_params, "X-Amz-Algorithm") || find_param(query_params, "X-Amz-Credential") ||
             find_param(query_params, "X-Amz-Signature")) {
    parsed = query_claims(query_params);
  } else {
    return failure(kMissingToken, "Missing Authentication Token");
  }
  if (auto* v = std::get_if<verdict>(&parsed)) return std::move(*v);
  const claims& c = std::get<claims>(parsed);

  // The credential scope: ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, for this API.
  const auto s = parse_credential(c.credential);
  if (!s) {
    return failure(kIncomplete, "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request, not '" +
                                    c.credential + "'.");
  }
  std::string scope_errors;
  if (s->region != region) scope_errors += "Credential should be scoped to a valid region, not '" + std::string(s->region) + "'. ";
  if (s->service != service) scope_errors += "Credential should be scoped to correct service: '" + std::string(service) + "'. ";
  if (s->terminator != kTerminator) {
    scope_errors += "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                    std::string(s->terminator) + "'. ";
  }
  if (!scope_errors.empty()) {
    scope_errors.pop_back();
    return failure(kInvalid, scope_errors);
  }
  if (s->date != std::string_view(c.request_date).substr(0, 8)) {
    return failure(kInvalid, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                                 std::string(s->date) + "' != '" + c.request_date.substr(0, 8) + "', from '" +
                                 c.request_date + "'.");
  }

  // The time: within 5 minutes of now; a presigned URL until it expires.
  if (c.presigned && c.expires_seconds) {
    const auto lifetime = std::chrono::seconds(*c.expires_seconds);
    if (c.signed_at + lifetime < now) {
      return failure(kInvalid, "Signature expired: " + c.request_date + " is now earlier than " +
                                   basic_iso8601(now - lifetime) + " (" + basic_iso8601(now) + " - " +
                                   std::to_string(*c.expires_seconds) + " sec.)");
    }
  } else if (c.signed_at < now - kClockSkew) {
    return failure(kInvalid, "Signature expired: " + c.request_date + " is now earlier than " +
                                 basic_iso8601(now - kClockSkew) + " (" + basic_iso8601(now) + " - 5 min.)");
  }
  if (c.signed_at > now + kClockSkew) {
    return failure(kInvalid, "Signature not yet current: " + c.request_date + " is still later than " +
                                 basic_iso8601(now + kClockSkew) + " (" + basic_iso8601(now) + " + 5 min.)");
  }

  // The key.
  const auto signer = std::find_if(credentials.begin(), credentials.end(), [&](const config::credential_spec& k) {
    return k.access_key_id == s->access_key_id;
  });
  if (signer == credentials.end()) {
    return failure(kUnrecognized, "The security token included in the request is invalid.");
  }

  // The signed headers: lowercase names separated by ';', Host among them.
  std::vector<std::string_view> names;
  {
    std::string_view list = c.signed_headers;
    while (!list.empty()) {
      const auto semi = list.find(';');
      names.push_back(list.substr(0, semi));
      list = semi == std::string_view::npos ? std::string_view{} : list.substr(semi + 1);
    }
  }
  if (std::find(names.begin(), names.end(), "host") == names.end()) {
    return failure(kIncomplete, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // The payload hash: what the request names (x-amz-content-sha256), else the body's; a
  // presigned URL may also have been signed with UNSIGNED-PAYLOAD.
  const std::string body_hash = sha256_hex(request.body);
  std::vector<std::string> payload_hashes;
  if (c.payload_hash) {
    if (*c.payload_hash != kUnsignedPayload && *c.payload_hash != body_hash) {
      return failure(kInvalid, "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    payload_hashes.push_back(*c.payload_hash);
  } else {
    payload_hashes.push_back(body_hash);
    if (c.presigned) payload_hashes.emplace_back(kUnsignedPayload);
  }

  std::string head = std::string(request.method) + "\n" + canonical_uri(path_of(request.target)) + "\n" +
                     canonical_query(query_of(request.target), c.presigned) + "\n";
  for (std::string_view name : names) {
    head += std::string(name) + ":" + canonical_header_value(header_values(request, name)) + "\n";
  }
  head += "\n" + c.signed_headers + "\n";

  const std::string credential_scope = std::string(s->date) + "/" + std::string(s->region) + "/" +
                                       std::string(s->service) + "/" + std::string(kTerminator);
  const std::string key = signing_key(signer->secret_access_key, *s);
  std::string first_canonical;
  std::string first_string_to_sign;
  for (const std::string& payload_hash : payload_hashes) {
    const std::string canonical_request = head + payload_hash;
    const std::string string_to_sign = std::string(kAlgorithm) + "\n" + c.request_date + "\n" + credential_scope +
                                       "\n" + sha256_hex(canonical_request);
    const std::string mac = hmac_sha256(key, string_to_sign);
    const std::string computed = hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
    if (same_signature(computed, c.signature)) {
      verdict ok;
      ok.signer = &*signer;
      return ok;
    }
    if (first_canonical.empty()) {
      first_canonical = canonical_request;
      first_string_to_sign = string_to_sign;
    }
  }
  return failure(kInvalid,
                 "The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
                 "The Canonical String for this request should have been\n'" +
                     first_canonical + "'\n\nThe String-to-Sign should have been\n'" + first_string_to_sign + "'\n");
}

}  // namespace detail

verdict verify(const request_view& request, std::span<const config::credential_spec> credentials,
               std::string_view region, std::chrono::system_clock::time_point now) {
  return detail::verify(request, credentials, region, kService, now);
}

}  // namespace apigw::emulator::sigv4
