// The outcome of one DynamoDB-shaped operation: the response JSON, or DynamoDB's error
// (type and message, as the service sends them).
// Thread-safety: plain values; one result belongs to one caller.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace apigw::store {

struct dynamo_error {
  // DynamoDB's error types, without the "com.amazonaws.dynamodb.v20120810#" prefix.
  static constexpr std::string_view validation = "ValidationException";
  static constexpr std::string_view resource_not_found = "ResourceNotFoundException";
  static constexpr std::string_view conditional_check_failed = "ConditionalCheckFailedException";
  static constexpr std::string_view serialization = "SerializationException";
  static constexpr std::string_view unknown_operation = "UnknownOperationException";
  static constexpr std::string_view internal = "InternalServerError";

  std::string type;
  std::string message;

  // The error body DynamoDB sends: {"__type":"com.amazonaws.dynamodb.v20120810#T","message":"M"}.
  std::string to_json() const;
};

class dynamo_result {
 public:
  // A success with an empty response object.
  dynamo_result();
  // A failure.
  dynamo_result(std::string_view type, std::string message);

  dynamo_result(dynamo_result&&) noexcept = default;
  dynamo_result& operator=(dynamo_result&&) noexcept = default;
  dynamo_result(const dynamo_result&) = delete;
  dynamo_result& operator=(const dynamo_result&) = delete;

  bool ok() const { return !error_; }
  // REQUIRES: !ok().
  const dynamo_error& error() const { return *error_; }
  // The response object ({} on failure); members use body().GetAllocator().
  rapidjson::Document& body() { return body_; }
  const rapidjson::Document& body() const { return body_; }

  // The response as DynamoDB sends it: the body, or the error's JSON.
  std::string to_json() const;

 private:
  rapidjson::Document body_;
  std::optional<dynamo_error> error_;
};

}  // namespace apigw::store
