// DynamoDB-shaped item tables on SQLite: PutItem, GetItem, DeleteItem, UpdateItem, Query and
// Scan, each taking DynamoDB's request JSON and giving its response JSON or its error.
// All tables share one SQLite table, store_items(tbl, hk, rk, item): the key columns hold
// order-preserving bytes (attribute_value.hpp), the item its DynamoDB JSON, verbatim. Secondary
// indexes share store_index(tbl, idx, ihk, irk, hk, rk): a row for each item an index has,
// written with the item (a sparse index has only the items with its key attributes).
// The table operations (CreateTable, DeleteTable, DescribeTable, UpdateTable, ListTables) keep
// each table's CreateTable JSON in store_tables(name, definition); they are in table_catalog.cpp.
// Thread-safety: none; session_store serializes every call with its mutex.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"
#include "store/database.hpp"
#include "apigw/dynamo_result.hpp"
#include "store/table_schema.hpp"

namespace apigw::store {

class item_tables {
 public:
  // REQUIRES: DB outlives this. ARN_PREFIX + a table's name is its ARN in table descriptions,
  // e.g. "arn:aws:dynamodb:us-east-1:123456789012:table/".
  item_tables(database& db, std::string arn_prefix) : db_(db), arn_prefix_(std::move(arn_prefix)) {}
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
  // All of its at most 100 actions (ConditionCheck, Put, Update, Delete; one per item) or none:
  // a condition that fails cancels the whole with TransactionCanceledException and a reason for
  // each action. A ClientRequestToken seen in the last 10 minutes with the same request answers
  // again without writing; with another request it is IdempotentParameterMismatchException.
  dynamo_result transact_write_items(const rapidjson::Value& request);
  // At most 100 Gets, read at one point in time (the store serves one request at a time).
  dynamo_result transact_get_items(const rapidjson::Value& request);

  // Tables are ACTIVE at once (CreateTable's answer says so too; AWS's says CREATING, and its
  // waiters poll DescribeTable until ACTIVE, which they then see on the first call), and so are
  // their secondary indexes. Billing mode, throughput and deletion protection are kept and shown;
  // deletion protection is enforced.
  dynamo_result create_table(const rapidjson::Value& request);
  dynamo_result delete_table(const rapidjson::Value& request);
  dynamo_result describe_table(const rapidjson::Value& request);
  dynamo_result update_table(const rapidjson::Value& request);
  dynamo_result list_tables(const rapidjson::Value& request);

  // Time to live, kept in the table's definition as CreateTable's TimeToLiveSpecification (so a
  // declared table may enable it too).
  dynamo_result update_time_to_live(const rapidjson::Value& request);
  dynamo_result describe_time_to_live(const rapidjson::Value& request);
  // Deletes the expired items of the tables with time to live, at most once a second per table:
  // an item whose attribute is a number of seconds since the epoch before now (and not more than
  // five years before: DynamoDB leaves those). Called before every item operation.
  void expire_items();

 private:
  // The table's CreateTable JSON as store_tables keeps it, and when this process first saw it
  // (its CreationDateTime: a store file does not record when a table was made).
  struct table_details {
    std::string definition;
    double created = 0;  // seconds since the epoch
    std::string ttl_attribute;  // empty: time to live is off
    std::chrono::steady_clock::time_point last_expiry{};
  };
  void add_table(const table_schema& schema, std::string definition);
  // Keeps DEFINITION as the table NAME's CreateTable JSON in store_tables.
  void write_definition(const std::string& name, const std::string& definition);
  // Makes the rows of T's secondary indexes from its items anew (an item whose attribute has
  // another type than the index key's is left out, as DynamoDB's backfill does).
  void index_items(const table_schema& t);
  // The table NAME, or a thrown ResourceNotFoundException ("Table: NAME not found").
  const table_schema& existing_table(const std::string& name) const;
  rapidjson::Value describe(const table_schema& t, std::string_view status,
                            rapidjson::Document::AllocatorType& alloc);
  // Adds GlobalSecondaryIndexes and LocalSecondaryIndexes to DESCRIPTION, from DEFINITION.
  void describe_indexes(const table_schema& t, const rapidjson::Value& definition, const std::string& table_arn,
                        rapidjson::Value& description, rapidjson::Document::AllocatorType& alloc);

  dynamo_result condition_check(const rapidjson::Value& action);

  database& db_;
  std::string arn_prefix_;
  // ClientRequestToken -> the request it came with and when, for 10 minutes.
  struct token_use {
    std::string request;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, token_use, std::less<>> tokens_;
  std::map<std::string, table_schema, std::less<>> tables_;
  std::map<std::string, table_details, std::less<>> details_;
};

}  // namespace apigw::store
