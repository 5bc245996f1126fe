#include "store/decimal.hpp"

#include <algorithm>
#include <cstdint>

namespace apigw::store {
namespace {

// DynamoDB: "Numbers can be positive, negative, or zero, and can have up to 38 digits of
// precision. Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125."
constexpr std::size_t max_digits = 38;
constexpr int min_exponent = -129;  // 0.1 * 10^-129 = 1E-130
constexpr int max_exponent = 126;   // 0.99.. * 10^126 < 1E+126

const std::string not_numeric = "The parameter cannot be converted to a numeric value";

result<decimal> checked(decimal d) {
  if (d.is_zero()) return decimal{};
  if (d.digits.size() > max_digits) return fail("Attempting to store more than 38 significant digits in a Number");
  if (d.exponent > max_exponent) {
    return fail("Number overflow. Attempting to store a number with magnitude larger than supported range");
  }
  if (d.exponent < min_exponent) {
    return fail("Number underflow. Attempting to store a number with magnitude smaller than supported range");
  }
  return d;
}

// Strips leading and trailing zeros of DIGITS where the value is 0.DIGITS * 10^EXP.
decimal normalized(bool negative, std::string digits, long long exponent) {
  std::size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return decimal{};
  digits.erase(0, lead);
  exponent -= static_cast<long long>(lead);
  digits.erase(digits.find_last_not_of('0') + 1);
  // Clamp far outside the valid range; checked() rejects it with the right message.
  exponent = std::clamp<long long>(exponent, -100000, 100000);
  return decimal{negative, std::move(digits), static_cast<int>(exponent)};
}

// |A| compared with |B|.
int compare_magnitude(const decimal& a, const decimal& b) {
  if (a.is_zero() || b.is_zero()) return a.is_zero() == b.is_zero() ? 0 : (a.is_zero() ? -1 : 1);
  if (a.exponent != b.exponent) return a.exponent < b.exponent ? -1 : 1;
  int c = a.digits.compare(b.digits);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

result<decimal> parse_decimal(std::string_view text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string digits;
  long long point = 0;  // digits before the decimal point
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    digits += text[i++];
    ++point;
    any = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      digits += text[i++];
      any = true;
    }
  }
  if (!any) return fail(not_numeric);
  long long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i == text.size()) return fail(not_numeric);
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (exp < 1000000) exp = exp * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_negative) exp = -exp;
  }
  if (i != text.size()) return fail(not_numeric);
  return checked(normalized(negative, std::move(digits), point + exp));
}

std::string to_string(const decimal& d) {
  if (d.is_zero()) return "0";
  std::string out = d.negative ? "-" : "";
  const auto n = static_cast<long long>(d.digits.size());
  const long long e = d.exponent;
  if (e <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-e), '0');
    out += d.digits;
  } else if (e >= n) {
    out += d.digits;
    out.append(static_cast<std::size_t>(e - n), '0');
  } else {
    out += d.digits.substr(0, static_cast<std::size_t>(e));
    out += '.';
    out += d.digits.substr(static_cast<std::size_t>(e));
  }
  return out;
}

decimal negate(decimal d) {
  if (!d.is_zero()) d.negative = !d.negative;
  return d;
}

result<decimal> add(const decimal& a, const decimal& b) {
  if (a.is_zero()) return b;
  if (b.is_zero()) return a;
  // Align both as integers scaled by 10^-(low): value = int * 10^(low).
  const long long high = std::max(a.exponent, b.exponent);
  const long long low = std::min(a.exponent - static_cast<long long>(a.digits.size()),
                                 b.exponent - static_cast<long long>(b.digits.size()));
  const auto width = static_cast<std::size_t>(high - low);
  auto aligned = [&](const decimal& d) {
    std::string s(static_cast<std::size_t>(high - d.exponent), '0');
    s += d.digits;
    s.append(width - s.size(), '0');
    return s;
  };
  std::string x = aligned(a), y = aligned(b);
  std::string sum(width + 1, '0');
  bool negative;
  if (a.negative == b.negative) {
    negative = a.negative;
    int carry = 0;
    for (std::size_t i = width; i-- > 0;) {
      int v = (x[i] - '0') + (y[i] - '0') + carry;
      sum[i + 1] = static_cast<char>('0' + v % 10);
      carry = v / 10;
    }
    sum[0] = static_cast<char>('0' + carry);
  } else {
    // Subtract the smaller magnitude from the larger; the sign is the larger's.
    int c = compare_magnitude(a, b);
    if (c == 0) return decimal{};
    if (c < 0) std::swap(x, y);
    negative = c > 0 ? a.negative : b.negative;
    int borrow = 0;
    for (std::size_t i = width; i-- > 0;) {
      int v = (x[i] - '0') - (y[i] - '0') - borrow;
      borrow = v < 0 ? 1 : 0;
      sum[i + 1] = static_cast<char>('0' + (v + 10) % 10);
    }
  }
  return checked(normalized(negative, std::move(sum), high + 1));
}

std::string order_key(const decimal& d) {
  // Negative < zero < positive by the first byte; then the exponent (biased, 2 bytes big-endian)
  // and the digits. For negatives both are inverted, and a terminator above every inverted digit
  // makes a longer digit string (a larger magnitude) sort first.
  std::string out;
  if (d.is_zero()) return std::string(1, '\x80');
  const auto biased = static_cast<std::uint16_t>(d.exponent + 0x8000);
  if (!d.negative) {
    out += '\xC0';
    out += static_cast<char>(biased >> 8);
    out += static_cast<char>(biased & 0xFF);
    out += d.digits;
  } else {
    const auto inverted = static_cast<std::uint16_t>(0xFFFF - biased);
    out += '\x40';
    out += static_cast<char>(inverted >> 8);
    out += static_cast<char>(inverted & 0xFF);
    for (char c : d.digits) out += static_cast<char>('9' - (c - '0'));
    out += '\xFF';
  }
  return out;
}

}  // namespace apigw::store
