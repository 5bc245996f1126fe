// SigV4 verification: AWS's published test suite (service "service", region us-east-1, key
// AKIDEXAMPLE, 2015-08-30T12:36:00Z), then execute-api requests signed by botocore (header form
// and presigned URLs), and every way a request fails, with AWS's error types and messages.
#include "emulator/auth/sigv4.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace apigw::emulator::sigv4 {
namespace {

using namespace std::chrono_literals;
using sys_clock = std::chrono::system_clock;

// 2015-08-30T12:36:00Z, the time of AWS's test suite.
const sys_clock::time_point kSuiteTime = sys_clock::from_time_t(1440938160);
// 2024-01-02T03:04:05Z, the time of the execute-api requests below.
const sys_clock::time_point kSignedAt = sys_clock::from_time_t(1704164645);

config::credential_spec credential(std::string id, std::string secret) {
  config::credential_spec c;
  c.access_key_id = std::move(id);
  c.secret_access_key = std::move(secret);
  c.arn = "arn:aws:iam::123456789012:user/tester";
  return c;
}

const std::vector<config::credential_spec> kSuiteKeys = {
    credential("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")};
const std::vector<config::credential_spec> kApiKeys = {credential("AKIAOTHER0", "other-secret"),
                                                       credential("AKIAEXAMPLE1", "secret-one")};

// A request owning its strings (request_view only points at them).
struct owned_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  request_view view() const {
    request_view v{method, target, {}, body};
    for (const auto& [n, value] : headers) v.headers.emplace_back(n, value);
    return v;
  }
};

// One case of AWS's suite: the request, its signed headers and its published signature.
struct suite_case {
  const char* name;
  owned_request request;
  const char* signed_headers;
  const char* signature;
};

owned_request suite_request(std::string method, std::string target,
                            std::vector<std::pair<std::string, std::string>> extra = {}, std::string body = "") {
  owned_request r{std::move(method), std::move(target), {{"Host", "example.amazonaws.com"}}, std::move(body)};
  for (auto& h : extra) r.headers.push_back(std::move(h));
  r.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  return r;
}

std::vector<suite_case> suite() {
  return {
      {"get-vanilla", suite_request("GET", "/"), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case", suite_request("GET", "/?Param2=value2&Param1=value1"), "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-empty-query-key", suite_request("GET", "/?Param1=value1"), "host;x-amz-date",
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-unreserved",
       suite_request("GET",
                     "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"),
       "host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", suite_request("GET", "/?%E1%88%B4=bar"), "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-utf8", suite_request("GET", "/\xE1\x88\xB4"), "host;x-amz-date",
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"normalize-path/get-space", suite_request("GET", "/example space/"), "host;x-amz-date",
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"normalize-path/get-slashes", suite_request("GET", "//example//"), "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"normalize-path/get-relative-relative", suite_request("GET", "/example1/example2/../.."), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"normalize-path/get-slash-dot-slash", suite_request("GET", "/./"), "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-header-value-trim",
       suite_request("GET", "/", {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}}),
       "host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-vanilla", suite_request("POST", "/"), "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-header-key-sort", suite_request("POST", "/", {{"My-Header1", "value1"}}), "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-x-www-form-urlencoded",
       suite_request("POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1"),
       "content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
}

void authorize(owned_request& r, std::string_view credential_scope, std::string_view signed_headers,
               std::string_view signature) {
  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(credential_scope) +
                                              ", SignedHeaders=" + std::string(signed_headers) +
                                              ", Signature=" + std::string(signature));
}

verdict suite_verify(const owned_request& r, sys_clock::time_point now = kSuiteTime) {
  return detail::verify(r.view(), kSuiteKeys, "us-east-1", "service", now);
}

TEST(Sigv4Test, AwsTestSuiteSignaturesVerify) {
  for (auto c : suite()) {
    SCOPED_TRACE(c.name);
    authorize(c.request, "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", c.signed_headers, c.signature);
    const verdict v = suite_verify(c.request);
    EXPECT_TRUE(v.ok()) << v.error_type << ": " << v.error;
    if (v.ok()) {
      EXPECT_EQ(v.signer->access_key_id, "AKIDEXAMPLE");
    }
  }
}

TEST(Sigv4Test, AwsTestSuiteWithOneDigitChangedFails) {
  for (auto c : suite()) {
    SCOPED_TRACE(c.name);
    std::string signature = c.signature;
    signature[10] = signature[10] == '0' ? '1' : '0';
    authorize(c.request, "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", c.signed_headers, signature);
    const verdict v = suite_verify(c.request);
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.error_type, "InvalidSignatureException");
  }
}

