#include "routes/selection_expression.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <rapidjson/writer.h>

namespace apigw::routes {

namespace {

constexpr std::string_view k_body = "request.body";
constexpr std::string_view k_supported =
    "only $request.body, $request.body.PATH and ${request.body.PATH} are supported in a route "
    "selection expression (write \\$ for a literal '$')";
constexpr std::size_t k_max_quote = 40;

struct expression_error {
  std::size_t position;  // 0-based offset into the expression text
  std::string message;   // what was wrong and what is allowed
};

// Unbraced paths have no closing delimiter, so member names are kept to characters that cannot
// be mistaken for the literal text that follows. Bytes >= 0x80 count so that UTF-8 names work.
bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '-' || u >= 0x80;
}

// Inside ${...} the closing brace delimits the path, so a name may hold anything that is not
// path syntax: spaces, '$', '/', ...
bool is_braced_name_char(char c) {
  return c != '.' && c != '[' && c != ']' && c != '{' && c != '}';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Writes straight into the result: no intermediate StringBuffer allocation.
struct string_sink {
  using Ch = char;
  std::string* out;
  void Put(char c) { out->push_back(c); }
  void Flush() {}
};

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  std::optional<expression_error> run(std::vector<selection_expression::part>& parts) {
    if (text_.empty()) {
      return expression_error{
          0, "the route selection expression is empty: write a static value such as 'action' or "
             "a body path such as '$request.body.action'"};
    }
    std::size_t literal_start = 0;
    std::string literal;
    auto flush_literal = [&](std::size_t end) {
      if (end == literal_start) return;
      selection_expression::part p;
      p.literal = std::move(literal);
      p.source = std::string(text_.substr(literal_start, end - literal_start));
      parts.push_back(std::move(p));
      literal.clear();
    };
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '$') {
        literal.push_back('$');
        pos_ += 2;
      } else if (c == '$') {
        flush_literal(pos_);
        const std::size_t start = pos_;
        selection_expression::part p;
        p.is_path = true;
        if (auto error = parse_variable(p.path)) return error;
        p.source = std::string(text_.substr(start, pos_ - start));
        parts.push_back(std::move(p));
        literal_start = pos_;
      } else {
        literal.push_back(c);
        ++pos_;
      }
    }
    flush_literal(pos_);
    return std::nullopt;
  }

 private:
  using steps = std::vector<selection_expression::step>;

  bool at(std::size_t pos, std::string_view s) const { return text_.substr(pos).starts_with(s); }

  // "'x'" or "the end of the expression"; a UTF-8 sequence is shown whole.
  std::string describe(std::size_t pos) const {
    if (pos >= text_.size()) return "the end of the expression";
    std::size_t end = pos + 1;
    if (static_cast<unsigned char>(text_[pos]) >= 0xC0) {
      while (end < text_.size() && (static_cast<unsigned char>(text_[end]) & 0xC0) == 0x80) ++end;
    }
    return "'" + std::string(text_.substr(pos, end - pos)) + "'";
  }

  expression_error error_at(std::size_t pos, std::string message) const {
    return expression_error{pos, std::move(message)};
  }

  // A '$' that does not start a supported variable: quote what the user wrote.
  expression_error unsupported(std::size_t start) const {
    std::size_t end = start + 1;
    if (end < text_.size() && text_[end] == '{') {
      const std::size_t close = text_.find('}', end);
      end = close == std::string_view::npos ? text_.size() : close + 1;
    } else {
      while (end < text_.size() && (is_name_char(text_[end]) || text_[end] == '.')) ++end;
    }
    std::string quoted(text_.substr(start, std::min(end - start, k_max_quote)));
    if (end - start > k_max_quote) quoted += "...";
    return error_at(start, "found '" + quoted + "': " + std::string(k_supported));
  }

  // The body is only read when it is a JSON object, so a path that starts with an index could
  // never match: say so at parse time instead of routing every message to $default.
  std::optional<expression_error> reject_top_level_index() const {
    if (pos_ < text_.size() && text_[pos_] == '[') {
      return error_at(pos_,
                      "found '[' right after request.body: the body is only read when it is a "
                      "JSON object, so a path starts with a member name, as in "
                      "$request.body.items[0]");
    }
    return std::nullopt;
  }

  // REQUIRES: text_[pos_] == '$'.
  std::optional<expression_error> parse_variable(steps& path) {
    const std::size_t start = pos_;
    if (at(start + 1, "{") && at(start + 2, k_body)) {
      pos_ = start + 2 + k_body.size();
      return parse_braced(start, path);
    }
    if (at(start + 1, k_body)) {
      pos_ = start + 1 + k_body.size();
      return parse_unbraced(path);
    }
    return unsupported(start);
  }

  std::optional<expression_error> parse_unbraced(steps& path) {
    if (auto error = reject_top_level_index()) return error;
    if (pos_ < text_.size() && is_name_char(text_[pos_])) {
      return error_at(pos_, "found " + describe(pos_) +
                                " right after $request.body: expected '.' and a member name, or "
                                "the end of the path (use ${request.body.PATH} to put text "
                                "right after a path)");
    }
    while (pos_ < text_.size()) {
      if (text_[pos_] == '.') {
        ++pos_;
        const std::size_t name_start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        if (pos_ == name_start) {
          return error_at(pos_, "found " + describe(pos_) +
                                    " where a member name was expected after '.': in "
                                    "$request.body.PATH a member name is one or more letters, "
                                    "digits, '_' or '-' (use ${request.body.PATH} for other "
                                    "characters)");
        }
        path.push_back({false, std::string(text_.substr(name_start, pos_ - name_start)), 0});
      } else if (text_[pos_] == '[') {
        if (auto error = parse_index(path)) return error;
        if (pos_ < text_.size() && is_name_char(text_[pos_])) {
          return error_at(pos_, "found " + describe(pos_) +
                                    " right after ']': expected '.', '[' or the end of the path "
                                    "(use ${request.body.PATH} to put text right after a path)");
        }
      } else {
        break;  // any other character is literal text
      }
    }
    return std::nullopt;
  }

  // REQUIRES: pos_ is just past "${request.body".
  std::optional<expression_error> parse_braced(std::size_t open, steps& path) {
    if (auto error = reject_top_level_index()) return error;
    while (true) {
      if (pos_ >= text_.size()) {
        return error_at(pos_, "found the end of the expression, expected '}' to close the '${' at "
                              "position " + std::to_string(open));
      }
      const char c = text_[pos_];
      if (c == '}') {
        ++pos_;
        return std::nullopt;
      }
      if (c == '.') {
        ++pos_;
        const std::size_t name_start = pos_;
        while (pos_ < text_.size() && is_braced_name_char(text_[pos_])) ++pos_;
        if (pos_ == name_start) {
          return error_at(pos_, "found " + describe(pos_) +
                                    " where a member name was expected after '.': a member name "
                                    "is one or more characters other than . [ ] { }");
        }
        path.push_back({false, std::string(text_.substr(name_start, pos_ - name_start)), 0});
      } else if (c == '[') {
        if (auto error = parse_index(path)) return error;
      } else {
        return error_at(pos_, "found " + describe(pos_) + " in ${request.body...}: expected '.' "
                              "and a member name, '[' and an index, or '}'");
      }
    }
  }

  // REQUIRES: text_[pos_] == '['.
  std::optional<expression_error> parse_index(steps& path) {
    const std::size_t open = pos_++;
    const std::size_t digits_start = pos_;
    std::size_t value = 0;
    while (pos_ < text_.size() && is_digit(text_[pos_])) {
      const auto digit = static_cast<std::size_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<std::uint32_t>::max() - digit) / 10) {
        // rapidjson arrays hold at most 2^32-1 elements: a larger index can never match.
        return error_at(digits_start, "the array index starting here is too large: the largest "
                                      "is " + std::to_string(std::numeric_limits<std::uint32_t>::max()));
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == digits_start) {
      return error_at(pos_, "found " + describe(pos_) +
                                " in an array index: an index is one or more digits, as in a[0]");
    }
    if (pos_ >= text_.size() || text_[pos_] != ']') {
      return error_at(pos_, "found " + describe(pos_) + " in an array index: expected a digit or "
                            "']' to close the '[' at position " + std::to_string(open));
    }
    ++pos_;
    path.push_back({true, std::string(), value});
    return std::nullopt;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// A guess for values that are not strings (numbers, booleans, small objects): only sizes the
