#include "store/statement.hpp"

#include <sqlite3.h>

namespace apigw::store {

statement::statement(sqlite3_stmt* stmt) : stmt_(stmt) {}

statement::~statement() { sqlite3_finalize(stmt_); }

void statement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void statement::bind_blob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: key columns hold X'' for "no range key".
  if (bytes.empty()) {
    sqlite3_bind_zeroblob(stmt_, index, 0);
    return;
  }
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

void statement::bind_int64(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}

void statement::bind_double(int index, double value) { sqlite3_bind_double(stmt_, index, value); }

void statement::bind_null(int index) { sqlite3_bind_null(stmt_, index); }

statement::step_result statement::step() {
  switch (sqlite3_step(stmt_)) {
    case SQLITE_ROW: return step_result::row;
    case SQLITE_DONE: return step_result::done;
    default: return step_result::error;
  }
}

std::string_view statement::column_text(int index) {
  const unsigned char* p = sqlite3_column_text(stmt_, index);
  if (!p) return {};
  return {reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

std::string_view statement::column_blob(int index) {
  const void* p = sqlite3_column_blob(stmt_, index);
  if (!p) return {};
  return {static_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index))};
}

std::int64_t statement::column_int64(int index) { return sqlite3_column_int64(stmt_, index); }

bool statement::column_is_null(int index) {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string statement::error_message() const { return sqlite3_errmsg(sqlite3_db_handle(stmt_)); }

}  // namespace apigw::store