TEST(Sigv4Test, CanonicalUriEncodesWhatTheClientEncodedASecondTime) {
  EXPECT_EQ(detail::canonical_uri("/"), "/");
  EXPECT_EQ(detail::canonical_uri(""), "/");
  EXPECT_EQ(detail::canonical_uri("/dev/%40connections/abc%3D"), "/dev/%2540connections/abc%253D");
  EXPECT_EQ(detail::canonical_uri("/dev/@connections/abc="), "/dev/%40connections/abc%3D");
  EXPECT_EQ(detail::canonical_uri("/example space/"), "/example%20space/");
  EXPECT_EQ(detail::canonical_uri("//example//"), "/example/");
  EXPECT_EQ(detail::canonical_uri("/a/./b/../c"), "/a/c");
  EXPECT_EQ(detail::canonical_uri("/-_.~AZaz09"), "/-_.~AZaz09");
}

TEST(Sigv4Test, CanonicalQueryDecodesReencodesAndSorts) {
  EXPECT_EQ(detail::canonical_query("", false), "");
  EXPECT_EQ(detail::canonical_query("b=2&a=1&A=0", false), "A=0&a=1&b=2");
  EXPECT_EQ(detail::canonical_query("k=b&k=a", false), "k=a&k=b");
  EXPECT_EQ(detail::canonical_query("flag&x=a%20b&y=a/b", false), "flag=&x=a%20b&y=a%2Fb");
  EXPECT_EQ(detail::canonical_query("X-Amz-Signature=ff&a=1", true), "a=1");
  EXPECT_EQ(detail::canonical_query("X-Amz-Signature=ff&a=1", false), "X-Amz-Signature=ff&a=1");
}