// first allocation.
constexpr std::size_t k_non_string_estimate = 16;
// Paths resolved once and remembered while sizing the result; longer expressions re-resolve.
constexpr std::size_t k_remembered_paths = 8;

}  // namespace

result<selection_expression> selection_expression::parse(std::string_view text) {
  selection_expression expression;
  if (auto error = parser(text).run(expression.parts_)) {
    return fail("at position " + std::to_string(error->position) + ": " + error->message);
  }
  expression.text_ = std::string(text);
  for (const part& p : expression.parts_) {
    if (p.is_path) {
      expression.needs_body_ = true;
      ++expression.path_count_;
    } else {
      expression.literal_bytes_ += p.literal.size();
    }
  }
  return expression;
}

const rapidjson::Value* selection_expression::resolve(const std::vector<step>& path,
                                                      const rapidjson::Value* body) {
  if (body == nullptr || !body->IsObject()) return nullptr;
  const rapidjson::Value* current = body;
  for (const step& s : path) {
    if (s.is_index) {
      if (!current->IsArray() || s.index >= current->Size()) return nullptr;
      current = &(*current)[static_cast<rapidjson::SizeType>(s.index)];
    } else {
      if (!current->IsObject()) return nullptr;
      // A length-aware key: names may hold any byte, and no strlen per lookup.
      const rapidjson::Value key(
          rapidjson::StringRef(s.name.data(), static_cast<rapidjson::SizeType>(s.name.size())));
      const auto member = current->FindMember(key);
      if (member == current->MemberEnd()) return nullptr;
      current = &member->value;
    }
  }
  return current;
}

