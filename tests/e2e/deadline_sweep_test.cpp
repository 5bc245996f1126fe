// The deadline sweep (emulator/net/deadline_sweep.hpp) on a real io_context: a member is told
// once its deadline has passed, at the next tick and never before; one that leaves, or is
// destroyed, is not told; a shorter timeout shortens the tick at once.
#include "emulator/net/deadline_sweep.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

using namespace std::chrono_literals;
using clock = deadline_sweep::clock;

class probe final : public deadline_sweep::member {
 public:
  explicit probe(clock::time_point at) : at_(at) {}
  clock::time_point deadline() const override { return at_; }
  void expired(clock::time_point now) override {
    told.push_back(now);
    // Moves its deadline on, as a session does when it starts its close.
    at_ = then.value_or(clock::time_point::max());
    then.reset();
  }
  std::vector<clock::time_point> told;
  std::optional<clock::time_point> then;

 private:
  clock::time_point at_;
};

TEST(DeadlineSweepTest, AMemberIsToldAtTheFirstTickAfterItsDeadlineAndNeverBefore) {
  boost::asio::io_context ioc;
  auto& sweep = deadline_sweep::of(ioc.get_executor());
  const auto start = clock::now();
  probe p(start + 120ms);
  sweep.add(p, 200ms);  // ticks 20 ms apart
  ioc.run_for(100ms);
  EXPECT_TRUE(p.told.empty());
  ioc.run_for(150ms);
  ASSERT_EQ(p.told.size(), 1u);
  EXPECT_GE(p.told[0], start + 120ms);
  EXPECT_LT(p.told[0], start + 120ms + 100ms);  // one tick late at most, with room for a busy machine
}

TEST(DeadlineSweepTest, AMemberThatMovesItsDeadlineIsToldAgainThen) {
  boost::asio::io_context ioc;
  const auto start = clock::now();
  probe p(start + 30ms);
  p.then = start + 90ms;
  deadline_sweep::of(ioc.get_executor()).add(p, 100ms);
  ioc.run_for(250ms);
  ASSERT_EQ(p.told.size(), 2u);
  EXPECT_GE(p.told[0], start + 30ms);
  EXPECT_GE(p.told[1], start + 90ms);
}

TEST(DeadlineSweepTest, RemovedAndDestroyedMembersAreNotTold) {
  boost::asio::io_context ioc;
  auto& sweep = deadline_sweep::of(ioc.get_executor());
  const auto start = clock::now();
  probe kept(start + 20ms);
  probe removed(start + 20ms);
  auto destroyed = std::make_unique<probe>(start + 20ms);
  sweep.add(kept, 100ms);
  sweep.add(removed, 100ms);
  sweep.add(*destroyed, 100ms);
  deadline_sweep::remove(removed);
  deadline_sweep::remove(removed);  // a second time is nothing
  destroyed.reset();
  ioc.run_for(150ms);
  EXPECT_EQ(kept.told.size(), 1u);
  EXPECT_TRUE(removed.told.empty());
}

TEST(DeadlineSweepTest, AShorterTimeoutShortensAWaitAlreadyArmed) {
  boost::asio::io_context ioc;
  auto& sweep = deadline_sweep::of(ioc.get_executor());
  const auto start = clock::now();
  probe slow(clock::time_point::max());
  sweep.add(slow, 1h);  // a tick of 1 s is armed
  probe fast(start + 20ms);
  sweep.add(fast, 100ms);  // now 10 ms
  ioc.run_for(300ms);
  ASSERT_EQ(fast.told.size(), 1u);
  EXPECT_LT(fast.told[0], start + 250ms);
  EXPECT_TRUE(slow.told.empty());
}

TEST(DeadlineSweepTest, MembersOutliveTheirIoContextSafely) {
  auto member = std::make_unique<probe>(clock::now() + 1h);
  {
    boost::asio::io_context ioc;
    deadline_sweep::of(ioc.get_executor()).add(*member, 1s);
  }
  // Its io_context's shutdown unlinked it: its destructor touches nothing (the sanitizer builds
  // would report a use after free).
  member.reset();
}

}  // namespace
}  // namespace apigw::emulator
