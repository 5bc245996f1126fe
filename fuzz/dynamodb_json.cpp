// libFuzzer target: DynamoDB attribute values in their JSON form (store/attribute_value) and
// DynamoDB numbers (store/decimal), on every object and string of an arbitrary JSON document.
// Checks beyond "no crash": a valid value equals itself and compares equal to itself; a number
// survives to_string and parse_decimal unchanged; the byte order of order_key agrees with the
// sign of the exact difference of two numbers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "store/attribute_value.hpp"
#include "store/decimal.hpp"

namespace {

namespace rj = rapidjson;
using namespace apigw::store;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "dynamodb_json fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

int sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

void check_number(std::string_view text, std::vector<decimal>& numbers) {
  auto parsed = parse_decimal(text);
  if (!parsed) return;
  const decimal d = *parsed;
  const std::string plain = to_string(d);
  auto again = parse_decimal(plain);
  if (!again || *again != d) {
    fail("to_string does not parse back to the same number", text);
  }
  if (order_key(*again) != order_key(d)) fail("equal numbers, different keys", text);
  auto zero = add(d, negate(d));
  if (!zero || !zero->is_zero()) {
    fail("x + -x is not zero", text);
  }
  numbers.push_back(d);
}

// The order of the keys of A and B must be the sign of A - B (when that difference is in range).
void check_order(const decimal& a, const decimal& b) {
  auto difference = add(a, negate(b));
  if (!difference) return;
  const decimal& d = *difference;
  const int expected = d.is_zero() ? 0 : (d.negative ? -1 : 1);
  if (sign(order_key(a).compare(order_key(b))) != expected) {
    fail("order_key disagrees with the difference", to_string(a) + " vs " + to_string(b));
  }
}

void check_attribute(const rj::Value& v) {
  if (!check_attribute_value(v)) return;
  const std::string_view type = type_of(v);
  if (!values_equal(v, v)) fail("a valid value is not equal to itself", type);
  const auto order = compare_values(v, v);
  const bool scalar = type == "S" || type == "N" || type == "B";
  if (scalar != order.has_value() || (order && *order != 0)) fail("compare_values(v, v)", type);
  if (type == "S") (void)key_bytes(v, key_type::S);
  if (type == "N") (void)key_bytes(v, key_type::N);
  if (type == "B") (void)key_bytes(v, key_type::B);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rj::Document document;
  document.Parse(reinterpret_cast<const char*>(data), size);
  if (document.HasParseError()) return 0;

  // Every value of the document, without recursion.
  std::vector<decimal> numbers;
  std::vector<const rj::Value*> pending{&document};
  while (!pending.empty()) {
    const rj::Value* v = pending.back();
    pending.pop_back();
    if (v->IsObject()) {
      check_attribute(*v);
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) pending.push_back(&m->value);
    } else if (v->IsArray()) {
      for (const auto& e : v->GetArray()) pending.push_back(&e);
    } else if (v->IsString()) {
      const std::string_view s(v->GetString(), v->GetStringLength());
      (void)decode_base64(s);
      check_number(s, numbers);
    }
  }
  for (std::size_t i = 0; i + 1 < numbers.size() && i < 16; ++i) check_order(numbers[i], numbers[i + 1]);

  // The document as an item: every member an attribute value.
  const rj::Value& root = document;
  if (root.IsObject()) {
    bool item = true;
    for (auto m = root.MemberBegin(); m != root.MemberEnd() && item; ++m) {
      item = check_attribute_value(m->value).is_ok();
    }
    if (item) (void)item_size(root);
  }
  return 0;
}
