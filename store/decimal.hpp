// DynamoDB numbers: parsing with DynamoDB's limits (38 significant digits, magnitudes 1E-130 to
// below 1E+126), exact addition (for UpdateItem's ADD and SET a = a + :n), a canonical decimal
// text, and an order-preserving byte encoding so that SQLite's memcmp order on BLOB key columns
// is numeric order.
// Thread-safety: plain values and free functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace apigw::store {

// value = (negative ? -1 : 1) * 0.d1d2d3... * 10^exponent; digits has no leading or trailing
// zeros; zero is the empty digit string.
struct decimal {
  bool negative = false;
  std::string digits;
  int exponent = 0;

  bool is_zero() const { return digits.empty(); }
  bool operator==(const decimal&) const = default;
};

// The decimal, or DynamoDB's ValidationException message for TEXT.
result<decimal> parse_decimal(std::string_view text);

// Plain decimal notation without exponent or superfluous zeros: "1", "-0.25", "1200".
std::string to_string(const decimal& d);

// A + B exactly; the ValidationException message when the sum leaves DynamoDB's range.
result<decimal> add(const decimal& a, const decimal& b);

decimal negate(decimal d);

// Bytes whose memcmp order is the numeric order of the decimals; equal numbers ("1", "1.0",
// "10E-1") give equal bytes.
std::string order_key(const decimal& d);

}  // namespace apigw::store
