#include "store/decimal.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace apigw::store {
namespace {

decimal number(std::string_view text) {
  auto r = parse_decimal(text);
  if (!r) {
    ADD_FAILURE() << text << ": " << r.error();
    return {};
  }
  return *r;
}

TEST(DecimalTest, WritesCanonicalText) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"0", "0"},          {"-0", "0"},       {"0.000", "0"},       {"1", "1"},
      {"+1", "1"},         {"1.50", "1.5"},   {"-0.25", "-0.25"},   {"1200", "1200"},
      {"1.2E3", "1200"},   {"12e-3", "0.012"}, {"007.100", "7.1"},  {".5", "0.5"},
      {"5.", "5"},         {"1E-130", std::string_view("0.") /* checked below */},
  };
  for (const auto& [in, out] : cases) {
    if (in == "1E-130") continue;
    EXPECT_EQ(to_string(number(in)), out) << in;
  }
  EXPECT_EQ(to_string(number("1E-130")), "0." + std::string(129, '0') + "1");
}

TEST(DecimalTest, RejectsWhatDynamoDbRejects) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", "The parameter cannot be converted to a numeric value"},
      {"abc", "The parameter cannot be converted to a numeric value"},
      {"1e", "The parameter cannot be converted to a numeric value"},
      {"1 ", "The parameter cannot be converted to a numeric value"},
      {"0x10", "The parameter cannot be converted to a numeric value"},
      {"123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"},
      {"1E126", "Number overflow. Attempting to store a number with magnitude larger than supported range"},
      {"1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"},
  };
  for (const auto& [in, message] : cases) {
    auto r = parse_decimal(in);
    ASSERT_FALSE(r.has_value()) << in;
    EXPECT_EQ(r.error(), message) << in;
  }
  EXPECT_TRUE(parse_decimal("12345678901234567890123456789012345678").has_value());
  EXPECT_TRUE(parse_decimal("9.9999999999999999999999999999999999999E+125").has_value());
}

TEST(DecimalTest, OrderKeySortsNumerically) {
  const std::vector<std::string_view> ascending = {
      "-1E125", "-1000", "-999.5", "-10", "-2", "-1.5", "-1.25", "-1", "-0.5", "-0.05", "-1E-130",
      "0", "1E-130", "0.05", "0.5", "1", "1.25", "1.5", "2", "10", "999.5", "1000", "1E125"};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    EXPECT_LT(order_key(number(ascending[i])), order_key(number(ascending[i + 1])))
        << ascending[i] << " < " << ascending[i + 1];
  }
  EXPECT_EQ(order_key(number("1")), order_key(number("1.000")));
  EXPECT_EQ(order_key(number("-10")), order_key(number("-1E1")));
}

TEST(DecimalTest, AddsExactly) {
  struct test_case {
    std::string_view a, b, sum;
  };
  const test_case cases[] = {
      {"1", "1", "2"},
      {"0.1", "0.2", "0.3"},
      {"99", "1", "100"},
      {"-5", "3", "-2"},
      {"5", "-5", "0"},
      {"1.005", "-0.005", "1"},
      {"1234567890123456789", "0.0000000000000000001", "1234567890123456789.0000000000000000001"},
      {"-0.5", "-0.25", "-0.75"},
      {"1E10", "1", "10000000001"},
  };
  for (const test_case& c : cases) {
    auto r = add(number(c.a), number(c.b));
    ASSERT_TRUE(r.has_value()) << c.a << " + " << c.b;
    EXPECT_EQ(to_string(*r), c.sum) << c.a << " + " << c.b;
  }
  auto too_precise = add(number("1E20"), number("1E-20"));
  ASSERT_FALSE(too_precise.has_value());
  EXPECT_EQ(too_precise.error(), "Attempting to store more than 38 significant digits in a Number");
}

}  // namespace
}  // namespace apigw::store
