// The memory of a connection's reads: one heap block, made by the first read at its size and
// reused by every read after it, through an allocator the read's handler carries.
//
// A connection's next read waits, for as long as the connection is idle, for its next message.
// Asio's default would take its memory from the I/O thread's cache of freed operations, where it
// is the block of whichever operation ran before it (the 101's write: 656 bytes where the read
// needs 328), kept for the connection's whole idle life; a block from the heap for each read
// would cost every message an allocation. The block is free again before a read's handler runs
// (Asio frees an operation's memory before the upcall, while the handler it moved out still holds
// the connection), so each read finds it free; anything else, or anything larger, gets a block of
// its own.
// Thread-safety: none; a connection's reads are on its one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace apigw::emulator {

class read_memory {
 public:
  read_memory() = default;
  read_memory(const read_memory&) = delete;
  read_memory& operator=(const read_memory&) = delete;
  ~read_memory() { ::operator delete(block_); }

  void* allocate(std::size_t size) {
    if (block_ == nullptr && size <= UINT32_MAX) {
      block_ = ::operator new(size);
      size_ = static_cast<std::uint32_t>(size);
    }
    if (in_use_ || size > size_) return ::operator new(size);
    in_use_ = true;
    return block_;
  }
  void deallocate(void* p) noexcept {
    if (p == block_) {
      in_use_ = false;
    } else {
      ::operator delete(p);
    }
  }
  // The block is held by an operation.
  bool in_use() const { return in_use_; }

 private:
  void* block_ = nullptr;
  std::uint32_t size_ = 0;
  bool in_use_ = false;
};

// Binds a handler to a read_memory: `boost::asio::bind_allocator(read_allocator<void>(m), h)`.
template <class T>
struct read_allocator {
  using value_type = T;
  explicit read_allocator(read_memory& m) noexcept : memory(&m) {}
  template <class U>
  read_allocator(const read_allocator<U>& other) noexcept : memory(other.memory) {}
  T* allocate(std::size_t n) { return static_cast<T*>(memory->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { memory->deallocate(p); }
  friend bool operator==(read_allocator a, read_allocator b) noexcept { return a.memory == b.memory; }
  read_memory* memory;
};

}  // namespace apigw::emulator
