#include "emulator/console_log.hpp"

#include <chrono>

#include "emulator/identifiers.hpp"

namespace apigw::emulator {

namespace {
constexpr auto kFlushInterval = std::chrono::milliseconds(50);
constexpr std::size_t kFlushBytes = 64 * 1024;
}  // namespace

console_log::console_log(std::ostream& out) : out_(out), writer_([this] { run(); }) {}

console_log::~console_log() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void console_log::write(std::string_view function, std::string_view request_id, std::string_view level,
                        std::string_view message) {
  std::string line;
  line.reserve(64 + function.size() + message.size());
  line += '[';
  line += function;
  line += "] ";
  if (level.empty()) {
    line += message;  // START / END / REPORT carry their own request id
  } else {
    line += iso8601_millis(std::chrono::system_clock::now());
    line += '\t';
    line += request_id;
    line += '\t';
    line += level;
    line += '\t';
    line += message;
  }
  line += '\n';
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    pending_ += line;
    full = pending_.size() >= kFlushBytes;
  }
  if (full) wake_.notify_one();
}

void console_log::run() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, kFlushInterval, [this] { return stopping_ || pending_.size() >= kFlushBytes; });
    batch.swap(pending_);
    const bool last = stopping_;
    lock.unlock();
    if (!batch.empty()) {
      out_ << batch << std::flush;
      batch.clear();
    }
    if (last) return;
    lock.lock();
  }
}

}  // namespace apigw::emulator