TEST(Sigv4Test, HashesAreOpenSslSha256) {
  EXPECT_EQ(detail::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(detail::sha256_hex("hello"), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(detail::hmac_sha256("key", "data").size(), 32u);
}

// ---- execute-api, signed by botocore 1.29 ------------------------------------------------

// POST /dev/%40connections/abc%3D, body "hello", as botocore's SigV4Auth signs it.
owned_request signed_post(std::string signature = "d2ac4706c5e4ac589dba7fc407c63797b3d8d0da1a17dfaa2680b33ed13e78b0") {
  owned_request r{"POST", "/dev/%40connections/abc%3D", {{"Host", "127.0.0.1:8080"}, {"X-Amz-Date", "20240102T030405Z"}},
                  "hello"};
  authorize(r, "AKIAEXAMPLE1/20240102/us-east-1/execute-api/aws4_request", "host;x-amz-date", signature);
  return r;
}

verdict api_verify(const owned_request& r, sys_clock::time_point now = kSignedAt) {
  return verify(r.view(), kApiKeys, "us-east-1", now);
}

TEST(Sigv4Test, ExecuteApiHeaderFormVerifiesAndNamesTheSigner) {
  const verdict v = api_verify(signed_post());
  ASSERT_TRUE(v.ok()) << v.error;
  EXPECT_EQ(v.signer, &kApiKeys[1]);
  EXPECT_TRUE(v.error.empty());
}

TEST(Sigv4Test, TheBodyIsSigned) {
  owned_request r = signed_post();
  r.body = "hellO";
  const verdict v = api_verify(r);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_EQ(v.error.rfind("The request signature we calculated does not match the signature you provided. Check "
                          "your AWS Secret Access Key and signing method. Consult the service documentation for "
                          "details.\n\nThe Canonical String for this request should have been\n'POST\n"
                          "/dev/%2540connections/abc%253D\n\nhost:127.0.0.1:8080\nx-amz-date:20240102T030405Z\n\n"
                          "host;x-amz-date\n",
                          0),
            0u)
      << v.error;
  EXPECT_NE(v.error.find("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20240102T030405Z\n"
                         "20240102/us-east-1/execute-api/aws4_request\n"),
            std::string::npos)
      << v.error;
  // Neither the secret nor the signature appears in the message.
  EXPECT_EQ(v.error.find("secret-one"), std::string::npos);
  EXPECT_EQ(v.error.find("d2ac4706c5e4ac58"), std::string::npos);
}

TEST(Sigv4Test, TheSamePathSpelledDifferentlyIsADifferentRequest) {
  owned_request r = signed_post();
  r.target = "/dev/@connections/abc=";
  EXPECT_EQ(api_verify(r).error_type, "InvalidSignatureException");
}

TEST(Sigv4Test, WrongSecretFails) {
  const std::vector<config::credential_spec> keys = {credential("AKIAEXAMPLE1", "secret-two")};
  const verdict v = verify(signed_post().view(), keys, "us-east-1", kSignedAt);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
}

TEST(Sigv4Test, UnknownAccessKeyIsUnrecognized) {
  const std::vector<config::credential_spec> keys = {credential("AKIAOTHER0", "secret-one")};
  const verdict v = verify(signed_post().view(), keys, "us-east-1", kSignedAt);
  EXPECT_EQ(v.error_type, "UnrecognizedClientException");
  EXPECT_EQ(v.error, "The security token included in the request is invalid.");
}

TEST(Sigv4Test, NoSignatureAtAllIsAMissingToken) {
  const owned_request r{"GET", "/dev/@connections/abc", {{"Host", "127.0.0.1:8080"}}, ""};
  const verdict v = api_verify(r);
  EXPECT_EQ(v.error_type, "MissingAuthenticationTokenException");
  EXPECT_EQ(v.error, "Missing Authentication Token");
}

TEST(Sigv4Test, ClockSkewOfFiveMinutesEitherWay) {
  EXPECT_TRUE(api_verify(signed_post(), kSignedAt + 5min).ok());
  EXPECT_TRUE(api_verify(signed_post(), kSignedAt - 5min).ok());

  const verdict late = api_verify(signed_post(), kSignedAt + 5min + 1s);
  EXPECT_EQ(late.error_type, "InvalidSignatureException");
  EXPECT_EQ(late.error,
            "Signature expired: 20240102T030405Z is now earlier than 20240102T030406Z (20240102T030906Z - 5 min.)");

  const verdict early = api_verify(signed_post(), kSignedAt - 5min - 1s);
  EXPECT_EQ(early.error_type, "InvalidSignatureException");
  EXPECT_EQ(early.error,
            "Signature not yet current: 20240102T030405Z is still later than 20240102T030404Z "
            "(20240102T025904Z + 5 min.)");
}

TEST(Sigv4Test, ScopeMustNameThisRegionAndExecuteApi) {
  owned_request r{"GET", "/dev", {{"Host", "h"}, {"X-Amz-Date", "20240102T030405Z"}}, ""};
  authorize(r, "AKIAEXAMPLE1/20240102/eu-west-1/lambda/aws4_request", "host;x-amz-date", std::string(64, '0'));
  const verdict v = api_verify(r);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_EQ(v.error,
            "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should be scoped to correct "
            "service: 'execute-api'.");

  owned_request d{"GET", "/dev", {{"Host", "h"}, {"X-Amz-Date", "20240102T030405Z"}}, ""};
  authorize(d, "AKIAEXAMPLE1/20240101/us-east-1/execute-api/aws4_request", "host;x-amz-date", std::string(64, '0'));
  EXPECT_EQ(api_verify(d).error,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            "'20240101' != '20240102', from '20240102T030405Z'.");
}

TEST(Sigv4Test, ABearerTokenIsNotASignature) {
  owned_request bearer{"GET", "/dev", {{"Host", "h"}, {"Authorization", "Bearer abc.def"}}, ""};
  verdict v = api_verify(bearer);
  EXPECT_EQ(v.error_type, "IncompleteSignatureException");
  EXPECT_EQ(v.error,
            "'abc.def' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc.def'.");

  owned_request token{"GET", "/dev", {{"Host", "h"}, {"Authorization", "eyJhbGciOi"}}, ""};
  v = api_verify(token);
  EXPECT_EQ(v.error_type, "IncompleteSignatureException");
  EXPECT_EQ(v.error,
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
            "parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires "
            "existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=eyJhbGciOi");
}

TEST(Sigv4Test, HostMustBeSigned) {
  owned_request r{"GET", "/dev", {{"Host", "h"}, {"X-Amz-Date", "20240102T030405Z"}}, ""};
  authorize(r, "AKIAEXAMPLE1/20240102/us-east-1/execute-api/aws4_request", "x-amz-date", std::string(64, '0'));
  const verdict v = api_verify(r);
  EXPECT_EQ(v.error_type, "IncompleteSignatureException");
  EXPECT_EQ(v.error, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST(Sigv4Test, ContentShaHeaderMustMatchTheBody) {
  owned_request r = signed_post();
  r.headers.emplace_back("x-amz-content-sha256", std::string(64, 'a'));
  const verdict v = api_verify(r);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_EQ(v.error, "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

TEST(Sigv4Test, DateHeaderMayDateTheRequest) {
  // The same request as get-vanilla, dated by Date instead of X-Amz-Date, signed "date;host".
  owned_request r{"GET", "/", {{"Host", "example.amazonaws.com"}, {"Date", "Sun, 30 Aug 2015 12:36:00 GMT"}}, ""};
  authorize(r, "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "date;host", std::string(64, '0'));
  const verdict v = suite_verify(r);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_NE(v.error.find("'GET\n/\n\ndate:Sun, 30 Aug 2015 12:36:00 GMT\nhost:example.amazonaws.com\n\ndate;host\n"),
            std::string::npos)
      << v.error;
  EXPECT_NE(v.error.find("'AWS4-HMAC-SHA256\n20150830T123600Z\n"), std::string::npos) << v.error;
}

// ---- presigned URLs (botocore's SigV4QueryAuth, expires=300) ------------------------------

const char* const kPresigned =
    "/dev?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE1%2F20240102%2Fus-east-1%2Fexecute-api%2F"
    "aws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature="
    "13511cd65bb328aa13aaa8cc49c73a83f9ecef010ba063c6556e4fc2a08d2faf";

// Over https, botocore signs presigned URLs with UNSIGNED-PAYLOAD; this one also has a query.
const char* const kPresignedUnsignedPayload =
    "/dev?room=a%20b&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE1%2F20240102%2Fus-east-1%2F"
    "execute-api%2Faws4_request&X-Amz-Date=20240102T030405Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&"
    "X-Amz-Signature=ddf532fe80bd6d8b0202ce926dfebf0fd7b34cec03f37d2e571b400a925421e1";

owned_request handshake(std::string target) {
  return {"GET", std::move(target),
          {{"Host", "127.0.0.1:8080"}, {"Connection", "Upgrade"}, {"Upgrade", "websocket"},
           {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, {"Sec-WebSocket-Version", "13"}},
          ""};
}

TEST(Sigv4Test, PresignedUrlVerifiesUntilItExpires) {
  for (const char* target : {kPresigned, kPresignedUnsignedPayload}) {
    SCOPED_TRACE(target);
    EXPECT_TRUE(api_verify(handshake(target)).ok());
    EXPECT_TRUE(api_verify(handshake(target), kSignedAt + 300s).ok());
    EXPECT_TRUE(api_verify(handshake(target), kSignedAt - 5min).ok());
    const verdict expired = api_verify(handshake(target), kSignedAt + 301s);
    EXPECT_EQ(expired.error_type, "InvalidSignatureException");
    EXPECT_EQ(expired.error,
              "Signature expired: 20240102T030405Z is now earlier than 20240102T030406Z (20240102T030906Z - 300 sec.)");
    const verdict early = api_verify(handshake(target), kSignedAt - 5min - 1s);
    EXPECT_EQ(early.error.rfind("Signature not yet current: ", 0), 0u) << early.error;
  }
}

TEST(Sigv4Test, PresignedUrlWithAnotherQueryOrSignatureFails) {
  std::string tampered = kPresignedUnsignedPayload;
  tampered.replace(tampered.find("a%20b"), 5, "a%20c");
  EXPECT_EQ(api_verify(handshake(tampered)).error_type, "InvalidSignatureException");

  std::string longer = kPresigned;
  longer.replace(longer.find("X-Amz-Expires=300"), 17, "X-Amz-Expires=900");
  EXPECT_EQ(api_verify(handshake(longer)).error_type, "InvalidSignatureException");

  const std::vector<config::credential_spec> keys = {credential("AKIAEXAMPLE1", "not-the-secret")};
  const verdict v = verify(handshake(kPresigned).view(), keys, "us-east-1", kSignedAt);
  EXPECT_EQ(v.error_type, "InvalidSignatureException");
  EXPECT_NE(v.error.find("X-Amz-SignedHeaders=host\nhost:127.0.0.1:8080\n\nhost\n"), std::string::npos) << v.error;
}

TEST(Sigv4Test, PresignedUrlMissingParametersIsIncomplete) {
  const verdict v = api_verify(handshake("/dev?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240102T030405Z"));
  EXPECT_EQ(v.error_type, "IncompleteSignatureException");
  EXPECT_EQ(v.error,
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include "
            "'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the "
            "query-string parameters.");

  std::string week_and_a_second = kPresigned;
  week_and_a_second.replace(week_and_a_second.find("X-Amz-Expires=300"), 17, "X-Amz-Expires=604801");
  EXPECT_EQ(api_verify(handshake(week_and_a_second)).error_type, "IncompleteSignatureException");
}

TEST(Sigv4Test, AQueryWithoutSigningParametersIsAMissingToken) {
  EXPECT_EQ(api_verify(handshake("/dev?room=1")).error_type, "MissingAuthenticationTokenException");
}

}  // namespace
}  // namespace apigw::emulator::sigv4
