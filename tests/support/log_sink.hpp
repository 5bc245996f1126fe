// An invocation log (the functions' log streams) that keeps every line, so end-to-end tests can
// assert what a learner would read: START/END/REPORT, the handlers' INFO lines and ERRORs.
// Thread-safety: write() and every accessor are safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "apigw/handler.hpp"

namespace apigw::test_support {

struct log_line {
  std::string function;    // the integration, e.g. "SendMessageFunction"
  std::string request_id;
  std::string level;       // "INFO", "ERROR", or "" for START/END/REPORT
  std::string message;
};

std::ostream& operator<<(std::ostream& os, const log_line& l);

class log_sink final : public apigw::invocation_log {
 public:
  void write(std::string_view function, std::string_view request_id, std::string_view level,
             std::string_view message) override;

  std::vector<log_line> lines() const;
  // The lines of FUNCTION (every function when empty) whose level is LEVEL (any when empty)
  // and whose message contains TEXT.
  std::vector<log_line> find(std::string_view function, std::string_view level,
                             std::string_view text) const;

  // Waits until find(FUNCTION, LEVEL, TEXT) has at least COUNT lines.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout, std::string_view function,
                std::string_view level, std::string_view text) const;

  // Every line, one per row, for failure messages.
  std::string dump() const;

 private:
  std::vector<log_line> find_locked(std::string_view function, std::string_view level,
                                    std::string_view text) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<log_line> lines_;
};

}  // namespace apigw::test_support
