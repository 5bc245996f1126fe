#include "store/database.hpp"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace apigw::store {
namespace {

// Ok unless something says that PATH cannot be written, else why: SQLite's own message for a
// read-only file system is only "unable to open database file".
status check_writable(const std::string& path) {
  const std::filesystem::path file(path);
  const std::filesystem::path folder = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  struct statvfs fs {};
  if (::statvfs(folder.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
    return fail(folder.string() + " is on a read-only file system");
  }
  if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0) {
    return fail(path + " cannot be written (" + std::strerror(errno) + ")");
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    return fail("its folder " + folder.string() + " cannot be written (" + std::strerror(errno) + ")");
  }
  return {};
}

// "cannot open the store PATH: WHAT", and why the file cannot be written when that is the cause.
std::string open_error(const std::string& path, const std::string& what) {
  std::string message = "cannot open the store " + path + ": " + what;
  if (const auto writable = check_writable(path); !writable) {
    message += "; " + writable.error() + ", and the emulator writes its store (with the -wal and -shm files next to it): "
               "give --store a writable path";
  }
  return message;
}

}  // namespace

void database::closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

database::database(open_key, sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

database::~database() {
  // Statements first: sqlite3_close_v2 would otherwise keep the connection alive as a zombie.
  cache_.clear();
}

result<std::unique_ptr<database>> database::open(const std::string& path,
                                                 std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  // FULLMUTEX is not needed (the owner serializes calls); NOMUTEX saves a lock per call.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  auto db = std::make_unique<database>(open_key{}, raw, path);  // owns RAW even when open failed
  if (rc != SQLITE_OK) {
    return fail(open_error(path, raw ? std::string(sqlite3_errmsg(raw)) : std::string(sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));

  if (!db->in_memory()) {
    // journal_mode returns the mode it ended in; a file on a filesystem without shared memory
    // support stays in "delete" mode, which is slower but correct.
    if (auto s = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s) {
      return fail(open_error(path, s.error()));
    }
    // SQLite falls back to reading a file it cannot write; the store must be written.
    if (sqlite3_db_readonly(raw, "main") == 1) return fail(open_error(path, "SQLite can only read it"));
  }
  if (auto s = db->exec("PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"); !s) {
    return fail("cannot open the store " + path + ": " + s.error());
  }
  return db;
}

status database::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string out = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return fail(std::move(out));
}

result<statement::lease> database::prepare(std::string_view sql) {
  std::string key(sql);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(raw);
      return fail(error_message());
    }
    it = cache_.emplace(std::move(key), std::make_unique<statement>(raw)).first;
  }
  return statement::lease(it->second.get());
}

std::string database::error_message() const { return sqlite3_errmsg(db_.get()); }

int database::changes() const { return sqlite3_changes(db_.get()); }

}  // namespace apigw::store
