// Memory for integration calls (make_call()): a call and its state take about 3 KiB, more than
// glibc's per-thread cache keeps (1,032 bytes), so each message's call would go through the
// allocator's slower paths twice. Instead, each thread keeps a few freed call blocks and hands them
// out again: a call made on a connection's I/O thread and freed there reuses the same block.
// Thread-safety: each thread has its own blocks; a block freed on another thread than the one that
// took it joins the freeing thread's blocks (or goes back to the heap when those are full).
#pragma once

#include <cstddef>
#include <new>

namespace apigw::emulator::call_memory {

// Every request of at most this many bytes gets a block of this size, so that any kept block fits
// any call; larger requests go to operator new.
inline constexpr std::size_t kBlockBytes = 4096;
// Freed blocks a thread keeps, at most; the rest go back to the heap.
inline constexpr int kKeptPerThread = 8;

void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes) noexcept;
// The blocks this thread keeps now (for tests).
int kept_on_this_thread() noexcept;

// An allocator for std::allocate_shared() that draws from the blocks above.
template <class T>
struct allocator {
  using value_type = T;
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "call blocks have operator new's alignment");

  allocator() = default;
  template <class U>
  allocator(const allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding
  T* allocate(std::size_t n) { return static_cast<T*>(call_memory::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { call_memory::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace apigw::emulator::call_memory
