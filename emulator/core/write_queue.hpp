// The frames waiting to go out on one WebSocket connection, oldest first, with a byte cap: a
// client that reads slower than the gateway sends is closed (1008) once more than the cap waits
// for it, instead of growing the emulator's memory without bound.
// A vector with a head index, not a deque: an idle connection's empty queue costs nothing, and
// the consumed front is compacted away in batches.
// Thread-safety: none; one connection's I/O thread owns it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace apigw::emulator {

class write_queue {
 public:
  struct frame {
    std::string data;
    bool binary = false;
    bool close = false;  // the close frame: nothing is queued after it
  };

  static constexpr std::size_t kDefaultMaxBytes = 16 * 1024 * 1024;
  explicit write_queue(std::size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // Queues a data frame. False when the bytes waiting would pass the cap: then every frame but
  // the one IN_FLIGHT at the front (being written now) is dropped, and the caller closes the
  // connection with 1008.
  bool push(std::string data, bool binary, bool in_flight);
  // Queues the close frame.
  void push_close() { frames_.push_back({{}, false, true}); }

  bool empty() const { return head_ == frames_.size(); }
  std::size_t size() const { return frames_.size() - head_; }
  // Payload bytes queued (the close frame counts none).
  std::size_t bytes() const { return bytes_; }
  // REQUIRES: !empty().
  frame& front() { return frames_[head_]; }
  // Removes the front once it was written. REQUIRES: !empty().
  void pop_front();
  // Forgets everything (the transport is gone).
  void clear();

  // The vector's capacity, for tests of compaction.
  std::size_t capacity() const { return frames_.capacity(); }

 private:
  std::size_t max_bytes_;
  std::vector<frame> frames_;
  std::size_t head_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace apigw::emulator
