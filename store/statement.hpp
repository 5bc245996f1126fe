// A prepared SQLite statement (RAII over sqlite3_stmt) and a lease that resets it after use.
// Thread-safety: none; a statement belongs to one database and is used under its owner's lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace apigw::store {

class statement {
 public:
  enum class step_result { row, done, error };

  // Takes ownership of STMT (finalized in the destructor).
  explicit statement(sqlite3_stmt* stmt);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT) because
  // callers bind temporaries.
  void bind_text(int index, std::string_view text);
  void bind_blob(int index, std::string_view bytes);
  void bind_int64(int index, std::int64_t value);
  void bind_double(int index, double value);
  void bind_null(int index);

  step_result step();

  // Columns are 0-based. The views stay valid until the next step() or reset().
  std::string_view column_text(int index);
  std::string_view column_blob(int index);
  std::int64_t column_int64(int index);
  bool column_is_null(int index);

  // Ends the current execution and clears the bindings, so that a cached statement never keeps
  // a read transaction open (which would stop WAL checkpoints) or leaks old parameters.
  void reset();

  // The connection's message for the last failed step().
  std::string error_message() const;

  // Resets the statement when it goes out of scope; returned by database::prepare().
  class lease {
   public:
    explicit lease(statement* s) : s_(s) {}
    ~lease() {
      if (s_) s_->reset();
    }
    lease(lease&& other) noexcept : s_(other.s_) { other.s_ = nullptr; }
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;

    statement* operator->() const { return s_; }
    statement& operator*() const { return *s_; }

   private:
    statement* s_;
  };

 private:
  sqlite3_stmt* stmt_;
};

}  // namespace apigw::store
