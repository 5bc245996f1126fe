#include "tests/support/sigv4_signer.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace apigw::test_support {
namespace {

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

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return hex(digest, size);
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

// RFC 3986: everything but unreserved characters as %XX (and '/' too unless KEEP_SLASH).
std::string encode(std::string_view s, bool keep_slash = false) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(digits[u >> 4]);
      out.push_back(digits[u & 0x0F]);
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &utc);
  return buffer;
}

using pairs = std::vector<std::pair<std::string, std::string>>;

std::string canonical_query(pairs query) {
  for (auto& [name, value] : query) {
    name = encode(name);
    value = encode(value);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

// The signed headers (lowercase, sorted) and the canonical header block.
std::pair<std::string, std::string> canonical_headers(const sigv4_request& r, const header_list& more) {
  pairs all = {{"host", r.host}};
  for (const auto& [name, value] : r.headers) all.emplace_back(lower(name), value);
  for (const auto& [name, value] : more) all.emplace_back(lower(name), value);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string names;
  std::string block;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].first == all[i - 1].first) {
      block.back() = ',';
      block += all[i].second + "\n";
      continue;
    }
    if (!names.empty()) names += ';';
    names += all[i].first;
    block += all[i].first + ":" + all[i].second + "\n";
  }
  return {names, block};
}

std::string signature(const sigv4_request& r, const sigv4_key& key, const std::string& date,
                      const std::string& query, const std::string& signed_names, const std::string& header_block) {
  const std::string canonical = r.method + "\n" + encode(r.path, true) + "\n" + query + "\n" + header_block + "\n" +
                                signed_names + "\n" + sha256_hex(r.body);
  const std::string scope = date.substr(0, 8) + "/" + r.region + "/" + r.service + "/aws4_request";
  const std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + sha256_hex(canonical);
  std::string k = hmac("AWS4" + key.secret_access_key, date.substr(0, 8));
  k = hmac(k, r.region);
  k = hmac(k, r.service);
  k = hmac(k, "aws4_request");
  const std::string mac = hmac(k, to_sign);
  return hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

}  // namespace

std::string presigned_target(const sigv4_request& request, const sigv4_key& key, std::chrono::seconds expires) {
  const std::string date = amz_date(request.time);
  const auto [names, block] = canonical_headers(request, {});
  pairs query = request.query;
  query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  query.emplace_back("X-Amz-Credential", key.access_key_id + "/" + date.substr(0, 8) + "/" + request.region + "/" +
                                             request.service + "/aws4_request");
  query.emplace_back("X-Amz-Date", date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  query.emplace_back("X-Amz-SignedHeaders", names);
  const std::string canonical = canonical_query(query);
  return request.path + "?" + canonical + "&X-Amz-Signature=" + signature(request, key, date, canonical, names, block);
}

header_list signature_headers(const sigv4_request& request, const sigv4_key& key) {
  const std::string date = amz_date(request.time);
  const header_list dated = {{"X-Amz-Date", date}};
  const auto [names, block] = canonical_headers(request, dated);
  const std::string sig = signature(request, key, date, canonical_query(request.query), names, block);
  return {{"X-Amz-Date", date},
          {"Authorization", "AWS4-HMAC-SHA256 Credential=" + key.access_key_id + "/" + date.substr(0, 8) + "/" +
                                request.region + "/" + request.service + "/aws4_request, SignedHeaders=" + names +
                                ", Signature=" + sig}};
}

std::string plain_target(const sigv4_request& request) {
  const std::string query = canonical_query(request.query);
  return query.empty() ? request.path : request.path + "?" + query;
}

}  // namespace apigw::test_support
