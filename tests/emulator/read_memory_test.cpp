#include "emulator/net/read_memory.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

TEST(ReadMemoryTest, EveryReadAfterTheFirstReusesItsBlock) {
  read_memory memory;
  void* first = memory.allocate(328);
  EXPECT_TRUE(memory.in_use());
  memory.deallocate(first);
  EXPECT_FALSE(memory.in_use());
  for (int i = 0; i < 3; ++i) {
    void* again = memory.allocate(i == 0 ? 328 : 100);
    EXPECT_EQ(again, first);
    memory.deallocate(again);
  }
}

TEST(ReadMemoryTest, WhatDoesNotFitOrFindsTheBlockTakenGetsItsOwn) {
  read_memory memory;
  void* block = memory.allocate(328);
  void* while_taken = memory.allocate(64);
  EXPECT_NE(while_taken, block);
  memory.deallocate(while_taken);
  EXPECT_TRUE(memory.in_use());
  memory.deallocate(block);
  void* larger = memory.allocate(329);
  EXPECT_NE(larger, block);
  EXPECT_FALSE(memory.in_use());
  memory.deallocate(larger);
  EXPECT_EQ(memory.allocate(328), block);
  memory.deallocate(block);
}

// What the design rests on: Asio gives an operation's memory back before its handler runs, so a
// handler that starts the next operation finds the block free.
TEST(ReadMemoryTest, AsioFreesTheBlockBeforeTheHandlerThatStartsTheNextOperation) {
  boost::asio::io_context io;
  read_memory memory;
  int runs = 0;
  bool found_in_use = false;
  struct step {
    boost::asio::io_context* io;
    read_memory* memory;
    int* runs;
    bool* found_in_use;
    void operator()() const {
      *found_in_use = *found_in_use || memory->in_use();
      if (++*runs < 5) {
        boost::asio::post(*io, boost::asio::bind_allocator(read_allocator<void>(*memory), *this));
      }
    }
  };
  boost::asio::post(io, boost::asio::bind_allocator(read_allocator<void>(memory), step{&io, &memory, &runs, &found_in_use}));
  EXPECT_TRUE(memory.in_use());
  io.run();
  EXPECT_EQ(runs, 5);
  EXPECT_FALSE(found_in_use);
  EXPECT_FALSE(memory.in_use());
}

}  // namespace
}  // namespace apigw::emulator
