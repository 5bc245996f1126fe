#include "store/session_store.hpp"

#include <iostream>
#include <unordered_map>

#include <rapidjson/error/en.h>

namespace apigw::store {
namespace {

// PRAGMA application_id of an emulator store ("AGWS"), so that another program's SQLite file
// given to --store is refused instead of being written into.
constexpr std::int64_t application_id = 0x41475753;
constexpr std::int64_t schema_version = 1;

std::variant<std::int64_t, std::string> pragma_int(database& db, std::string_view sql) {
  auto p = db.prepare(sql);
  if (auto* e = std::get_if<std::string>(&p)) return *e;
  auto& st = std::get<statement::lease>(p);
  if (st->step() != statement::step_result::row) return st->error_message();
  return st->column_int64(0);
}

std::optional<std::string> check_owner(database& db) {
  auto id = pragma_int(db, "PRAGMA application_id");
  if (auto* e = std::get_if<std::string>(&id)) return "cannot read " + db.path() + ": " + *e;
  if (std::get<std::int64_t>(id) == application_id) {
    auto version = pragma_int(db, "PRAGMA user_version");
    if (auto* e = std::get_if<std::string>(&version)) return "cannot read " + db.path() + ": " + *e;
    if (std::get<std::int64_t>(version) > schema_version) {
      return db.path() + " was written by a newer emulator (store format " +
             std::to_string(std::get<std::int64_t>(version)) + ", this one reads " +
             std::to_string(schema_version) + "); use a newer emulator or another file";
    }
    return std::nullopt;
  }
  if (std::get<std::int64_t>(id) != 0) {
    return db.path() + " is a SQLite database of another program (application_id " +
           std::to_string(std::get<std::int64_t>(id)) + "), not an emulator store; give --store a new file";
  }
  auto p = db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "AND name NOT IN ('store_tables', 'store_items', 'connections') LIMIT 1");
  if (auto* e = std::get_if<std::string>(&p)) return "cannot read " + db.path() + ": " + *e;
  auto& st = std::get<statement::lease>(p);
  auto step = st->step();
  if (step == statement::step_result::error) return "cannot read " + db.path() + ": " + st->error_message();
  if (step == statement::step_result::row) {
    return db.path() + " is a SQLite database of another program (it has the table " +
           std::string(st->column_text(0)) + "), not an emulator store; give --store a new file";
  }
  return std::nullopt;
}

}  // namespace

session_store::session_store(std::unique_ptr<database> db, const options& opts)
    : path_(opts.path), db_(std::move(db)), items_(*db_), connections_(*db_),
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

std::variant<std::unique_ptr<session_store>, std::string> session_store::open(
    const options& opts, const std::vector<table_schema>& tables) {
  auto opened = database::open(opts.path, opts.busy_timeout);
  if (auto* e = std::get_if<std::string>(&opened)) return *e;
  auto store = std::make_unique<session_store>(std::move(std::get<std::unique_ptr<database>>(opened)), opts);
  database& db = *store->db_;

  if (auto err = check_owner(db)) return *err;
  // One transaction: a schema mismatch leaves the file exactly as it was.
  if (auto err = db.exec("BEGIN IMMEDIATE")) return "cannot write " + opts.path + ": " + *err;
  std::optional<std::string> err = store->items_.open(tables);
  if (!err) err = store->connections_.open(!opts.keep_connection_records);
  if (!err) {
    err = db.exec("PRAGMA application_id = " + std::to_string(application_id) +
                  "; PRAGMA user_version = " + std::to_string(schema_version) + ";");
  }
  if (err) {
    db.exec("ROLLBACK");
    return *err;
  }
  if (auto commit = db.exec("COMMIT")) return "cannot write " + opts.path + ": " + *commit;
  return store;
}

std::vector<table_schema> session_store::tables() const {
  std::lock_guard lock(mutex_);
  return items_.tables();
}

dynamo_result session_store::put_item(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.put_item(request);
}

dynamo_result session_store::get_item(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.get_item(request);
}

dynamo_result session_store::delete_item(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.delete_item(request);
}

dynamo_result session_store::update_item(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.update_item(request);
}

dynamo_result session_store::query(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.query(request);
}

dynamo_result session_store::scan(const rapidjson::Value& request) {
  std::lock_guard lock(mutex_);
  return items_.scan(request);
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
  return dynamo_result(dynamo_error::unknown_operation,
                       "The emulator's store supports PutItem, GetItem, DeleteItem, UpdateItem, Query and "
                       "Scan, not " + std::string(operation));
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

std::optional<std::string> session_store::insert_connection(const connection_record& r) {
  std::lock_guard lock(mutex_);
  return connections_.insert(r);
}

std::variant<bool, std::string> session_store::touch_connection(std::string_view id, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  return connections_.touch(id, at_ms);
}

std::variant<bool, std::string> session_store::delete_connection(std::string_view id) {
  std::lock_guard lock(mutex_);
  return connections_.remove(id);
}

std::variant<std::optional<connection_record>, std::string> session_store::get_connection(std::string_view id) {
  flush_connection_records();
  std::lock_guard lock(mutex_);
  return connections_.get(id);
}

std::variant<std::vector<connection_record>, std::string> session_store::list_connections() {
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
  std::optional<std::string> error = db_->exec("BEGIN IMMEDIATE");
  for (std::size_t i = 0; i < batch.size() && !error; ++i) {
    if (skip[i]) continue;
    if (batch[i].insert) {
      error = connections_.insert(batch[i].record);
    } else if (auto removed = connections_.remove(batch[i].record.id); auto* e = std::get_if<std::string>(&removed)) {
      error = *e;
    }
  }
  if (error) {
    db_->exec("ROLLBACK");
    std::cerr << "store: cannot write connection records to " << path_ << ": " << *error << "\n";
    return;
  }
  if (auto e = db_->exec("COMMIT")) {
    std::cerr << "store: cannot write connection records to " << path_ << ": " << *e << "\n";
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
