// One SQLite connection (RAII over sqlite3*): opens ":memory:" or a file in WAL mode, sets the
// busy timeout and caches prepared statements by their SQL text.
// Thread-safety: none; the owner (session_store) serializes every call with its own mutex.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"
#include "store/statement.hpp"

struct sqlite3;

namespace apigw::store {

class database {
 public:
  static constexpr std::string_view memory_path = ":memory:";

  // Opens PATH (":memory:" for a private in-memory database). A file is created when missing and
  // switched to WAL with synchronous=NORMAL: commits append to the log without an fsync each,
  // which survives a crash of the emulator (not of the machine) and keeps $connect cheap.
  // The error names the file and SQLite's reason.
  static result<std::unique_ptr<database>> open(const std::string& path,
                                                std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));

  // Only open() can make the key, so every database went through open()'s set-up.
  class open_key {
    friend class database;
    open_key() = default;
  };
  database(open_key, sqlite3* db, std::string path);
  ~database();
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  const std::string& path() const { return path_; }
  bool in_memory() const { return path_ == memory_path; }

  // Runs SQL that returns no rows (several statements allowed). The error is SQLite's message.
  status exec(std::string_view sql);

  // The statement for SQL, prepared once and reused; reset when the lease ends.
  // REQUIRES: no other lease on the same SQL text is alive (one statement cannot run twice at once).
  result<statement::lease> prepare(std::string_view sql);

  // The connection's message for its last error.
  std::string error_message() const;

  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const;

 private:
  // Closes the connection after the cached statements are finalized (declared first, so it is
  // destroyed last).
  struct closer {
    void operator()(sqlite3* db) const;
  };
  std::unique_ptr<sqlite3, closer> db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<statement>> cache_;
};

}  // namespace apigw::store
