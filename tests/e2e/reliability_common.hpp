// Shared pieces of the fault and security tests: the emulator executable as a child
// process, the lab's API with an access log of its events, a SQLite handle on a store file held by
// "another process" (the test), a tiny tmpfs for a full or read-only disk, and a handler that
// blocks until it is released.
// Thread-safety: test-thread only, except gate_handler (invoke() from any thread).
#pragma once

#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_common.hpp"
#include "tests/support/child_process.hpp"

#ifndef APIGW_EMULATOR_BINARY
#error "APIGW_EMULATOR_BINARY must name the apigw-ws-emulator executable"
#endif
#ifndef APIGW_SOURCE_DIR
#error "APIGW_SOURCE_DIR must name the source tree"
#endif

namespace apigw::e2e {

// Polls CONDITION every 10 ms until it holds or TIMEOUT passes.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text_file(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The lab's API (config/websocket-lab.json) with an access log line per event:
// "EVENTTYPE CONNECTIONID STATUS".
inline std::string lab_config_with_access_log() {
  std::string text = read_text_file(APIGW_SOURCE_DIR "/config/websocket-lab.json");
  const std::string stage = R"("stage": {"name": "Prod"})";
  const auto at = text.find(stage);
  if (at == std::string::npos) {
    ADD_FAILURE() << "config/websocket-lab.json no longer has " << stage;
    return text;
  }
  text.replace(at, stage.size(),
               R"("stage": {"name": "Prod", "accessLogFormat": "$context.eventType $context.connectionId $context.status"})");
  return text;
}

// Per connection id of an access log written with lab_config_with_access_log(): accepted
// $connects (status 101) and $disconnects.
struct connect_counts {
  int accepted = 0;
  int disconnects = 0;
};
inline std::map<std::string, connect_counts> count_access_log(const std::string& path) {
  std::map<std::string, connect_counts> per_id;
  std::istringstream in(read_text_file(path));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string type, id, status;
    words >> type >> id >> status;
    if (type == "CONNECT" && status == "101") ++per_id[id].accepted;
    if (type == "DISCONNECT") ++per_id[id].disconnects;
  }
  return per_id;
}

// The apigw-ws-emulator executable with ARGS; the port comes from its listening line, whatever
// the host.
class emulator_child {
 public:
  explicit emulator_child(const std::vector<std::string>& args) : child_(APIGW_EMULATOR_BINARY, args) {
    line_ = child_.read_stdout_line(15s);
    static const std::regex re(R"(^listening on ws://[^:/]+:([0-9]+)/[A-Za-z0-9_-]+\n$)");
    std::smatch m;
    if (std::regex_match(line_, m, re)) port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }

  std::uint16_t port() const { return port_; }
  const std::string& listening_line() const { return line_; }
  child_process& process() { return child_; }
  std::string startup_error() { return "stdout: \"" + line_ + "\", stderr: " + child_.read_stderr_all(500ms); }

  connect_options options(std::string target) const {
    connect_options o;
    o.port = port_;
    o.target = std::move(target);
    return o;
  }

  struct ended {
    std::optional<int> status;  // nullopt: still running after the timeout
    std::string err;
  };
  // SIGTERM, then the exit status and what it wrote on standard error.
  ended stop(std::chrono::milliseconds timeout = 20s) {
    ended e;
    child_.signal(SIGTERM);
    e.status = child_.wait(timeout);
    e.err = child_.read_stderr_all(2s);
    return e;
  }

 private:
  child_process child_;
  std::string line_;
  std::uint16_t port_ = 0;
};

// A SQLite connection of the test's own on a store file: another process, to the emulator.
class sqlite_file {
 public:
  explicit sqlite_file(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << (db_ ? sqlite3_errmsg(db_) : "out of memory");
    }
    // The emulator writes its connection records in the background: wait for its transaction
    // to end rather than fail the test's own lock.
    sqlite3_busy_timeout(db_, 5000);
  }
  ~sqlite_file() { sqlite3_close_v2(db_); }
  sqlite_file(const sqlite_file&) = delete;
  sqlite_file& operator=(const sqlite_file&) = delete;

  // Runs SQL; SQLite's message on failure, "" on success.
  std::string exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return "";
    std::string out = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return out;
  }

  // The first column of the first row of SQL, as text ("" when there is none).
  std::string scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return "error: " + std::string(sqlite3_errmsg(db_));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

// PRAGMA integrity_check of the file at PATH: "ok" for a sound file.
inline std::string integrity_of(const std::string& path) {
  sqlite_file f(path);
  return f.scalar("PRAGMA integrity_check");
}

// A tmpfs of SIZE_KIB mounted on a fresh directory, unmounted with the object. Mounting needs
// CAP_SYS_ADMIN (root on this machine's containers); reason() says why it failed otherwise.
class tiny_tmpfs {
 public:
  explicit tiny_tmpfs(int size_kib) {
    const std::string options = "size=" + std::to_string(size_kib) + "k,mode=0755";
    if (::mount("tmpfs", dir_.path("").c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      reason_ = std::string("cannot mount a tmpfs (needs CAP_SYS_ADMIN): ") + std::strerror(errno);
    }
  }
  ~tiny_tmpfs() {
    if (mounted_) ::umount2(dir_.path("").c_str(), MNT_DETACH);
  }
  tiny_tmpfs(const tiny_tmpfs&) = delete;
  tiny_tmpfs& operator=(const tiny_tmpfs&) = delete;

  bool ok() const { return mounted_; }
  const std::string& reason() const { return reason_; }
  std::string path(std::string_view name) const { return dir_.path(name); }

  // Remounts read-only (or read-write again); false on failure.
  bool set_read_only(bool read_only) {
    const unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount("tmpfs", dir_.path("").c_str(), "tmpfs", flags, nullptr) == 0;
  }

  // Fills the file system with FILE until it is full; the bytes written.
  std::size_t fill(std::string_view name) {
    std::FILE* f = std::fopen(path(name).c_str(), "wb");
    if (f == nullptr) return 0;
    const std::string block(4096, 'f');
    std::size_t written = 0;
    for (;;) {
      const std::size_t n = std::fwrite(block.data(), 1, block.size(), f);
      written += n;
      if (n < block.size() || std::fflush(f) != 0) break;
    }
    std::fclose(f);
    return written;
  }

 private:
  temp_dir dir_;
  bool mounted_ = false;
  std::string reason_;
};

// A handler that may block (it runs on the worker pool) and does: wait until release() (or
// 30 s), then answer 200 with body "released". Counts the calls that are waiting.
class gate_handler final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait_for(lock, 30s, [this] { return released_; });
    --waiting_;
    apigw::handler_result r;
    r.status_code = 200;
    r.body = "released";
    return r;
  }
  bool may_block() const override { return true; }

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  int waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  int waiting_ = 0;
};

}  // namespace apigw::e2e
