// Signed management calls over HTTP (requireSignedManagementCalls): a SigV4 signature by a
// configured credential whose policy allows execute-api:ManageConnections on the call's ARN, else
// 403 with AWS's x-amzn-ErrorType and {"message"}; the order of the checks; and what the flag
// leaves alone (unsigned calls without it, handlers' in-process calls with it).
#include "tests/e2e/e2e_common.hpp"

#include <cstdio>

#include "config/config_loader.hpp"
#include "emulator/auth/sigv4.hpp"

namespace apigw::e2e {
namespace {

using sys_clock = std::chrono::system_clock;
namespace detail = emulator::sigv4::detail;

constexpr std::string_view kAdminKey = "AKIAE2EADMIN";
constexpr std::string_view kAdminSecret = "admin-secret";
constexpr std::string_view kLimitedKey = "AKIAE2ELIMITED";
constexpr std::string_view kLimitedSecret = "limited-secret";
constexpr std::string_view kElsewhereKey = "AKIAE2EELSEWHERE";
constexpr std::string_view kElsewhereSecret = "elsewhere-secret";
constexpr std::string_view kArnPrefix = "arn:aws:execute-api:us-east-1:123456789012:e2eapi0001/dev/";

std::string amz_date(sys_clock::time_point t) {
  const std::time_t tt = sys_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string to_hex(std::string_view raw) {
  std::string out;
  char hex[3];
  for (unsigned char c : raw) {
    std::snprintf(hex, sizeof hex, "%02x", c);
    out += hex;
  }
  return out;
}

// The X-Amz-Date and Authorization lines that sign METHOD on CANONICAL_PATH (the path as sent,
// encoded once more, as SigV4 wants it for execute-api) with BODY, Host HOST, at time AT.
std::string signature_headers(std::string_view method, std::string_view canonical_path, std::string_view host,
                              std::string_view body, std::string_view key, std::string_view secret,
                              sys_clock::time_point at = sys_clock::now()) {
  const std::string date = amz_date(at);
  const std::string day = date.substr(0, 8);
  const std::string canonical_request = std::string(method) + "\n" + std::string(canonical_path) + "\n\nhost:" +
                                        std::string(host) + "\nx-amz-date:" + date + "\n\nhost;x-amz-date\n" +
                                        detail::sha256_hex(body);
  const std::string scope = day + "/us-east-1/execute-api/aws4_request";
  const std::string string_to_sign =
      "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + detail::sha256_hex(canonical_request);
  std::string k = detail::hmac_sha256("AWS4" + std::string(secret), day);
  k = detail::hmac_sha256(k, "us-east-1");
  k = detail::hmac_sha256(k, "execute-api");
  k = detail::hmac_sha256(k, "aws4_request");
  return "X-Amz-Date: " + date + "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" + std::string(key) + "/" + scope +
         ", SignedHeaders=host;x-amz-date, Signature=" + to_hex(detail::hmac_sha256(k, string_to_sign)) + "\r\n";
}

config::credential_spec credential(std::string_view key, std::string_view secret, std::string_view user,
                                   std::string policy) {
  config::credential_spec c;
  c.access_key_id = std::string(key);
  c.secret_access_key = std::string(secret);
  c.arn = "arn:aws:iam::123456789012:user/" + std::string(user);
  c.policy_json = std::move(policy);
  return c;
}

// Posts "in-process" to its own connection through the handlers' management API and answers
// (two-way) with "CONNECTION_ID STATUS".
class self_poster final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    const std::string id = event["requestContext"]["connectionId"].GetString();
    const auto posted = context.connections().post_to_connection(id, "in-process");
    apigw::handler_result result;
    result.status_code = 200;
    result.body = id + " " + std::to_string(posted.status);
    return result;
  }
};

class SignedManagementTest : public ::testing::Test {
 protected:
  void start(bool require_signed) {
    api_config api;
    api.add_route("$default", "poster", true);
    api.add_integration("poster", R"({"type":"builtin","handler":"self_poster"})");
    auto loaded = config::load_text(api.json(), "signed-e2e.json");
    ASSERT_TRUE(loaded) << loaded.error();
    config::api_spec spec = *std::move(loaded);
    spec.region = "us-east-1";
    spec.credentials = {
        credential(kAdminKey, kAdminSecret, "admin",
                   R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections",)"
                   R"("Resource":"arn:aws:execute-api:us-east-1:123456789012:e2eapi0001/dev/*/@connections/*"}]})"),
        credential(kLimitedKey, kLimitedSecret, "limited",
                   R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:*","Resource":"*"},)"
                   R"({"Effect":"Deny","Action":"execute-api:ManageConnections",)"
                   R"("Resource":"arn:aws:execute-api:*:*:*/*/POST/@connections/*"}]})"),
        credential(kElsewhereKey, kElsewhereSecret, "elsewhere",
                   R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections",)"
                   R"("Resource":"arn:aws:execute-api:us-east-1:123456789012:otherapi01/*"}]})"),
    };
    spec.require_signed_management_calls = require_signed;
    server_ = std::make_unique<test_server>(std::move(spec), named_handlers{{"self_poster", poster_}});
  }

  // A connected client and its connection id (learnt from the poster, whose in-process post
  // arrives first).
  std::pair<std::unique_ptr<ws_client>, std::string> connect() {
    auto client = std::make_unique<ws_client>();
    const auto hs = client->connect(server_->options());
    if (!hs.upgraded) {
      ADD_FAILURE() << "upgrade failed: " << hs.status << " " << hs.error;
      return {nullptr, ""};
    }
    client->send_text("who");
    EXPECT_TRUE(client->read().is_text("in-process"));
    const auto answer = client->read();
    const std::string id = answer.data.substr(0, answer.data.find(' '));
    EXPECT_EQ(answer.data, id + " 200");
    return {std::move(client), id};
  }

  std::string host() const { return server_->host_port(); }

  // METHOD on /dev/%40connections/ENCODED_ID, signed with KEY and SECRET (unsigned when KEY is empty).
  http_response call(std::string_view method, const std::string& id, std::string_view body = "",
                     std::string_view key = "", std::string_view secret = "",
                     sys_clock::time_point at = sys_clock::now()) {
    const std::string target = "/dev/%40connections/" + percent_encode(id);
    const std::string canonical = "/dev/%2540connections/" + percent_encode(percent_encode(id));
    const std::string headers =
        key.empty() ? std::string() : signature_headers(method, canonical, host(), body, key, secret, at);
    return http_call(server_->port(), method, target, body, headers);
  }

  static ::testing::AssertionResult is_error(const http_response& r, int status, std::string_view type,
                                             std::string_view message) {
    const std::string body = "{\"message\":" + json_string(message) + "}";
    if (r.status != status || r.header("x-amzn-ErrorType") != std::string(type) ||
        r.header("Content-Type") != "application/json" || r.body != body) {
      return ::testing::AssertionFailure()
             << "expected " << status << " " << type << " " << body << ", got " << r.status << " "
             << r.header("x-amzn-ErrorType").value_or("<none>") << " " << r.body;
    }
    return ::testing::AssertionSuccess();
  }

  std::shared_ptr<self_poster> poster_ = std::make_shared<self_poster>();
  std::unique_ptr<test_server> server_;
};

TEST_F(SignedManagementTest, WithoutTheFlagSignaturesAreNotChecked) {
  start(false);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  EXPECT_EQ(call("POST", id, "unsigned").status, 200);
  EXPECT_TRUE(client->read().is_text("unsigned"));
  EXPECT_EQ(call("POST", id, "badly signed", kAdminKey, "not-the-secret").status, 200);
  EXPECT_TRUE(client->read().is_text("badly signed"));
}

TEST_F(SignedManagementTest, AnUnsignedCallIsAMissingAuthenticationToken) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  for (std::string_view method : {"POST", "GET", "DELETE"}) {
    SCOPED_TRACE(method);
    EXPECT_TRUE(is_error(call(method, id, "x"), 403, "MissingAuthenticationTokenException",
                         "Missing Authentication Token"));
  }
  // Unsigned, even a wrong stage or a method the API does not have answers 403 first.
  EXPECT_TRUE(is_error(http_call(server_->port(), "GET", "/prod/@connections/" + percent_encode(id)), 403,
                       "MissingAuthenticationTokenException", "Missing Authentication Token"));
  EXPECT_TRUE(is_error(http_call(server_->port(), "PUT", "/dev/@connections/" + percent_encode(id), "x"), 403,
                       "MissingAuthenticationTokenException", "Missing Authentication Token"));
  EXPECT_EQ(client->read(200ms).type, ws_message::kind::timeout);
}

TEST_F(SignedManagementTest, SignedCallsWithAnAllowingPolicySucceed) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const auto posted = call("POST", id, "signed", kAdminKey, kAdminSecret);
  EXPECT_EQ(posted.status, 200) << posted.body;
  EXPECT_TRUE(client->read().is_text("signed"));

  const auto got = call("GET", id, "", kAdminKey, kAdminSecret);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_TRUE(json_doc(got.body).str("identity.sourceIp").has_value()) << got.body;

  // The stage-less path is the same resource, on the API's stage.
  const std::string target = "/@connections/" + percent_encode(id);
  const auto stageless = http_call(server_->port(), "GET", target, "",
                                   signature_headers("GET", "/%40connections/" + percent_encode(percent_encode(id)),
                                                     host(), "", kAdminKey, kAdminSecret));
  EXPECT_EQ(stageless.status, 200) << stageless.body;

  EXPECT_EQ(call("DELETE", id, "", kAdminKey, kAdminSecret).status, 204);
  EXPECT_TRUE(client->read().is_close(1000, ""));
}

TEST_F(SignedManagementTest, AWrongSecretIsAnInvalidSignature) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const auto r = call("POST", id, "x", kAdminKey, "not-the-secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("x-amzn-ErrorType"), "InvalidSignatureException");
  const json_doc body(r.body);
  const std::string message = body.str("message").value_or("");
  EXPECT_EQ(message.rfind("The request signature we calculated does not match the signature you provided. ", 0), 0u)
      << r.body;
  EXPECT_NE(message.find("'POST\n/dev/%2540connections/" + percent_encode(percent_encode(id)) + "\n\nhost:" +
                         host() + "\n"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(r.body.find("admin-secret"), std::string::npos);
  EXPECT_EQ(client->read(200ms).type, ws_message::kind::timeout);
}

TEST_F(SignedManagementTest, TheBodyIsPartOfTheSignature) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  // Signed for "abc", sent with "abd".
  const std::string headers = signature_headers("POST", "/dev/%2540connections/" + percent_encode(percent_encode(id)),
                                                host(), "abc", kAdminKey, kAdminSecret);
  const auto r = http_call(server_->port(), "POST", "/dev/%40connections/" + percent_encode(id), "abd", headers);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("x-amzn-ErrorType"), "InvalidSignatureException");
  EXPECT_EQ(client->read(200ms).type, ws_message::kind::timeout);
}

TEST_F(SignedManagementTest, AnUnknownKeyIsUnrecognized) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  EXPECT_TRUE(is_error(call("GET", id, "", "AKIANOBODY", "whatever"), 403, "UnrecognizedClientException",
                       "The security token included in the request is invalid."));
}

TEST_F(SignedManagementTest, AnOldSignatureHasExpired) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  const auto r = call("POST", id, "late", kAdminKey, kAdminSecret, sys_clock::now() - std::chrono::minutes(6));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.header("x-amzn-ErrorType"), "InvalidSignatureException");
  static const std::regex expired(R"re(\{"message":"Signature expired: \d{8}T\d{6}Z is now earlier than )re"
                                   R"re(\d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)"\})re");
  EXPECT_TRUE(std::regex_match(r.body, expired)) << r.body;
}

TEST_F(SignedManagementTest, PoliciesAreCheckedOnTheCallsArn) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  // An explicit Deny on POST; GET is allowed.
  EXPECT_TRUE(is_error(call("POST", id, "x", kLimitedKey, kLimitedSecret), 403, "AccessDeniedException",
                       "User: arn:aws:iam::123456789012:user/limited is not authorized to perform: "
                       "execute-api:ManageConnections on resource: " +
                           std::string(kArnPrefix) + "POST/@connections/" + id + " with an explicit deny"));
  EXPECT_EQ(call("GET", id, "", kLimitedKey, kLimitedSecret).status, 200);
  // Allowed on another API only: denied implicitly.
  EXPECT_TRUE(is_error(call("DELETE", id, "", kElsewhereKey, kElsewhereSecret), 403, "AccessDeniedException",
                       "User: arn:aws:iam::123456789012:user/elsewhere is not authorized to perform: "
                       "execute-api:ManageConnections on resource: " +
                           std::string(kArnPrefix) + "DELETE/@connections/" + id));
  EXPECT_EQ(client->read(200ms).type, ws_message::kind::timeout);
}

TEST_F(SignedManagementTest, ASignedCallStillMeetsTheApisOtherAnswers) {
  start(true);
  auto [client, id] = connect();
  ASSERT_TRUE(client);
  // Gone after the signature and the policy.
  const auto gone = call("GET", "AAAAAAAAAAAAAAA=", "", kAdminKey, kAdminSecret);
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(gone.header("x-amzn-ErrorType"), "GoneException");
  // A wrong stage, signed: 404.
  const std::string target = "/prod/%40connections/" + percent_encode(id);
  const auto r = http_call(server_->port(), "GET", target, "",
                           signature_headers("GET", "/prod/%2540connections/" + percent_encode(percent_encode(id)),
                                             host(), "", kAdminKey, kAdminSecret));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("x-amzn-ErrorType"), "NotFoundException");
}

TEST_F(SignedManagementTest, HandlersInProcessCallsNeedNoSignature) {
  start(true);
  auto [client, id] = connect();  // connect() checks that the poster's in-process post arrived
  ASSERT_TRUE(client);
  EXPECT_FALSE(id.empty());
}

}  // namespace
}  // namespace apigw::e2e
