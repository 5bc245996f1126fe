// The outcome of one DynamoDB-shaped table call as handlers see it: the response JSON, or
// DynamoDB's error (type and message, as the service sends them). Header-only, so that plugins
// use it without linking the emulator.
// Thread-safety: plain values; one result belongs to one caller.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw {

struct dynamo_error {
  // DynamoDB's error types, without the "com.amazonaws.dynamodb.v20120810#" prefix (a table
  // call a policy does not allow fails with "AccessDeniedException").
  static constexpr std::string_view validation = "ValidationException";
  static constexpr std::string_view resource_not_found = "ResourceNotFoundException";
  static constexpr std::string_view resource_in_use = "ResourceInUseException";
  static constexpr std::string_view conditional_check_failed = "ConditionalCheckFailedException";
  static constexpr std::string_view transaction_canceled = "TransactionCanceledException";
  static constexpr std::string_view idempotent_parameter_mismatch = "IdempotentParameterMismatchException";
  static constexpr std::string_view serialization = "SerializationException";
  static constexpr std::string_view unknown_operation = "UnknownOperationException";
  static constexpr std::string_view access_denied = "AccessDeniedException";
  static constexpr std::string_view internal = "InternalServerError";

  std::string type;
  std::string message;

  // The error body DynamoDB sends: {"__type":"com.amazonaws.dynamodb.v20120810#TYPE","message":"M"}.
  std::string to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    const std::string full_type = "com.amazonaws.dynamodb.v20120810#" + type;
    w.StartObject();
    w.Key("__type");
    w.String(full_type.c_str(), static_cast<rapidjson::SizeType>(full_type.size()));
    w.Key("message");
    w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }
};

class dynamo_result {
 public:
  // A success with an empty response object.
  dynamo_result() { body_.SetObject(); }
  // A failure.
  dynamo_result(std::string_view type, std::string message)
      : error_(dynamo_error{std::string(type), std::move(message)}) {
    body_.SetObject();
  }

  dynamo_result(dynamo_result&&) noexcept = default;
  dynamo_result& operator=(dynamo_result&&) noexcept = default;
  dynamo_result(const dynamo_result&) = delete;
  dynamo_result& operator=(const dynamo_result&) = delete;

  bool ok() const { return !error_; }
  // REQUIRES: !ok().
  const dynamo_error& error() const { return *error_; }
  // The response object, e.g. {"Item": {...}} or {"Items": [...], "Count": N}. On failure, what
  // DynamoDB's error carries besides its type and message: {"Item": {...}} for a failed
  // condition with ReturnValuesOnConditionCheckFailure, {"CancellationReasons": [...]} for a
  // canceled transaction, else {}. Members use body().GetAllocator().
  rapidjson::Document& body() { return body_; }
  const rapidjson::Document& body() const { return body_; }

  // The response as DynamoDB sends it: the body, or {"__type": "…#TYPE", "message": "…"} and
  // the body's members.
  std::string to_json() const {
    if (error_ && body_.ObjectEmpty()) return error_->to_json();
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    if (!error_) {
      body_.Accept(w);
      return std::string(buf.GetString(), buf.GetSize());
    }
    const std::string full_type = "com.amazonaws.dynamodb.v20120810#" + error_->type;
    w.StartObject();
    w.Key("__type");
    w.String(full_type.c_str(), static_cast<rapidjson::SizeType>(full_type.size()));
    w.Key("message");
    w.String(error_->message.c_str(), static_cast<rapidjson::SizeType>(error_->message.size()));
    for (auto m = body_.MemberBegin(); m != body_.MemberEnd(); ++m) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      m->value.Accept(w);
    }
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
  }

 private:
  rapidjson::Document body_;
  std::optional<dynamo_error> error_;
};

}  // namespace apigw
