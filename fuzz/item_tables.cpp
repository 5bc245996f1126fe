// libFuzzer target: DynamoDB requests on the store's item tables (PutItem, GetItem, DeleteItem,
// UpdateItem, Query, Scan, BatchWriteItem, BatchGetItem, TransactWriteItems, TransactGetItems,
// the table operations, ReturnConsumedCapacity: attribute values, expressions, keys, paging,
// batches, transactions) over an in-memory SQLite
// database with four tables: "t" (pk S), "r" (pk S, sk N), "b" (pk B, sk S) and "g" (pk S, sk N)
// with a global index "gi" (gk S, sk N; INCLUDE a) and a local one "li" (pk, lk B; KEYS_ONLY).
// Input: one request a line, "Operation {request JSON}". Each input starts from empty tables.
// Checks beyond "no crash": no request ends in an InternalServerError (the store failing), and
// every response serializes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "store/database.hpp"
#include "apigw/dynamo_result.hpp"
#include "store/consumed_capacity.hpp"
#include "store/item_tables.hpp"
#include "store/table_schema.hpp"

namespace {

namespace rj = rapidjson;
using namespace apigw::store;
using apigw::dynamo_error;
using apigw::dynamo_result;

// At most this many requests an input, so that one input stays fast.
constexpr int k_max_requests = 16;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "item_tables fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

std::vector<table_schema> tables() {
  table_schema t{"t", {"pk", key_type::S}, std::nullopt, "", {}};
  table_schema r{"r", {"pk", key_type::S}, key_attribute{"sk", key_type::N}, "", {}};
  table_schema b{"b", {"pk", key_type::B}, key_attribute{"sk", key_type::S}, "", {}};
  table_schema g{"g", {"pk", key_type::S}, key_attribute{"sk", key_type::N}, "", {}};
  g.indexes.push_back({"gi", true, {"gk", key_type::S}, key_attribute{"sk", key_type::N},
                       projection_type::include, {"a"}});
  g.indexes.push_back({"li", false, {"pk", key_type::S}, key_attribute{"lk", key_type::B},
                       projection_type::keys_only, {}});
  return {t, r, b, g};
}

dynamo_result call(item_tables& items, std::string_view operation, const rj::Value& request) {
  if (operation == "PutItem") return items.put_item(request);
  if (operation == "GetItem") return items.get_item(request);
  if (operation == "DeleteItem") return items.delete_item(request);
  if (operation == "UpdateItem") return items.update_item(request);
  if (operation == "Query") return items.query(request);
  if (operation == "BatchWriteItem") return items.batch_write_item(request);
  if (operation == "BatchGetItem") return items.batch_get_item(request);
  if (operation == "TransactWriteItems") return items.transact_write_items(request);
  if (operation == "TransactGetItems") return items.transact_get_items(request);
  if (operation == "CreateTable") return items.create_table(request);
  if (operation == "DeleteTable") return items.delete_table(request);
  if (operation == "DescribeTable") return items.describe_table(request);
  if (operation == "UpdateTable") return items.update_table(request);
  if (operation == "ListTables") return items.list_tables(request);
  if (operation == "UpdateTimeToLive") return items.update_time_to_live(request);
  if (operation == "DescribeTimeToLive") return items.describe_time_to_live(request);
  return items.scan(request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto opened = database::open(std::string(database::memory_path));
  if (!opened) fail("cannot open an in-memory database", opened.error());
  auto db = *std::move(opened);
  item_tables items(*db, "arn:aws:dynamodb:us-east-1:123456789012:table/");
  if (auto declared = items.open(tables()); !declared) fail("cannot declare the tables", declared.error());

  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int n = 0; n < k_max_requests && !input.empty(); ++n) {
    const std::size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view{} : input.substr(end + 1);
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    const std::string_view operation = line.substr(0, space);
    const std::string_view json = line.substr(space + 1);
    rj::Document request;
    request.Parse(json.data(), json.size());
    if (request.HasParseError()) continue;
    capacity_report report = capacity_report::none;
    if (read_capacity_report(request, report)) continue;
    items.expire_items();
    dynamo_result result = call(items, operation, request);
    add_consumed_capacity(operation, request, report, result);
    if (!result.ok() && result.error().type == dynamo_error::internal) {
      fail("the store failed", result.error().message);
    }
    (void)result.to_json();
  }
  return 0;
}
