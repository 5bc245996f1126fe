// The store handlers and the emulator share: DynamoDB-shaped item tables and the emulator's
// connection records, in one SQLite database (":memory:" by default, or a file in WAL mode).
// Thread-safety: every member function may be called from any thread at once. One SQLite
// connection serves all of them, guarded by one mutex: each operation (a DynamoDB request, a
// connection record write) runs alone, which makes every operation atomic and gives the single
// writer SQLite wants without busy retries. Operations take microseconds (prepared statements
// are cached); other processes (sqlite3, `store scan`) may read the file at the same time (WAL).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"
#include "store/connection_record.hpp"
#include "store/connection_records.hpp"
#include "store/database.hpp"
#include "apigw/dynamo_result.hpp"
#include "store/item_tables.hpp"
#include "store/table_schema.hpp"

namespace apigw::store {

class session_store {
 public:
  struct options {
    std::string path = std::string(database::memory_path);  // or a file, kept between runs
    std::chrono::milliseconds busy_timeout = std::chrono::seconds(5);
    // For inspecting the file of a running emulator (`store scan`): keep its connection records.
    bool keep_connection_records = false;
    // A table's ARN is this and its name (DescribeTable, CreateTable, DeleteTable).
    std::string table_arn_prefix = "arn:aws:dynamodb:us-east-1:123456789012:table/";
  };

  // Opens the database and declares TABLES. On an existing file, item tables and their items are
  // kept, tables the file holds but TABLES omits stay readable, and the connection records of the
  // previous run are cleared. Errors (an actionable message): the file cannot be opened, is not
  // an emulator store, or holds a declared table with another key schema.
  static result<std::unique_ptr<session_store>> open(const options& opts, const std::vector<table_schema>& tables);

  session_store(std::unique_ptr<database> db, const options& opts);  // use open()
  ~session_store();  // writes the connection records that still wait
  session_store(const session_store&) = delete;
  session_store& operator=(const session_store&) = delete;

  const std::string& path() const { return path_; }
  std::vector<table_schema> tables() const;

  // ---- DynamoDB: the request and response JSON of the DynamoDB API ----
  // REQUIRES: REQUEST outlives the call (the result never refers to it).
  dynamo_result put_item(const rapidjson::Value& request);
  dynamo_result get_item(const rapidjson::Value& request);
  dynamo_result delete_item(const rapidjson::Value& request);
  dynamo_result update_item(const rapidjson::Value& request);
  dynamo_result query(const rapidjson::Value& request);
  dynamo_result scan(const rapidjson::Value& request);
  dynamo_result batch_write_item(const rapidjson::Value& request);
  dynamo_result batch_get_item(const rapidjson::Value& request);
  dynamo_result transact_write_items(const rapidjson::Value& request);
  dynamo_result transact_get_items(const rapidjson::Value& request);
  dynamo_result create_table(const rapidjson::Value& request);
  dynamo_result delete_table(const rapidjson::Value& request);
  dynamo_result describe_table(const rapidjson::Value& request);
  dynamo_result update_table(const rapidjson::Value& request);
  dynamo_result list_tables(const rapidjson::Value& request);
  dynamo_result update_time_to_live(const rapidjson::Value& request);
  dynamo_result describe_time_to_live(const rapidjson::Value& request);

  // By operation name: "PutItem" or the X-Amz-Target form "DynamoDB_20120810.PutItem".
  dynamo_result call(std::string_view operation, const rapidjson::Value& request);
  // The same with the request as JSON text (a SerializationException when it does not parse):
  //   store.call_json("GetItem", R"({"TableName": "t", "Key": {"id": {"S": "a"}}})")
  dynamo_result call_json(std::string_view operation, std::string_view request_json);

  // ---- The emulator's connection records ----
  status insert_connection(const connection_record& r);
  // false when there is no such record.
  result<bool> touch_connection(std::string_view id, std::int64_t at_ms);
  result<bool> delete_connection(std::string_view id);
  result<std::optional<connection_record>> get_connection(std::string_view id);
  result<std::vector<connection_record>> list_connections();

  // The emulator's own bookkeeping, off its hot path: records are written by a background
  // thread in one transaction per batch (at most every 20 ms), and a connection opened and
  // closed within one batch costs no write at all. get_connection() and list_connections()
  // see them at once (they write what waits first). Errors go to standard error.
  void record_connection_later(connection_record r);
  void forget_connection_later(std::string id);
  // Writes the records that wait now.
  void flush_connection_records();

 private:
  std::string path_;
  mutable std::mutex mutex_;
  std::unique_ptr<database> db_;  // guarded by mutex_
  item_tables items_;             // guarded by mutex_
  connection_records connections_;  // guarded by mutex_

  struct pending_record {
    bool insert = false;  // else a delete of record.id
    connection_record record;
  };
  // Under mutex_: OPERATION() (an item operation named NAME), with ReturnConsumedCapacity
  // checked first and answered after.
  template <class Operation>
  dynamo_result serve_item_operation(std::string_view name, const rapidjson::Value& request, Operation operation);
  void write_pending(std::vector<pending_record> batch);  // takes mutex_
  void run_record_writer();

  std::mutex pending_mutex_;
  std::condition_variable pending_cv_;
  std::vector<pending_record> pending_;  // guarded by pending_mutex_
  bool stopping_ = false;                // guarded by pending_mutex_
  std::thread record_writer_;
};

}  // namespace apigw::store
