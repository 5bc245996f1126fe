// DynamoDB as handlers see it: the DynamoDB API's request and response JSON, on the emulator's
// SQLite store, with the integration's IAM permissions applied.
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <string_view>

#include <rapidjson/document.h>

#include "apigw/dynamo_result.hpp"
#include "apigw/export.hpp"

namespace apigw {

class APIGW_EXPORT tables_api {
 public:
  virtual ~tables_api() = default;

  // OPERATION: a DynamoDB operation the store serves ("PutItem", "GetItem", "DeleteItem",
  // "UpdateItem", "Query", "Scan", the batch and transaction operations, the table operations;
  // docs/store.md lists them); REQUEST: the DynamoDB request object, e.g.
  // {"TableName": "t", "Key": {"id": {"S": "a"}}}. Errors are DynamoDB's (ValidationException,
  // ResourceNotFoundException, ConditionalCheckFailedException, AccessDeniedException …), as
  // values: call() does not throw for them.
  virtual dynamo_result call(std::string_view operation, const rapidjson::Value& request) = 0;
};

}  // namespace apigw
