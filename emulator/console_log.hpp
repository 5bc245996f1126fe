// The functions' log streams, printed like CloudWatch shows a Lambda's: START, the function's own
// lines, errors, END and REPORT with the duration, each prefixed with the function's name.
// Lines are collected in memory and written out by a background thread at most every 50 ms (or
// sooner when 64 KiB wait), so that logging costs an invocation no system call.
// Thread-safety: write() may be called from any thread; lines never interleave.
#pragma once

#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "routes/handler.hpp"

namespace apigw::emulator {

class console_log final : public routes::invocation_log {
 public:
  explicit console_log(std::ostream& out);
  ~console_log() override;  // writes out what is left
  console_log(const console_log&) = delete;
  console_log& operator=(const console_log&) = delete;

  void write(std::string_view function, std::string_view request_id, std::string_view level,
             std::string_view message) override;

 private:
  void run();

  std::ostream& out_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace apigw::emulator
