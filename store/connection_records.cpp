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
result<bool> run_write(database& db, statement& st) {
  if (st.step() != statement::step_result::done) return fail("the store failed: " + st.error_message());
  return db.changes() > 0;
}

}  // namespace

status connection_records::open(bool clear_previous) {
  auto created = db_.exec(
      std::string("CREATE TABLE IF NOT EXISTS connections ("
      "  id TEXT PRIMARY KEY NOT NULL,"
      "  connected_at INTEGER NOT NULL,"    // epoch milliseconds
      "  last_active_at INTEGER NOT NULL,"  // epoch milliseconds
      "  source_ip TEXT NOT NULL,"
      "  user_agent TEXT NOT NULL,"
      "  authorizer TEXT"                     // JSON, or NULL without an authorizer
      ") WITHOUT ROWID;") +                   // the id is the key: stored once, not twice
      (clear_previous ? "DELETE FROM connections;" : ""));
  if (!created) {
    return fail("cannot prepare the connections table in " + db_.path() + ": " + created.error());
  }
  return {};
}

status connection_records::insert(const connection_record& r) {
  auto p = db_.prepare(
      "INSERT OR REPLACE INTO connections (id, connected_at, last_active_at, source_ip, user_agent, authorizer) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!p) return fail("the store failed: " + p.error());
  auto& st = *p;
  st->bind_text(1, r.id);
  st->bind_int64(2, r.connected_at);
  st->bind_int64(3, r.last_active_at);
  st->bind_text(4, r.source_ip);
  st->bind_text(5, r.user_agent);
  if (r.authorizer) st->bind_text(6, *r.authorizer);
  if (st->step() != statement::step_result::done) return fail("the store failed: " + st->error_message());
  return {};
}

result<bool> connection_records::touch(std::string_view id, std::int64_t at_ms) {
  auto p = db_.prepare("UPDATE connections SET last_active_at = ?2 WHERE id = ?1");
  if (!p) return fail("the store failed: " + p.error());
  auto& st = *p;
  st->bind_text(1, id);
  st->bind_int64(2, at_ms);
  return run_write(db_, *st);
}

result<bool> connection_records::remove(std::string_view id) {
  auto p = db_.prepare("DELETE FROM connections WHERE id = ?1");
  if (!p) return fail("the store failed: " + p.error());
  auto& st = *p;
  st->bind_text(1, id);
  return run_write(db_, *st);
}

result<std::optional<connection_record>> connection_records::get(std::string_view id) {
  auto p = db_.prepare(
      "SELECT id, connected_at, last_active_at, source_ip, user_agent, authorizer FROM connections WHERE id = ?1");
  if (!p) return fail("the store failed: " + p.error());
  auto& st = *p;
  st->bind_text(1, id);
  switch (st->step()) {
    case statement::step_result::row: return std::optional<connection_record>(read_row(*st));
    case statement::step_result::done: return std::optional<connection_record>();
    case statement::step_result::error: break;
  }
  return fail("the store failed: " + st->error_message());
}

result<std::vector<connection_record>> connection_records::list() {
  auto p = db_.prepare(
      "SELECT id, connected_at, last_active_at, source_ip, user_agent, authorizer FROM connections "
      "ORDER BY connected_at, id");
  if (!p) return fail("the store failed: " + p.error());
  auto& st = *p;
  std::vector<connection_record> out;
  while (true) {
    auto step = st->step();
    if (step == statement::step_result::done) return out;
    if (step == statement::step_result::error) return fail("the store failed: " + st->error_message());
    out.push_back(read_row(*st));
  }
}

}  // namespace apigw::store
