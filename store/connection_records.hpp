// The emulator's own connection records: the SQLite table "connections" (id, connected_at,
// last_active_at, source_ip, user_agent, authorizer), kept for inspection with sqlite3 or the CLI.
// Thread-safety: none; session_store serializes every call with its mutex.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "store/connection_record.hpp"
#include "store/database.hpp"

namespace apigw::store {

class connection_records {
 public:
  // REQUIRES: DB outlives this.
  explicit connection_records(database& db) : db_(db) {}
  connection_records(const connection_records&) = delete;
  connection_records& operator=(const connection_records&) = delete;

  // Creates the table when missing and clears it: the records of a previous run describe
  // sockets that are gone.
  // CLEAR_PREVIOUS: drop the records of an earlier run (their sockets are gone).
  status open(bool clear_previous);

  // Insert or replace (a connectionId is never reused, so replace only matters in tests).
  status insert(const connection_record& r);
  // Sets last_active_at; false when no record has that id.
  result<bool> touch(std::string_view id, std::int64_t at_ms);
  // false when no record has that id.
  result<bool> remove(std::string_view id);
  result<std::optional<connection_record>> get(std::string_view id);
  // In the order of connection (then id).
  result<std::vector<connection_record>> list();

 private:
  database& db_;
};

}  // namespace apigw::store
