#include "store/attribute_value.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <vector>

#include "store/decimal.hpp"

namespace apigw::store {
namespace {

namespace rj = rapidjson;

std::string_view view(const rj::Value& v) { return {v.GetString(), v.GetStringLength()}; }

const std::string invalid = "One or more parameter values were invalid: ";

// Lists and maps nest at most this deep; deeper values are refused (which also bounds the
// recursion of every function here that walks a checked value).
constexpr int max_nesting_levels = 32;
constexpr std::string_view too_deep = "Nesting Levels have exceeded supported limits";

status check_number(const rj::Value& n) {
  if (!n.IsString()) return fail("The parameter cannot be converted to a numeric value");
  if (auto d = parse_decimal(view(n)); !d) return fail(std::move(d).error());
  return {};
}

status check_set(const rj::Value& s, std::string_view tag) {
  std::string_view what = tag == "SS" ? "string" : (tag == "NS" ? "number" : "binary");
  if (!s.IsArray()) {
    return fail("Supplied AttributeValue has an invalid " + std::string(tag) + ": expected an array of strings");
  }
  // DynamoDB's own wording, double space included.
  if (s.Empty()) return fail(invalid + "An " + std::string(what) + " set  may not be empty");
  std::set<std::string> seen;
  std::string listed;
  bool duplicate = false;
  for (const rj::Value& e : s.GetArray()) {
    if (!e.IsString()) {
      return fail("Supplied AttributeValue has an invalid " + std::string(tag) + ": expected an array of strings");
    }
    std::string key(view(e));
    if (tag == "NS") {
      if (auto number = check_number(e); !number) return number;
      key = order_key(*parse_decimal(view(e)));
    } else if (tag == "BS" && !decode_base64(view(e))) {
      return fail("Supplied AttributeValue has an invalid B in BS: expected base64 text");
    }
    if (!listed.empty()) listed += ", ";
    listed += view(e);
    if (!seen.insert(std::move(key)).second) duplicate = true;
  }
  if (duplicate) return fail(invalid + "Input collection [" + listed + "] contains duplicates.");
  return {};
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// A canonical text of a set element, so that sets compare regardless of order and N by value.
std::vector<std::string> canonical_set(const rj::Value& arr, bool numbers) {
  std::vector<std::string> out;
  for (const rj::Value& e : arr.GetArray()) {
    if (numbers) {
      auto d = parse_decimal(view(e));
      out.push_back(d ? order_key(*d) : std::string(view(e)));
    } else {
      out.emplace_back(view(e));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t value_size(const rj::Value& v) {
  std::string_view t = type_of(v);
  const rj::Value& p = payload_of(v);
  if (t == "S") return p.GetStringLength();
  if (t == "N") return (p.GetStringLength() + 1) / 2 + 1;
  if (t == "B") return p.GetStringLength() * 3 / 4;
  if (t == "BOOL" || t == "NULL") return 1;
  std::size_t n = 3;
  if (t == "L") {
    for (const rj::Value& e : p.GetArray()) n += 1 + value_size(e);
  } else if (t == "M") {
    for (auto m = p.MemberBegin(); m != p.MemberEnd(); ++m) n += 1 + m->name.GetStringLength() + value_size(m->value);
  } else {
    for (const rj::Value& e : p.GetArray()) n += e.GetStringLength();
  }
  return n;
}

// DynamoDB: "nested attributes up to 32 levels deep". LEVELS counts the lists and maps around V.
status check_value(const rj::Value& v, int levels) {
  static constexpr std::array<std::string_view, 10> tags = {"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS"};
  if (!v.IsObject() || v.MemberCount() == 0) {
    return fail("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
  }
  if (v.MemberCount() > 1) {
    return fail("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
  }
  std::string_view tag = view(v.MemberBegin()->name);
  const rj::Value& p = v.MemberBegin()->value;
  if (std::find(tags.begin(), tags.end(), tag) == tags.end()) {
    return fail("Supplied AttributeValue has an unknown datatype " + std::string(tag) +
                "; the datatypes are S, N, B, BOOL, NULL, L, M, SS, NS, BS");
  }
  if (tag == "S") {
    if (!p.IsString()) return fail("Supplied AttributeValue has an invalid S: expected a string");
  } else if (tag == "N") {
    return check_number(p);
  } else if (tag == "B") {
    if (!p.IsString() || !decode_base64(view(p))) {
      return fail("Supplied AttributeValue has an invalid B: expected base64 text");
    }
  } else if (tag == "BOOL") {
    if (!p.IsBool()) return fail("Supplied AttributeValue has an invalid BOOL: expected true or false");
  } else if (tag == "NULL") {
    if (!p.IsTrue()) return fail(invalid + "Null attribute value types must have the value of true");
  } else if (tag == "L") {
    if (!p.IsArray()) return fail("Supplied AttributeValue has an invalid L: expected an array of attribute values");
    if (levels == max_nesting_levels) return fail(std::string(too_deep));
    for (const rj::Value& e : p.GetArray()) {
      if (auto s = check_value(e, levels + 1); !s) return s;
    }
  } else if (tag == "M") {
    if (!p.IsObject()) return fail("Supplied AttributeValue has an invalid M: expected an object of attribute values");
    if (levels == max_nesting_levels) return fail(std::string(too_deep));
    // A map's keys are unique: with a key twice, equality and conditions would see only one.
    std::set<std::string_view> keys;
    for (auto m = p.MemberBegin(); m != p.MemberEnd(); ++m) {
      if (!keys.insert(view(m->name)).second) {
        return fail("Supplied AttributeValue has an invalid M: the key " + std::string(view(m->name)) +
                    " appears more than once");
      }
      if (auto s = check_value(m->value, levels + 1); !s) return s;
    }
  } else {
    return check_set(p, tag);
  }
  return {};
}

}  // namespace

status check_attribute_value(const rj::Value& v) { return check_value(v, 0); }

std::string_view type_of(const rj::Value& v) { return view(v.MemberBegin()->name); }

const rj::Value& payload_of(const rj::Value& v) { return v.MemberBegin()->value; }

std::string key_bytes(const rj::Value& v, key_type type) {
  const rj::Value& p = payload_of(v);
  switch (type) {
    case key_type::S: return std::string(view(p));
    case key_type::B: return decode_base64(view(p)).value_or(std::string());
    case key_type::N: {
      auto d = parse_decimal(view(p));
      return d ? order_key(*d) : std::string();
    }
  }
  return {};
}

std::optional<int> compare_values(const rj::Value& a, const rj::Value& b) {
  std::string_view ta = type_of(a);
  if (ta != type_of(b)) return std::nullopt;
  std::string x, y;
  if (ta == "S") {
    x = view(payload_of(a));
    y = view(payload_of(b));
  } else if (ta == "N") {
    x = key_bytes(a, key_type::N);
    y = key_bytes(b, key_type::N);
  } else if (ta == "B") {
    x = key_bytes(a, key_type::B);
    y = key_bytes(b, key_type::B);
  } else {
    return std::nullopt;
  }
  int c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string to_short_text(const rj::Value& v) {
  const std::string_view t = type_of(v);
  const rj::Value& p = payload_of(v);
  if (t == "S" || t == "N" || t == "B") return "{" + std::string(t) + ":" + std::string(view(p)) + "}";
  return "{" + std::string(t) + "}";
}

bool values_equal(const rj::Value& a, const rj::Value& b) {
  std::string_view t = type_of(a);
  if (t != type_of(b)) return false;
  const rj::Value& pa = payload_of(a);
  const rj::Value& pb = payload_of(b);
  if (t == "S" || t == "N" || t == "B") return compare_values(a, b) == 0;
  if (t == "BOOL") return pa.GetBool() == pb.GetBool();
  if (t == "NULL") return true;
  if (t == "L") {
    if (pa.Size() != pb.Size()) return false;
    for (rj::SizeType i = 0; i < pa.Size(); ++i) {
      if (!values_equal(pa[i], pb[i])) return false;
    }
    return true;
  }
  if (t == "M") {
    if (pa.MemberCount() != pb.MemberCount()) return false;
    for (auto m = pa.MemberBegin(); m != pa.MemberEnd(); ++m) {
      auto other = pb.FindMember(m->name);
      if (other == pb.MemberEnd() || !values_equal(m->value, other->value)) return false;
    }
    return true;
  }
  return canonical_set(pa, t == "NS") == canonical_set(pb, t == "NS");
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + static_cast<std::size_t>(j)];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[j] = base64_value(c);
      if (v[j] < 0) return std::nullopt;
    }
    unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                 (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

std::size_t item_size(const rj::Value& item) {
  std::size_t n = 0;
  for (auto m = item.MemberBegin(); m != item.MemberEnd(); ++m) n += m->name.GetStringLength() + value_size(m->value);
  return n;
}

}  // namespace apigw::store
