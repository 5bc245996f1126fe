// ReturnConsumedCapacity: the capacity units an item operation would have used on DynamoDB,
// added to its answer as ConsumedCapacity. DynamoDB's rules: a write uses 1 unit per KB of the
// item written (at least 1); a read 1 unit per 4 KB read, half that when eventually consistent
// (ConsistentRead absent or false); a transaction twice either. What is estimated: UpdateItem
// and DeleteItem count 1 unit (DynamoDB counts the larger of the old and new item), and Query
// and Scan count the items they return (DynamoDB counts what it read before the filter).
// Thread-safety: free functions without shared state.
#pragma once

#include <optional>
#include <string_view>

#include <rapidjson/document.h>

#include "apigw/dynamo_result.hpp"
#include "store/table_schema.hpp"

namespace apigw::store {

enum class capacity_report { none, total, indexes };

// REQUEST's ReturnConsumedCapacity, or the ValidationException of a value that is not
// NONE, TOTAL or INDEXES (checked before the operation runs).
std::optional<dynamo_result> read_capacity_report(const rapidjson::Value& request, capacity_report& out);

// Adds ConsumedCapacity to the successful answer R of OPERATION: one object for a one-table
// operation, an array (one entry per table) for the batch and transaction operations. INDEX is
// the secondary index a Query or Scan read (IndexName); with INDEXES its units show under it.
void add_consumed_capacity(std::string_view operation, const rapidjson::Value& request, capacity_report report,
                           dynamo_result& r, const secondary_index* index = nullptr);

}  // namespace apigw::store
