// DynamoDB's JSON protocol on the emulator's port (POST /, X-Amz-Target: DynamoDB_20120810.Op,
// application/x-amz-json-1.0), in front of the session store: the tables the config declares,
// for function code, the AWS CLI and the SDKs. A call signed with a Lambda function's keys is
// judged by that function's policy (dynamodb:<Op> on the table's ARN), as its role would be on
// AWS. The config's credentials are verified and then allowed, as an administrator's; any other
// key is allowed unverified (its secret is unknown), unless strict credentials are on: then it
// gets UnrecognizedClientException, and an unsigned call MissingAuthenticationTokenException.
// Thread-safety: handle_http() may be called from any thread once the signers are added.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/api_config.hpp"
#include "emulator/auth/iam_policy.hpp"
#include "emulator/auth/sigv4.hpp"
#include "emulator/core/http_answer.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

class dynamodb_api {
 public:
  // The config's credentials sign as administrators; STRICT as api.strict_credentials.
  dynamodb_api(store::session_store& store, const config::api_spec& api, bool strict);

  // True when REQUEST is a DynamoDB call: POST to "/" with an X-Amz-Target of DynamoDB's.
  static bool is_dynamodb_request(const sigv4::request_view& request);

  // Answers one call as DynamoDB does: 200 with the response JSON, or DynamoDB's error shape.
  http_answer handle_http(const sigv4::request_view& request, std::chrono::system_clock::time_point now);

  // A key a Lambda function's processes sign with, for FUNCTION (its integration's name), and its
  // policy (null: it may do everything). REQUIRES: before the first call.
  void add_function_signer(config::credential_spec key, std::string function,
                           std::shared_ptr<const iam_policy> policy);

 private:
  struct signer {
    std::string function;  // empty: an administrator (one of the config's credentials)
    std::shared_ptr<const iam_policy> policy;
  };

  store::session_store& store_;
  const config::api_spec& api_;
  bool strict_;
  std::vector<config::credential_spec> keys_;  // the config's keys, then the functions'
  std::vector<signer> signers_;                // in the same order
};

}  // namespace apigw::emulator
