#include "emulator/core/call_memory.hpp"

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

namespace apigw::emulator::call_memory {
namespace {

// A kept block is off limits until handed out again: AddressSanitizer reports a use of a call's
// memory after it was freed even though the block did not go back to the heap.
void poison([[maybe_unused]] void* p) {
#if defined(APIGW_POISON_KEPT_BLOCKS)
  ASAN_POISON_MEMORY_REGION(p, kBlockBytes);
#endif
}
void unpoison([[maybe_unused]] void* p) {
#if defined(APIGW_POISON_KEPT_BLOCKS)
  ASAN_UNPOISON_MEMORY_REGION(p, kBlockBytes);
#endif
}

// Plain data, so that it stays usable to the thread's very end (a call freed by another
// thread_local's destructor still finds it); closed once the thread released its blocks.
struct kept_blocks {
  void* blocks[kKeptPerThread];
  int count;
  bool closed;
};
thread_local kept_blocks kept;

// Gives the thread's blocks back to the heap when the thread ends; made when it keeps its first.
struct release_at_thread_exit {
  ~release_at_thread_exit() {
    kept.closed = true;
    while (kept.count > 0) {
      void* p = kept.blocks[--kept.count];
      unpoison(p);
      ::operator delete(p);
    }
  }
};
thread_local release_at_thread_exit releaser;

}  // namespace

void* allocate(std::size_t bytes) {
  if (bytes > kBlockBytes) return ::operator new(bytes);
  if (kept.count == 0) return ::operator new(kBlockBytes);
  void* p = kept.blocks[--kept.count];
  unpoison(p);
  return p;
}

void deallocate(void* p, std::size_t bytes) noexcept {
  if (bytes > kBlockBytes) {
    ::operator delete(p);
    return;
  }
  if (kept.count == kKeptPerThread || kept.closed) {
    ::operator delete(p);
    return;
  }
  if (kept.count == 0) static_cast<void>(&releaser);  // made on first use: now, before a block is kept
  poison(p);
  kept.blocks[kept.count++] = p;
}

int kept_on_this_thread() noexcept { return kept.count; }

}  // namespace apigw::emulator::call_memory
