// What the files serving DynamoDB requests share (item_tables.cpp, table_catalog.cpp): the
// failure they throw and the one place it becomes a dynamo_result, JSON member access, and a
// write transaction. Internal to the store; not installed.
// Thread-safety: free functions without shared state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "apigw/dynamo_result.hpp"
#include "store/database.hpp"
#include "store/statement.hpp"

namespace apigw::store::detail {

namespace rj = rapidjson;

// Thrown while one request is checked and served, so that its many checks share one exit where
// the error becomes a dynamo_result value (guarded()).
struct failure {
  failure(std::string_view t, std::string m, std::shared_ptr<rj::Document> d = nullptr)
      : type(t), message(std::move(m)), details(std::move(d)) {}

  std::string type;  // owned: a failure may outlive the result it came from
  std::string message;
  // What the error carries besides (dynamo_result::body()), e.g. {"Item": ...}; may be null.
  std::shared_ptr<rj::Document> details;
};

[[noreturn]] inline void fail(std::string message) { throw failure{dynamo_error::validation, std::move(message)}; }
[[noreturn]] inline void fail_internal(std::string message) {
  throw failure{dynamo_error::internal, "The store failed: " + std::move(message)};
}

template <class F>
dynamo_result guarded(F&& f) {
  try {
    return f();
  } catch (failure& e) {
    dynamo_result r(e.type, std::move(e.message));
    if (e.details) r.body().CopyFrom(*e.details, r.body().GetAllocator());
    return r;
  }
}

inline std::string_view view(const rj::Value& v) { return {v.GetString(), v.GetStringLength()}; }

inline const rj::Value* member(const rj::Value& object, std::string_view key) {
  auto it = object.FindMember(rj::Value(rj::StringRef(key.data(), key.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

inline std::string to_text(const rj::Value& v) {
  rj::StringBuffer buf;
  rj::Writer<rj::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// "1 validation error detected: Value null at 'key' failed ..." for a missing required member.
inline const rj::Value& required(const rj::Value& request, std::string_view name, std::string_view field) {
  const rj::Value* v = member(request, name);
  if (!v || v->IsNull()) {
    fail("1 validation error detected: Value null at '" + std::string(field) +
         "' failed to satisfy constraint: Member must not be null");
  }
  return *v;
}

inline const rj::Value* optional_string(const rj::Value& request, std::string_view name) {
  const rj::Value* v = member(request, name);
  if (v && !v->IsString()) fail(std::string(name) + " must be a string");
  return v;
}

inline statement::lease prepare(database& db, std::string_view sql) {
  auto r = db.prepare(sql);
  if (!r) fail_internal(r.error());
  return *std::move(r);
}

// BEGIN IMMEDIATE now; ROLLBACK unless commit() was called (a failure thrown midway undoes
// every write of the request).
class write_transaction {
 public:
  explicit write_transaction(database& db) : db_(db) {
    if (auto begin = db_.exec("BEGIN IMMEDIATE"); !begin) fail_internal(begin.error());
  }
  ~write_transaction() {
    if (open_) static_cast<void>(db_.exec("ROLLBACK"));  // the failure in flight says what went wrong
  }
  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;

  void commit() {
    if (auto done = db_.exec("COMMIT"); !done) fail_internal(done.error());
    open_ = false;
  }

 private:
  database& db_;
  bool open_ = true;
};

// SAVEPOINT now; ROLLBACK TO it unless release() was called. Nests inside a write_transaction
// (or another savepoint), so that the several rows of one item's write go in together.
class savepoint {
 public:
  explicit savepoint(database& db) : db_(db) {
    if (auto begin = db_.exec("SAVEPOINT item_write"); !begin) fail_internal(begin.error());
  }
  ~savepoint() {
    if (open_) {
      static_cast<void>(db_.exec("ROLLBACK TO item_write"));
      static_cast<void>(db_.exec("RELEASE item_write"));
    }
  }
  savepoint(const savepoint&) = delete;
  savepoint& operator=(const savepoint&) = delete;

  void release() {
    if (auto done = db_.exec("RELEASE item_write"); !done) fail_internal(done.error());
    open_ = false;
  }

 private:
  database& db_;
  bool open_ = true;
};

}  // namespace apigw::store::detail
