#include "emulator/core/write_queue.hpp"

#include <string>

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

TEST(WriteQueueTest, FramesLeaveOldestFirstAndBytesFollow) {
  write_queue q;
  EXPECT_TRUE(q.empty());
  ASSERT_TRUE(q.push("one", false, false));
  ASSERT_TRUE(q.push("twotwo", true, false));
  q.push_close();
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.bytes(), 9u);
  EXPECT_EQ(q.front().data, "one");
  EXPECT_FALSE(q.front().binary);
  q.pop_front();
  EXPECT_EQ(q.front().data, "twotwo");
  EXPECT_TRUE(q.front().binary);
  EXPECT_EQ(q.bytes(), 6u);
  q.pop_front();
  EXPECT_TRUE(q.front().close);
  EXPECT_EQ(q.bytes(), 0u);
  q.pop_front();
  EXPECT_TRUE(q.empty());
}

TEST(WriteQueueTest, TheCapRefusesAFrameThatWouldPassItAndKeepsOnlyTheFrameInFlight) {
  write_queue q(10);
  ASSERT_TRUE(q.push("12345", false, false));  // being written
  ASSERT_TRUE(q.push("678", false, true));
  ASSERT_TRUE(q.push("90", false, true));      // exactly at the cap: still accepted
  EXPECT_EQ(q.bytes(), 10u);
  EXPECT_FALSE(q.push("x", false, true));
  // Only the frame in flight is left; the caller closes with 1008 after it.
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front().data, "12345");
  EXPECT_EQ(q.bytes(), 5u);
}

TEST(WriteQueueTest, OverflowWithNothingInFlightDropsEverything) {
  write_queue q(4);
  ASSERT_TRUE(q.push("abcd", false, false));
  EXPECT_FALSE(q.push("e", false, false));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(WriteQueueTest, ABurstIsCompactedWhileDrainingAndGivenBackWhenEmpty) {
  write_queue q;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(q.push(std::to_string(i), false, i > 0));
  const std::size_t grown = q.capacity();
  EXPECT_GE(grown, 1000u);
  for (int i = 0; i < 600; ++i) {
    EXPECT_EQ(q.front().data, std::to_string(i));
    q.pop_front();
  }
  // The consumed front was erased in batches: what is left sits at the start again.
  EXPECT_EQ(q.size(), 400u);
  EXPECT_EQ(q.front().data, "600");
  while (!q.empty()) q.pop_front();
  EXPECT_EQ(q.capacity(), 0u);  // the burst's memory is given back
}

TEST(WriteQueueTest, ClearForgetsFramesAndBytes) {
  write_queue q;
  ASSERT_TRUE(q.push("abc", false, false));
  q.push_close();
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
}

}  // namespace
}  // namespace apigw::emulator
