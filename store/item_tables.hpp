// DynamoDB-shaped item tables on SQLite: PutItem, GetItem, DeleteItem, UpdateItem, Query and
// Scan, each taking DynamoDB's request JSON and giving its response JSON or its error.
// All tables share one SQLite table, store_items(tbl, hk, rk, item): the key columns hold
// order-preserving bytes (attribute_value.hpp), the item its DynamoDB JSON, verbatim.
// Thread-safety: none; session_store serializes every call with its mutex.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"
#include "store/database.hpp"
#include "apigw/dynamo_result.hpp"
#include "store/table_schema.hpp"

namespace apigw::store {

class item_tables {
 public:
  // REQUIRES: DB outlives this.
  explicit item_tables(database& db) : db_(db) {}
  item_tables(const item_tables&) = delete;
  item_tables& operator=(const item_tables&) = delete;

  // Creates the SQLite tables when missing, loads the tables the file already holds, and adds
  // DECLARED. A declared table that the file holds with another key schema is an error naming
  // the table and both schemas; the file is left as it was.
  status open(const std::vector<table_schema>& declared);

  // Every table: declared ones and those the file held, by name.
  std::vector<table_schema> tables() const;
  const table_schema* find(std::string_view name) const;

  dynamo_result put_item(const rapidjson::Value& request);
  dynamo_result get_item(const rapidjson::Value& request);
  dynamo_result delete_item(const rapidjson::Value& request);
  dynamo_result update_item(const rapidjson::Value& request);
  dynamo_result query(const rapidjson::Value& request);
  dynamo_result scan(const rapidjson::Value& request);
  // Validates the whole batch first (tables, keys, items, duplicates, at most 25 requests) and
  // refuses it whole, as DynamoDB does; then writes it in one transaction.
  dynamo_result batch_write_item(const rapidjson::Value& request);
  // At most 100 keys; what would take the answer past 16 MB comes back in UnprocessedKeys.
  dynamo_result batch_get_item(const rapidjson::Value& request);

 private:
  database& db_;
  std::map<std::string, table_schema, std::less<>> tables_;
};

}  // namespace apigw::store
