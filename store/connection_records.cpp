#include "store/connection_records.hpp"

namespace apigw::store {
namespace {

connection_record read_row(statement& st) {
  connection_record r;
  r.id = st.column_text(0);
  r.connected_at = st.column_int64(1);
  r.last_active_at = st.column_int64(2);
  r.source_ip = st.column_text(3);
  r.user_agent = st.column_text(4);
  if (!st.column_is_null(5)) r.authorizer = std::string(st.column_text(5));
  return r;
}

// Runs a write statement and reports whether it changed a row.
std::variant<bool, std::string> run_write(database& db, statement& st) {
  if (st.step() != statement::step_result::done) return "the store failed: " + st.error_message();
  return db.changes() > 0;
}

}  // namespace

std::optional<std::string> connection_records::open(bool clear_previous) {
  if (auto err = db_.exec(
          std::string("CREATE TABLE IF NOT EXISTS connections ("
          "  id TEXT PRIMARY KEY NOT NULL,"
          "  connected_at INTEGER NOT NULL,"    // epoch milliseconds
          "  last_active_at INTEGER NOT NULL,"  // epoch milliseconds
          "  source_ip TEXT NOT NULL,"
          "  user_agent TEXT NOT NULL,"
          "  authorizer TEXT);") +                // JSON, or NULL without an authorizer
          (clear_previous ? "DELETE FROM connections;" : ""))) {
    return "cannot prepare the connections table in " + db_.path() + ": " + *err;
  }
  return std::nullopt;
}

std::optional<std::string> connection_records::insert(const connection_record& r) {
  auto p = db_.prepare(
      "INSERT OR REPLACE INTO connections (id, connected_at, last_active_at, source_ip, user_agent, authorizer) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (auto* e = std::get_if<std::string>(&p)) return "the store failed: " + *e;
  auto& st = std::get<statement::lease>(p);
  st->bind_text(1, r.id);
  st->bind_int64(2, r.connected_at);
  st->bind_int64(3, r.last_active_at);
  st->bind_text(4, r.source_ip);
  st->bind_text(5, r.user_agent);
  if (r.authorizer) st->bind_text(6, *r.authorizer);
  if (st->step() != statement::step_result::done) return "the store failed: " + st->error_message();
  return std::nullopt;
}

std::variant<bool, std::string> connection_records::touch(std::string_view id, std::int64_t at_ms) {
  auto p = db_.prepare("UPDATE connections SET last_active_at = ?2 WHERE id = ?1");
  if (auto* e = std::get_if<std::string>(&p)) return "the store failed: " + *e;
  auto& st = std::get<statement::lease>(p);
  st->bind_text(1, id);
  st->bind_int64(2, at_ms);
  return run_write(db_, *st);
}

std::variant<bool, std::string> connection_records::remove(std::string_view id) {
  auto p = db_.prepare("DELETE FROM connections WHERE id = ?1");
  if (auto* e = std::get_if<std::string>(&p)) return "the store failed: " + *e;
  auto& st = std::get<statement::lease>(p);
  st->bind_text(1, id);
  return run_write(db_, *st);
}

std::variant<std::optional<connection_record>, std::string> connection_records::get(std::string_view id) {
  auto p = db_.prepare(
      "SELECT id, connected_at, last_active_at, source_ip, user_agent, authorizer FROM connections WHERE id = ?1");
  if (auto* e = std::get_if<std::string>(&p)) return "the store failed: " + *e;
  auto& st = std::get<statement::lease>(p);
  st->bind_text(1, id);
  switch (st->step()) {
    case statement::step_result::row: return std::optional<connection_record>(read_row(*st));
    case statement::step_result::done: return std::optional<connection_record>();
    case statement::step_result::error: break;
  }
  return "the store failed: " + st->error_message();
}

std::variant<std::vector<connection_record>, std::string> connection_records::list() {
  auto p = db_.prepare(
      "SELECT id, connected_at, last_active_at, source_ip, user_agent, authorizer FROM connections "
      "ORDER BY connected_at, id");
  if (auto* e = std::get_if<std::string>(&p)) return "the store failed: " + *e;
  auto& st = std::get<statement::lease>(p);
  std::vector<connection_record> out;
  while (true) {
    auto step = st->step();
    if (step == statement::step_result::done) return out;
    if (step == statement::step_result::error) return "the store failed: " + st->error_message();
    out.push_back(read_row(*st));
  }
}

}  // namespace apigw::store
