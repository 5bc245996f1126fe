#include "store/session_store.hpp"

#include <iostream>
#include <unordered_map>

#include <rapidjson/error/en.h>

#include "store/consumed_capacity.hpp"

namespace apigw::store {
namespace {

// PRAGMA application_id of an emulator store ("AGWS"), so that another program's SQLite file
// given to --store is refused instead of being written into.
constexpr std::int64_t application_id = 0x41475753;
constexpr std::int64_t schema_version = 1;

result<std::int64_t> pragma_int(database& db, std::string_view sql) {
  auto p = db.prepare(sql);
  if (!p) return fail(p.error());
  auto& st = *p;
  if (st->step() != statement::step_result::row) return fail(st->error_message());
  return st->column_int64(0);
}

status check_owner(database& db) {
  auto id = pragma_int(db, "PRAGMA application_id");
  if (!id) return fail("cannot read " + db.path() + ": " + id.error());
  if (*id == application_id) {
    auto version = pragma_int(db, "PRAGMA user_version");
    if (!version) return fail("cannot read " + db.path() + ": " + version.error());
    if (*version > schema_version) {
      return fail(db.path() + " was written by a newer emulator (store format " + std::to_string(*version) +
                  ", this one reads " + std::to_string(schema_version) + "); use a newer emulator or another file");
    }
    return {};
  }
  if (*id != 0) {
    return fail(db.path() + " is a SQLite database of another program (application_id " + std::to_string(*id) +
                "), not an emulator store; give --store a new file");
  }
  auto p = db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "AND name NOT IN ('store_tables', 'store_items', 'store_index', 'connections') LIMIT 1");
  if (!p) return fail("cannot read " + db.path() + ": " + p.error());
  auto& st = *p;
  auto step = st->step();
  if (step == statement::step_result::error) return fail("cannot read " + db.path() + ": " + st->error_message());
  if (step == statement::step_result::row) {
    return fail(db.path() + " is a SQLite database of another program (it has the table " +
                std::string(st->column_text(0)) + "), not an emulator store; give --store a new file");
  }
  return {};
}

}  // namespace

session_store::session_store(std::unique_ptr<database> db, const options& opts)
    : path_(opts.path), db_(std::move(db)), items_(*db_, opts.table_arn_prefix), connections_(*db_),
      record_writer_([this] { run_record_writer(); }) {}

session_store::~session_store() {
  {
    std::lock_guard lock(pending_mutex_);
    stopping_ = true;
  }
  pending_cv_.notify_one();
  record_writer_.join();
  flush_connection_records();
}

result<std::unique_ptr<session_store>> session_store::open(const options& opts,
                                                           const std::vector<table_schema>& tables) {
  auto opened = database::open(opts.path, opts.busy_timeout);
  if (!opened) return fail(opened.error());
  auto store = std::make_unique<session_store>(*std::move(opened), opts);
  database& db = *store->db_;

  if (auto owner = check_owner(db); !owner) return fail(owner.error());
  // One transaction: a schema mismatch leaves the file exactly as it was.
  if (auto begin = db.exec("BEGIN IMMEDIATE"); !begin) return fail("cannot write " + opts.path + ": " + begin.error());
  status s = store->items_.open(tables);
  if (s) s = store->connections_.open(!opts.keep_connection_records);
  if (s) {
    s = db.exec("PRAGMA application_id = " + std::to_string(application_id) +
                "; PRAGMA user_version = " + std::to_string(schema_version) + ";");
  }
  if (!s) {
    static_cast<void>(db.exec("ROLLBACK"));  // S says what went wrong; a failed ROLLBACK adds nothing
    return fail(s.error());
  }
  if (auto commit = db.exec("COMMIT"); !commit) return fail("cannot write " + opts.path + ": " + commit.error());
  return store;
}

std::vector<table_schema> session_store::tables() const {
  std::lock_guard lock(mutex_);
  return items_.tables();
}

