#include "emulator/core/write_queue.hpp"

#include <iterator>

namespace apigw::emulator {

bool write_queue::push(std::string data, bool binary, bool in_flight) {
  if (bytes_ + data.size() > max_bytes_) {
    const std::size_t keep = head_ + (in_flight && !empty() ? 1 : 0);
    for (std::size_t i = keep; i < frames_.size(); ++i) bytes_ -= frames_[i].data.size();
    frames_.erase(frames_.begin() + static_cast<std::ptrdiff_t>(keep), frames_.end());
    return false;
  }
  bytes_ += data.size();
  frames_.push_back({std::move(data), binary, false});
  return true;
}

void write_queue::pop_front() {
  bytes_ -= frames_[head_].data.size();
  if (head_ + 1 == frames_.size() && frames_.capacity() <= 16) {
    // The last frame out (the usual case): the queue is empty again, its room kept.
    frames_.clear();
    head_ = 0;
    return;
  }
  frames_[head_++] = {};
  if (head_ == frames_.size()) {
    head_ = 0;
    if (frames_.capacity() > 16) {
      std::vector<frame>().swap(frames_);  // give back what a burst grew
    } else {
      frames_.clear();
    }
  } else if (head_ >= 64 && head_ * 2 >= frames_.size()) {
    frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void write_queue::clear() {
  std::vector<frame>().swap(frames_);
  head_ = 0;
  bytes_ = 0;
}

}  // namespace apigw::emulator
