#include "emulator/core/dynamodb_api.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <boost/crc.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "apigw/dynamo_result.hpp"
#include "common/ascii.hpp"
#include "emulator/auth/permissions.hpp"
#include "emulator/core/identifiers.hpp"

namespace apigw::emulator {
namespace {

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";

// The operations the store serves.
constexpr std::array<std::string_view, 17> kOperations = {
    "PutItem",          "GetItem",           "DeleteItem",         "UpdateItem",       "Query",
    "Scan",             "BatchWriteItem",    "BatchGetItem",       "TransactWriteItems", "TransactGetItems",
    "CreateTable",      "DeleteTable",       "DescribeTable",      "UpdateTable",      "ListTables",
    "UpdateTimeToLive", "DescribeTimeToLive"};

std::string_view header(const sigv4::request_view& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

// DynamoDB's answer: JSON with its content type, request id and the CRC32 botocore and aws-sdk v2
// check.
http_answer answer(int status, std::string body) {
  http_answer a;
  a.status = status;
  boost::crc_32_type crc;
  crc.process_bytes(body.data(), body.size());
  a.headers = {{"Content-Type", "application/x-amz-json-1.0"},
               {"x-amzn-RequestId", new_dynamodb_request_id()},
               {"x-amz-crc32", std::to_string(crc.checksum())}};
  a.body = std::move(body);
  return a;
}

http_answer error(std::string_view type, std::string message, int status = 400) {
  return answer(status, apigw::dynamo_error{std::string(type), std::move(message)}.to_json());
}

// Signature errors come from AWS's common layer, not DynamoDB's.
http_answer signature_error(std::string_view type, std::string_view message) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  const std::string full = "com.amazon.coral.service#" + std::string(type);
  w.StartObject();
  w.Key("__type");
  w.String(full.c_str());
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return answer(400, std::string(b.GetString(), b.GetSize()));
}

}  // namespace

dynamodb_api::dynamodb_api(store::session_store& store, const config::api_spec& api, bool strict)
    : store_(store), api_(api), strict_(strict) {
  for (const config::credential_spec& key : api.credentials) {
    keys_.push_back(key);
    signers_.push_back({"", nullptr});
  }
}

bool dynamodb_api::is_dynamodb_request(const sigv4::request_view& request) {
  const std::string_view target = request.target.substr(0, request.target.find('?'));
  return request.method == "POST" && target == "/" &&
         header(request, "X-Amz-Target").substr(0, kTargetPrefix.size()) == kTargetPrefix;
}

void dynamodb_api::add_function_signer(config::credential_spec key, std::string function,
                                       std::shared_ptr<const iam_policy> policy) {
  keys_.push_back(std::move(key));
  signers_.push_back({std::move(function), std::move(policy)});
}

http_answer dynamodb_api::handle_http(const sigv4::request_view& request, std::chrono::system_clock::time_point now) {
  const std::string_view operation = header(request, "X-Amz-Target").substr(kTargetPrefix.size());

  // A known key (a function's, or one of the config's credentials): verified; a function's is
  // judged by its policy. Any other key is an administrator's, unless credentials are strict.
  const signer* function = nullptr;
  bool known = false;
  const std::string_view authorization = header(request, "Authorization");
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (authorization.find("Credential=" + keys_[i].access_key_id + "/") == std::string_view::npos) continue;
    const auto verdict = sigv4::detail::verify(request, std::span(&keys_[i], 1), api_.region, "dynamodb", now);
    if (!verdict.ok()) {
      const std::string_view why = std::string_view(verdict.error).substr(0, verdict.error.find('\n'));
      return signature_error("InvalidSignatureException", why);
    }
    known = true;
    if (!signers_[i].function.empty()) function = &signers_[i];
    break;
  }
  if (strict_ && !known) {
    if (authorization.empty() && header(request, "X-Amz-Signature").empty() &&
        request.target.find("X-Amz-Signature=") == std::string_view::npos) {
      return signature_error("MissingAuthenticationTokenException", "Request is missing Authentication Token");
    }
    return signature_error("UnrecognizedClientException", "The security token included in the request is invalid.");
  }

  rapidjson::Document body;
  body.Parse(request.body.data(), request.body.size());
  if (body.HasParseError() || !body.IsObject()) {
    return error(apigw::dynamo_error::serialization, "Start of structure or map found where not expected.");
  }

  std::unique_ptr<guarded_tables> guard;
  if (function != nullptr) {
    guard = std::make_unique<guarded_tables>(store_, function->policy,
                                             caller_identity::for_integration(api_, function->function));
  }
  const auto failed = [](const apigw::dynamo_result& r) {
    return answer(r.error().type == apigw::dynamo_error::internal ? 500 : 400, r.to_json());
  };

  if (std::find(kOperations.begin(), kOperations.end(), operation) != kOperations.end()) {
    apigw::dynamo_result r = guard ? guard->call(operation, body) : store_.call(operation, body);
    if (!r.ok()) return failed(r);
    return answer(200, r.to_json());
  }
  return error(apigw::dynamo_error::unknown_operation,
               "The emulator does not serve " + std::string(operation) +
                   "; it serves PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan, BatchWriteItem, "
                   "BatchGetItem, TransactWriteItems, TransactGetItems, CreateTable, DeleteTable, "
                   "DescribeTable, UpdateTable, ListTables, UpdateTimeToLive and DescribeTimeToLive");
}

}  // namespace apigw::emulator
