// A thread's cache of freed memory blocks of one size: an object that is made and freed over and
// over on one thread (an integration call, a connection's write) takes the block the last one
// left instead of going to the heap, where glibc keeps few such blocks per thread.
//
// Every request of at most BlockBytes gets a block of that size, so that any kept block fits any
// request; a larger one goes to operator new. A thread keeps at most Kept freed blocks; the rest
// go back to the heap, and so do its kept blocks when it ends. TAG names one cache: each tag has
// its own blocks.
// Thread-safety: each thread has its own blocks; a block freed on another thread than the one that
// took it joins the freeing thread's blocks (or goes back to the heap when those are full).
#pragma once

#include <cstddef>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define APIGW_POISON_KEPT_BLOCKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define APIGW_POISON_KEPT_BLOCKS 1
#endif
#endif
#if defined(APIGW_POISON_KEPT_BLOCKS)
#include <sanitizer/asan_interface.h>
#endif

namespace apigw::emulator {

template <class Tag, std::size_t BlockBytes, int Kept>
class block_cache {
 public:
  static constexpr std::size_t block_bytes = BlockBytes;
  static constexpr int kept_per_thread = Kept;

  static void* allocate(std::size_t bytes) {
    if (bytes > BlockBytes || kept_.count == 0) return ::operator new(bytes > BlockBytes ? bytes : BlockBytes);
    void* p = kept_.blocks[--kept_.count];
    unpoison(p);
    return p;
  }

  static void deallocate(void* p, std::size_t bytes) noexcept {
    if (bytes > BlockBytes || kept_.count == Kept || kept_.closed) {
      ::operator delete(p);
      return;
    }
    if (kept_.count == 0) static_cast<void>(&releaser_);  // made on first use: now, before a block is kept
    poison(p);
    kept_.blocks[kept_.count++] = p;
  }

  // The blocks this thread keeps now (for tests).
  static int kept_on_this_thread() noexcept { return kept_.count; }

  // An allocator for std::allocate_shared(), or for an Asio handler (boost::asio::bind_allocator),
  // that draws from this cache.
  template <class T>
  struct allocator {
    using value_type = T;

    allocator() = default;
    template <class U>
    allocator(const allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding
    T* allocate(std::size_t n) {
      static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "kept blocks have operator new's alignment");
      return static_cast<T*>(block_cache::allocate(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { block_cache::deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const allocator<U>&) const noexcept {
      return true;
    }
  };

 private:
  // A kept block is off limits until handed out again: AddressSanitizer reports a use of an
  // object's memory after it was freed even though the block did not go back to the heap.
  static void poison([[maybe_unused]] void* p) {
#if defined(APIGW_POISON_KEPT_BLOCKS)
    ASAN_POISON_MEMORY_REGION(p, BlockBytes);
#endif
  }
  static void unpoison([[maybe_unused]] void* p) {
#if defined(APIGW_POISON_KEPT_BLOCKS)
    ASAN_UNPOISON_MEMORY_REGION(p, BlockBytes);
#endif
  }

  // Plain data, so that it stays usable to the thread's very end (a block freed by another
  // thread_local's destructor still finds it); closed once the thread released its blocks.
  struct kept_blocks {
    void* blocks[Kept];
    int count;
    bool closed;
  };
  static inline thread_local kept_blocks kept_;

  // Gives the thread's blocks back to the heap when the thread ends; made when it keeps its first.
  struct release_at_thread_exit {
    ~release_at_thread_exit() {
      kept_.closed = true;
      while (kept_.count > 0) {
        void* p = kept_.blocks[--kept_.count];
        unpoison(p);
        ::operator delete(p);
      }
    }
  };
  static inline thread_local release_at_thread_exit releaser_;
};

}  // namespace apigw::emulator

#undef APIGW_POISON_KEPT_BLOCKS
