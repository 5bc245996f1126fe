// Text written to a stream in batches by a background thread: at most every 50 ms, or sooner
// when 64 KiB wait. Callers on the hot path pay for a string append, never a system call.
// Thread-safety: append() may be called from any thread; appended texts never interleave.
#pragma once

#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

namespace apigw::emulator {

class batched_writer {
 public:
  explicit batched_writer(std::ostream& out);
  ~batched_writer();  // writes out what is left
  batched_writer(const batched_writer&) = delete;
  batched_writer& operator=(const batched_writer&) = delete;

  void append(std::string_view text);

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