template <class Operation>
dynamo_result session_store::serve_item_operation(std::string_view name, const rapidjson::Value& request,
                                                  Operation operation) {
  capacity_report report = capacity_report::none;
  if (auto refusal = read_capacity_report(request, report)) return std::move(*refusal);
  std::lock_guard lock(mutex_);
  items_.expire_items();
  dynamo_result r = operation();
  const secondary_index* index = nullptr;
  if (report == capacity_report::indexes && request.IsObject()) {
    const auto table = request.FindMember("TableName");
    const auto index_name = request.FindMember("IndexName");
    if (table != request.MemberEnd() && table->value.IsString() && index_name != request.MemberEnd() &&
        index_name->value.IsString()) {
      if (const table_schema* t = items_.find(table->value.GetString())) index = t->find_index(index_name->value.GetString());
    }
  }
  add_consumed_capacity(name, request, report, r, index);
  return r;
}

dynamo_result session_store::put_item(const rapidjson::Value& request) {
  return serve_item_operation("PutItem", request, [&] { return items_.put_item(request); });
}

dynamo_result session_store::batch_write_item(const rapidjson::Value& request) {
  return serve_item_operation("BatchWriteItem", request, [&] { return items_.batch_write_item(request); });
}

dynamo_result session_store::batch_get_item(const rapidjson::Value& request) {
  return serve_item_operation("BatchGetItem", request, [&] { return items_.batch_get_item(request); });
}

dynamo_result session_store::get_item(const rapidjson::Value& request) {
  return serve_item_operation("GetItem", request, [&] { return items_.get_item(request); });
}

dynamo_result session_store::delete_item(const rapidjson::Value& request) {
  return serve_item_operation("DeleteItem", request, [&] { return items_.delete_item(request); });
}

dynamo_result session_store::update_item(const rapidjson::Value& request) {
  return serve_item_operation("UpdateItem", request, [&] { return items_.update_item(request); });
}

dynamo_result session_store::query(const rapidjson::Value& request) {
  return serve_item_operation("Query", request, [&] { return items_.query(request); });
}

dynamo_result session_store::scan(const rapidjson::Value& request) {
  return serve_item_operation("Scan", request, [&] { return items_.scan(request); });
}

dynamo_result session_store::transact_write_items(const rapidjson::Value& request) {
  return serve_item_operation("TransactWriteItems", request, [&] { return items_.transact_write_items(request); });
}

dynamo_result session_store::transact_get_items(const rapidjson::Value& request) {
  return serve_item_operation("TransactGetItems", request, [&] { return items_.transact_get_items(request); });
}

dynamo_result session_store::create_table(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.create_table(request);
}

dynamo_result session_store::delete_table(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.delete_table(request);
}

dynamo_result session_store::describe_table(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.describe_table(request);
}

dynamo_result session_store::update_table(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.update_table(request);
}

dynamo_result session_store::list_tables(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.list_tables(request);
}

dynamo_result session_store::update_time_to_live(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.update_time_to_live(request);
}

dynamo_result session_store::describe_time_to_live(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.describe_time_to_live(request);
}

dynamo_result session_store::call(std::string_view operation, const rapidjson::Value& request) {
  constexpr std::string_view target_prefix = "DynamoDB_20120810.";
  if (operation.substr(0, target_prefix.size()) == target_prefix) operation.remove_prefix(target_prefix.size());
  if (operation == "PutItem") return put_item(request);
  if (operation == "GetItem") return get_item(request);
  if (operation == "DeleteItem") return delete_item(request);
  if (operation == "UpdateItem") return update_item(request);
  if (operation == "Query") return query(request);
  if (operation == "Scan") return scan(request);
  if (operation == "BatchWriteItem") return batch_write_item(request);
  if (operation == "BatchGetItem") return batch_get_item(request);
  if (operation == "TransactWriteItems") return transact_write_items(request);
  if (operation == "TransactGetItems") return transact_get_items(request);
  if (operation == "CreateTable") return create_table(request);
  if (operation == "DeleteTable") return delete_table(request);
  if (operation == "DescribeTable") return describe_table(request);
  if (operation == "UpdateTable") return update_table(request);
  if (operation == "ListTables") return list_tables(request);
  if (operation == "UpdateTimeToLive") return update_time_to_live(request);
  if (operation == "DescribeTimeToLive") return describe_time_to_live(request);
  return dynamo_result(dynamo_error::unknown_operation,
                       "The emulator's store supports PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan, "
                       "BatchWriteItem, BatchGetItem, TransactWriteItems, TransactGetItems, CreateTable, DeleteTable, "
                       "DescribeTable, UpdateTable, ListTables, UpdateTimeToLive and DescribeTimeToLive, not " + std::string(operation));
}

