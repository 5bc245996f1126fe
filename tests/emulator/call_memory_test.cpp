#include "emulator/core/call_memory.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "emulator/core/integration_runner.hpp"

namespace apigw::emulator {
namespace {

TEST(CallMemoryTest, AFreedBlockIsHandedOutAgainOnTheSameThread) {
  std::thread([] {
    void* first = call_memory::allocate(3000);
    std::memset(first, 0xab, call_memory::block_bytes);  // the whole block is the caller's
    call_memory::deallocate(first, 3000);
    EXPECT_EQ(call_memory::kept_on_this_thread(), 1);
    // Any size up to a block takes the kept one.
    void* second = call_memory::allocate(100);
    EXPECT_EQ(second, first);
    EXPECT_EQ(call_memory::kept_on_this_thread(), 0);
    call_memory::deallocate(second, 100);
  }).join();
}

TEST(CallMemoryTest, LargerRequestsGoToTheHeapAndAreNotKept) {
  std::thread([] {
    void* big = call_memory::allocate(call_memory::block_bytes + 1);
    std::memset(big, 0, call_memory::block_bytes + 1);
    call_memory::deallocate(big, call_memory::block_bytes + 1);
    EXPECT_EQ(call_memory::kept_on_this_thread(), 0);
  }).join();
}

TEST(CallMemoryTest, AThreadKeepsAtMostItsShareAndGivesTheRestBack) {
  std::thread([] {
    std::vector<void*> blocks;
    for (int i = 0; i < call_memory::kept_per_thread + 3; ++i) blocks.push_back(call_memory::allocate(64));
    for (void* p : blocks) call_memory::deallocate(p, 64);
    EXPECT_EQ(call_memory::kept_on_this_thread(), call_memory::kept_per_thread);
    // The thread's end gives its kept blocks back (a leak check reports them otherwise).
  }).join();
}

TEST(CallMemoryTest, ABlockFreedOnAnotherThreadIsKeptThereNotHere) {
  std::thread([] {
    void* p = call_memory::allocate(64);
    std::thread([p] {
      call_memory::deallocate(p, 64);
      EXPECT_EQ(call_memory::kept_on_this_thread(), 1);
    }).join();
    EXPECT_EQ(call_memory::kept_on_this_thread(), 0);
  }).join();
}

TEST(CallMemoryTest, ACallsStateLivesInABlockAsLongAsItsLastOwner) {
  struct state : invocation_with<int> {
    std::string kept = std::string(100, 'x');
  };
  std::thread([] {
    std::shared_ptr<state> shared;
    {
      auto call = make_call<state>([&](std::shared_ptr<state> s, completion) { shared = std::move(s); },
                                   [](state&, bool) {});
      call->state().result = 7;
      call->start(completion());
    }
    // The work still shares the state: the block is not back yet.
    EXPECT_EQ(call_memory::kept_on_this_thread(), 0);
    EXPECT_EQ(shared->result, 7);
    EXPECT_EQ(shared->kept, std::string(100, 'x'));
    shared.reset();
    EXPECT_EQ(call_memory::kept_on_this_thread(), 1);
  }).join();
}

}  // namespace
}  // namespace apigw::emulator
