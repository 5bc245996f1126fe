// status and result<T>: what a caller reads from a success and from a failure.
#include "common/result.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace apigw {
namespace {

status check(bool good) {
  if (!good) return fail("not good: expected true");
  return {};
}

result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return fail(std::string("not a digit: ") + c);
  return c - '0';
}

TEST(ResultTest, StatusIsOkByDefault) {
  status s;
  EXPECT_TRUE(s.is_ok());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_TRUE(status::ok().is_ok());
  EXPECT_TRUE(check(true).is_ok());
}

TEST(ResultTest, StatusCarriesTheMessageOfAFailure) {
  status s = check(false);
  EXPECT_FALSE(s.is_ok());
  EXPECT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(s.error(), "not good: expected true");
  std::string moved = std::move(s).error();
  EXPECT_EQ(moved, "not good: expected true");
}

TEST(ResultTest, StatusCanBeReassigned) {
  status s = check(true);
  s = check(false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "not good: expected true");
  s = check(true);
  EXPECT_TRUE(s);
}

TEST(ResultTest, GivesTheValue) {
  result<int> r = parse_digit('7');
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value(), 7);
  *r = 8;
  EXPECT_EQ(*r, 8);
  const result<int>& c = r;
  EXPECT_EQ(*c, 8);
  EXPECT_EQ(c.value(), 8);
}

TEST(ResultTest, GivesMembersThroughTheArrow) {
  struct point {
    int x = 0, y = 0;
  };
  result<point> r = point{3, 4};
  EXPECT_EQ(r->x, 3);
  r->y = 5;
  const result<point>& c = r;
  EXPECT_EQ(c->y, 5);
}

TEST(ResultTest, GivesTheError) {
  result<int> r = parse_digit('x');
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), "not a digit: x");
  std::string moved = std::move(r).error();
  EXPECT_EQ(moved, "not a digit: x");
}

TEST(ResultTest, GivesItsStatus) {
  EXPECT_TRUE(parse_digit('1').status().is_ok());
  status s = parse_digit('?').status();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.error(), "not a digit: ?");
}

// A false or empty value is a value, not a failure.
TEST(ResultTest, AFalseOrEmptyValueIsAValue) {
  result<bool> no = false;
  ASSERT_TRUE(no.has_value());
  EXPECT_FALSE(*no);
  result<std::optional<int>> nothing = std::optional<int>();
  ASSERT_TRUE(nothing.has_value());
  EXPECT_FALSE(nothing->has_value());
  result<bool> failed = fail("the store failed: disk I/O error");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), "the store failed: disk I/O error");
}

result<std::unique_ptr<int>> make(bool good) {
  if (!good) return fail("cannot make it");
  auto p = std::make_unique<int>(42);
  return p;
}

TEST(ResultTest, HoldsAMoveOnlyValue) {
  result<std::unique_ptr<int>> r = make(true);
  ASSERT_TRUE(r);
  ASSERT_NE(*r, nullptr);
  EXPECT_EQ(**r, 42);
  std::unique_ptr<int> taken = *std::move(r);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 42);

  result<std::unique_ptr<int>> moved = make(true);
  result<std::unique_ptr<int>> into = std::move(moved);
  ASSERT_TRUE(into);
  EXPECT_EQ(**into, 42);

  result<std::unique_ptr<int>> failed = make(false);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), "cannot make it");
}

struct base {
  virtual ~base() = default;
  virtual int id() const { return 1; }
};
struct derived : base {
  int id() const override { return 2; }
};

TEST(ResultTest, ConvertsAValueToT) {
  result<std::unique_ptr<base>> r = std::make_unique<derived>();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->id(), 2);
  result<double> d = 3;
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, 3.0);
}

}  // namespace
}  // namespace apigw