dynamo_result session_store::call_json(std::string_view operation, std::string_view request_json) {
  rapidjson::Document request;
  request.Parse<rapidjson::kParseIterativeFlag>(request_json.data(), request_json.size());
  if (request.HasParseError()) {
    return dynamo_result(dynamo_error::serialization,
                         std::string("The request is not JSON: ") + rapidjson::GetParseError_En(request.GetParseError()) +
                             " at offset " + std::to_string(request.GetErrorOffset()));
  }
  return call(operation, request);
}

status session_store::insert_connection(const connection_record& r) {
  std::lock_guard lock(mutex_);
  return connections_.insert(r);
}

result<bool> session_store::touch_connection(std::string_view id, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  return connections_.touch(id, at_ms);
}

result<bool> session_store::delete_connection(std::string_view id) {
  std::lock_guard lock(mutex_);
  return connections_.remove(id);
}

result<std::optional<connection_record>> session_store::get_connection(std::string_view id) {
  flush_connection_records();
  std::lock_guard lock(mutex_);
  return connections_.get(id);
}

result<std::vector<connection_record>> session_store::list_connections() {
  flush_connection_records();
  std::lock_guard lock(mutex_);
  return connections_.list();
}

void session_store::record_connection_later(connection_record r) {
  std::lock_guard lock(pending_mutex_);
  pending_.push_back({true, std::move(r)});
}

void session_store::forget_connection_later(std::string id) {
  std::lock_guard lock(pending_mutex_);
  pending_record p;
  p.record.id = std::move(id);
  pending_.push_back(std::move(p));
}

void session_store::flush_connection_records() {
  std::vector<pending_record> batch;
  {
    std::lock_guard lock(pending_mutex_);
    batch.swap(pending_);
  }
  if (!batch.empty()) write_pending(std::move(batch));
}

void session_store::write_pending(std::vector<pending_record> batch) {
  // A connection that opened and closed within the batch needs no write.
  std::unordered_map<std::string_view, std::size_t> inserted;
  std::vector<bool> skip(batch.size(), false);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].insert) {
      inserted[batch[i].record.id] = i;
    } else if (auto it = inserted.find(batch[i].record.id); it != inserted.end()) {
      skip[it->second] = skip[i] = true;
      inserted.erase(it);
    }
  }
  std::lock_guard lock(mutex_);
  status s = db_->exec("BEGIN IMMEDIATE");
  for (std::size_t i = 0; i < batch.size() && s; ++i) {
    if (skip[i]) continue;
    s = batch[i].insert ? connections_.insert(batch[i].record) : connections_.remove(batch[i].record.id).status();
  }
  if (!s) {
    static_cast<void>(db_->exec("ROLLBACK"));  // S says what went wrong; a failed ROLLBACK adds nothing
    std::cerr << "store: cannot write connection records to " << path_ << ": " << s.error() << "\n";
    return;
  }
  if (auto commit = db_->exec("COMMIT"); !commit) {
    std::cerr << "store: cannot write connection records to " << path_ << ": " << commit.error() << "\n";
  }
}

void session_store::run_record_writer() {
  std::unique_lock lock(pending_mutex_);
  while (!stopping_) {
    pending_cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; });
    if (pending_.empty()) continue;
    std::vector<pending_record> batch;
    batch.swap(pending_);
    lock.unlock();
    write_pending(std::move(batch));
    lock.lock();
  }
}

}  // namespace apigw::store