void selection_expression::append_value(std::string& out, const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return;
    case rapidjson::kStringType:
      out.append(value.GetString(), value.GetStringLength());
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kNumberType:
    case rapidjson::kObjectType:
    case rapidjson::kArrayType:
      break;
  }
  // The Writer keeps numbers exactly as RapidJSON prints them (1, 1.5, 1e30) and allocates
  // nothing of its own for a scalar. Objects and arrays are walked with a stack of our own rather
  // than Value::Accept, which recurses once per level: a message nested a hundred thousand levels
  // deep must not exhaust the thread's stack.
  string_sink sink{&out};
  rapidjson::Writer<string_sink> writer(sink);
  struct level {
    const rapidjson::Value* container;
    rapidjson::SizeType next;  // the next member or element to write
  };
  std::vector<level> levels;
  const rapidjson::Value* current = &value;
  while (true) {
    if (current != nullptr) {
      switch (current->GetType()) {
        case rapidjson::kNullType: writer.Null(); break;
        case rapidjson::kFalseType: writer.Bool(false); break;
        case rapidjson::kTrueType: writer.Bool(true); break;
        case rapidjson::kStringType:
          writer.String(current->GetString(), current->GetStringLength());
          break;
        case rapidjson::kNumberType:
          if (current->IsDouble()) {
            writer.Double(current->GetDouble());
          } else if (current->IsInt()) {
            writer.Int(current->GetInt());
          } else if (current->IsUint()) {
            writer.Uint(current->GetUint());
          } else if (current->IsInt64()) {
            writer.Int64(current->GetInt64());
          } else {
            writer.Uint64(current->GetUint64());
          }
          break;
        case rapidjson::kObjectType:
          writer.StartObject();
          levels.push_back({current, 0});
          break;
        case rapidjson::kArrayType:
          writer.StartArray();
          levels.push_back({current, 0});
          break;
      }
      current = nullptr;
    }
    if (levels.empty()) return;
    level& top = levels.back();
    if (top.container->IsObject()) {
      if (top.next == top.container->MemberCount()) {
        writer.EndObject(top.next);
        levels.pop_back();
        continue;
      }
      const auto member = top.container->MemberBegin() + top.next++;
      writer.Key(member->name.GetString(), member->name.GetStringLength());
      current = &member->value;
    } else {
      if (top.next == top.container->Size()) {
        writer.EndArray(top.next);
        levels.pop_back();
        continue;
      }
      current = &(*top.container)[top.next++];
    }
  }
}

selection_expression::lookup selection_expression::find(const part& p,
                                                        const rapidjson::Value* body) {
  if (!p.is_path) return lookup{true, p.literal};
  const rapidjson::Value* value = resolve(p.path, body);
  if (value == nullptr) return lookup{};
  lookup result{true, {}};
  append_value(result.value, *value);
  return result;
}

std::string selection_expression::evaluate(const rapidjson::Value* body) const {
  // The common "$request.body.action": one string built straight from the JSON text.
  if (parts_.size() == 1 && parts_.front().is_path) {
    const rapidjson::Value* value = resolve(parts_.front().path, body);
    if (value == nullptr) return {};
    if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
    std::string out;
    append_value(out, *value);
    return out;
  }

  // Resolve the first paths once, size the result from them, then append: one allocation at
  // most when the values are strings.
  std::array<const rapidjson::Value*, k_remembered_paths> resolved{};
  std::size_t size = literal_bytes_;
  std::size_t path_index = 0;
  for (const part& p : parts_) {
    if (!p.is_path) continue;
    if (path_index == resolved.size()) break;  // the rest only grows the estimate
    const rapidjson::Value* value = resolve(p.path, body);
    resolved[path_index++] = value;
    if (value != nullptr) {
      size += value->IsString() ? value->GetStringLength() : k_non_string_estimate;
    }
  }
  if (path_count_ > resolved.size()) size += (path_count_ - resolved.size()) * k_non_string_estimate;

  std::string out;
  out.reserve(size);
  path_index = 0;
  for (const part& p : parts_) {
    if (!p.is_path) {
      out += p.literal;
      continue;
    }
    const rapidjson::Value* value =
        path_index < resolved.size() ? resolved[path_index] : resolve(p.path, body);
    ++path_index;
    if (value != nullptr) append_value(out, *value);
  }
  return out;
}

}  // namespace apigw::routes
