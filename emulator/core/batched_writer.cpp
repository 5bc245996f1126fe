#include "emulator/core/batched_writer.hpp"

#include <chrono>

namespace apigw::emulator {

namespace {
constexpr auto kFlushInterval = std::chrono::milliseconds(50);
constexpr std::size_t kFlushBytes = 64 * 1024;
}  // namespace

batched_writer::batched_writer(std::ostream& out) : out_(out), writer_([this] { run(); }) {}

batched_writer::~batched_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void batched_writer::append(std::string_view text) {
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    pending_ += text;
    full = pending_.size() >= kFlushBytes;
  }
  if (full) wake_.notify_one();
}

void batched_writer::run() {
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
