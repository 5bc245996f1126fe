#include "store/expression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/ascii.hpp"
#include "store/attribute_value.hpp"
#include "store/reserved_words.hpp"


namespace apigw::store {
namespace {

namespace rj = rapidjson;

std::string_view view(const rj::Value& v) { return {v.GetString(), v.GetStringLength()}; }

const rj::Value* find(const rj::Value* object, std::string_view key) {
  if (!object || !object->IsObject()) return nullptr;
  auto it = object->FindMember(rj::Value(rj::StringRef(key.data(), key.size())));
  return it == object->MemberEnd() ? nullptr : &it->value;
}


// The highest list index DynamoDB takes in a document path (a[4294967295] is refused).
constexpr std::size_t max_list_index = 4294967294;

struct token {
  enum class kind { name, name_ref, value_ref, punct, end };
  kind k = kind::end;
  std::string text;
  std::size_t pos = 0;
};

// Thrown inside the parser only: a parse has a single exit, where the message becomes a value.
struct parse_failure {
  std::string message;
};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class parser {
 public:
  parser(std::string_view text, expression_attributes& attrs, std::string_view what)
      : text_(text), attrs_(attrs), what_(what) {
    tokenize();
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw parse_failure{"Invalid " + what_ + ": " + message};
  }

  [[noreturn]] void syntax_error() const {
    const token& t = tokens_[i_];
    std::size_t from = i_ > 0 ? tokens_[i_ - 1].pos : t.pos;
    std::size_t to = i_ + 1 < tokens_.size() ? tokens_[i_ + 1].pos + tokens_[i_ + 1].text.size()
                                             : t.pos + t.text.size();
    to = std::min(to, text_.size());
    std::string tok = t.k == token::kind::end ? "<EOF>" : t.text;
    fail("Syntax error; token: \"" + tok + "\", near: \"" + std::string(text_.substr(from, to - from)) + "\"");
  }

  const token& peek() const { return tokens_[i_]; }
  bool at_end() const { return peek().k == token::kind::end; }
  bool peek_punct(std::string_view p) const { return peek().k == token::kind::punct && peek().text == p; }
  bool peek_word(std::string_view w) const { return peek().k == token::kind::name && iequals(peek().text, w); }
  void next() {
    if (!at_end()) ++i_;
  }
  void expect_punct(std::string_view p) {
    if (!peek_punct(p)) syntax_error();
    next();
  }
  void expect_end() {
    if (!at_end()) syntax_error();
  }

  // One name of a path: a name (not a reserved word) or a #name.
  std::string path_name() {
    const token& t = peek();
    std::string name;
    if (t.k == token::kind::name) {
      if (is_reserved_word(t.text)) fail("Attribute name is a reserved keyword; reserved keyword: " + t.text);
      name = t.text;
    } else if (t.k == token::kind::name_ref) {
      const rj::Value* v = attrs_.name(t.text);
      if (!v) {
        fail("An expression attribute name used in the document path is not defined; attribute name: " + t.text);
      }
      name.assign(view(*v));
    } else {
      syntax_error();
    }
    next();
    return name;
  }

  // A document path: a name, then .name and [index] steps (a.b[2], #n.#m).
  document_path path() {
    document_path p;
    p.steps.push_back(path_step{path_name()});
    while (peek_punct(".") || peek_punct("[")) {
      if (peek_punct(".")) {
        next();
        p.steps.push_back(path_step{path_name()});
        continue;
      }
      next();
      const token& t = peek();
      std::size_t index = 0;
      const char* end = t.text.data() + t.text.size();
      if (t.k != token::kind::name) syntax_error();
      const auto [stop, error] = std::from_chars(t.text.data(), end, index);
      if (stop != end) syntax_error();
      if (error == std::errc::result_out_of_range || index > max_list_index) {
        fail("List index is not within the allowable range; index: [" + t.text + "]");
      }
      next();
      expect_punct("]");
      p.steps.push_back(path_step{"", index});
    }
    return p;
  }

  // A key condition's attribute: key attributes are top-level.
  std::string key_path() {
    document_path p = path();
    if (!p.top_level()) {
      fail("Key conditions name key attributes, which are top-level attributes; document path: " + p.text());
    }
    return std::move(p.steps.front().name);
  }

  const rj::Value* value_ref() {
    const token& t = peek();
    if (t.k != token::kind::value_ref) syntax_error();
    const rj::Value* v = attrs_.value(t.text);
    if (!v) fail("An expression attribute value used in expression is not defined; attribute value: " + t.text);
    next();
    return v;
  }

  operand simple_operand() {
    operand o;
    if (peek().k == token::kind::value_ref) {
      o.k = operand::kind::value;
      o.value = value_ref();
    } else {
      o.k = operand::kind::path;
      o.path = path();
    }
    return o;
  }

  // SET's operand: value, path or if_not_exists(path, operand).
  operand set_operand() {
    if (peek_word("if_not_exists") && tokens_[i_ + 1].k == token::kind::punct && tokens_[i_ + 1].text == "(") {
      next();
      next();
      operand o;
      o.k = operand::kind::if_not_exists;
      o.path = path();
      expect_punct(",");
      o.fallback = std::make_unique<operand>(set_operand());
      expect_punct(")");
      return o;
    }
    if (peek_word("list_append") && tokens_[i_ + 1].k == token::kind::punct && tokens_[i_ + 1].text == "(") {
      next();
      next();
      operand o;
      o.k = operand::kind::list_append;
      o.fallback = std::make_unique<operand>(set_operand());
      if (peek_punct(")")) {
        fail("Incorrect number of operands for operator or function; operator or function: list_append, number "
             "of operands: 1");
      }
      expect_punct(",");
      o.second = std::make_unique<operand>(set_operand());
      if (peek_punct(",")) {
        fail("Incorrect number of operands for operator or function; operator or function: list_append, number "
             "of operands: 3");
      }
      expect_punct(")");
      return o;
    }
    if (peek().k == token::kind::name && i_ + 1 < tokens_.size() && tokens_[i_ + 1].text == "(") {
      fail("Invalid function name; function: " + peek().text);
    }
    return simple_operand();
  }

  // A comparison's operand: a value, a path or size(path).
  operand comparison_operand() {
    if (peek_word("size") && tokens_[i_ + 1].k == token::kind::punct && tokens_[i_ + 1].text == "(") {
      next();
      next();
      operand o;
      o.k = operand::kind::size;
      o.path = path();
      expect_punct(")");
      return o;
    }
    return simple_operand();
  }

  update_expression update() {
    update_expression u;
    std::set<std::string, std::less<>> sections;
    std::vector<document_path> paths;
    if (at_end()) syntax_error();
    while (!at_end()) {
      if (peek().k != token::kind::name) syntax_error();
      std::string section = peek().text;
      std::transform(section.begin(), section.end(), section.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      if (section != "SET" && section != "REMOVE" && section != "ADD" && section != "DELETE") syntax_error();
      if (!sections.insert(section).second) {
        fail("The \"" + section + "\" section can only be used once in an update expression;");
      }
      next();
      do {
        if (section == "SET") {
          set_action a;
          a.path = path();
          expect_punct("=");
          a.left = set_operand();
          if (peek_punct("+") || peek_punct("-")) {
            a.op = peek().text[0];
            next();
            a.right = set_operand();
          }
          paths.push_back(a.path);
          u.set.push_back(std::move(a));
        } else if (section == "REMOVE") {
          u.remove.push_back(path());
          paths.push_back(u.remove.back());
        } else {
          document_path p = path();
          const rj::Value* v = value_ref();
          paths.push_back(p);
          (section == "ADD" ? u.add : u.del).emplace_back(std::move(p), v);
        }
        if (!peek_punct(",")) break;
        next();
      } while (true);
    }
    if (auto overlap = overlapping_paths(paths)) fail(*overlap);
    return u;
  }

  // condition := disjunct (OR disjunct)* ; disjunct := conjunct (AND conjunct)* ;
  // conjunct := NOT conjunct | ( condition ) | function | operand comparator operand
  std::unique_ptr<condition> condition_or() {
    auto left = condition_and();
    while (peek_word("OR")) {
      next();
      auto c = std::make_unique<condition>();
      c->k = condition::kind::or_;
      c->a = std::move(left);
      c->b = condition_and();
      left = std::move(c);
    }
    return left;
  }

  std::unique_ptr<condition> condition_and() {
    auto left = condition_not();
    while (peek_word("AND")) {
      next();
      auto c = std::make_unique<condition>();
      c->k = condition::kind::and_;
      c->a = std::move(left);
      c->b = condition_not();
      left = std::move(c);
    }
    return left;
  }

  std::unique_ptr<condition> condition_not() {
    auto c = std::make_unique<condition>();
    if (peek_word("NOT")) {
      next();
      c->k = condition::kind::not_;
      c->a = condition_not();
      return c;
    }
    if (peek_punct("(")) {
      next();
      auto inner = condition_or();
      expect_punct(")");
      return inner;
    }
    if (peek().k == token::kind::name && tokens_[i_ + 1].text == "(" && !peek_word("size")) {
      std::string fn = peek().text;
      next();
      next();
      if (fn == "attribute_exists" || fn == "attribute_not_exists") {
        c->k = fn == "attribute_exists" ? condition::kind::exists : condition::kind::not_exists;
        c->lhs.k = operand::kind::path;
        c->lhs.path = path();
      } else if (fn == "begins_with" || fn == "contains") {
        c->k = fn == "begins_with" ? condition::kind::begins_with : condition::kind::contains;
        c->lhs = simple_operand();
        expect_punct(",");
        c->rhs = simple_operand();
      } else if (fn == "attribute_type") {
        c->k = condition::kind::attribute_type;
        c->lhs.k = operand::kind::path;
        c->lhs.path = path();
        expect_punct(",");
        c->rhs.k = operand::kind::value;
        c->rhs.value = value_ref();
        check_type_name(*c->rhs.value);
      } else {
        fail("Invalid function name; function: " + fn);
      }
      expect_punct(")");
      return c;
    }
    c->k = condition::kind::compare;
    c->lhs = comparison_operand();
    if (peek_word("BETWEEN")) {
      next();
      c->k = condition::kind::between;
      c->rhs = comparison_operand();
      if (!peek_word("AND")) syntax_error();
      next();
      c->more.push_back(comparison_operand());
      check_bounds(c->rhs, c->more[0]);
      return c;
    }
    if (peek_word("IN")) {
      next();
      c->k = condition::kind::in;
      expect_punct("(");
      do {
        c->more.push_back(comparison_operand());
        if (!peek_punct(",")) break;
        next();
      } while (true);
      expect_punct(")");
      constexpr std::size_t kMostInOperands = 100;
      if (c->more.size() > kMostInOperands) {
        fail("The IN operator is provided with too many operands; number of operands: " +
             std::to_string(c->more.size()));
      }
      return c;
    }
    const token& t = peek();
    if (t.k != token::kind::punct || (t.text != "=" && t.text != "<>" && t.text != "<" &&
                                      t.text != "<=" && t.text != ">" && t.text != ">=")) {
      syntax_error();
    }
    c->op = t.text;
    next();
    c->rhs = comparison_operand();
    return c;
  }

  // BETWEEN's bounds, when both are values: of one type, the lower not above the upper.
  void check_bounds(const operand& lower, const operand& upper) const {
    if (lower.k != operand::kind::value || upper.k != operand::kind::value) return;
    const std::string bounds = "lower bound operand: AttributeValue: " + to_short_text(*lower.value) +
                               ", upper bound operand: AttributeValue: " + to_short_text(*upper.value);
    if (type_of(*lower.value) != type_of(*upper.value)) {
      fail("The BETWEEN operator requires same data type for lower and upper bounds; " + bounds);
    }
    const std::optional<int> order = compare_values(*lower.value, *upper.value);
    if (order && *order > 0) {
      fail("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds);
    }
  }

  // attribute_type's second operand: one of DynamoDB's type names.
  void check_type_name(const rj::Value& v) const {
    const rj::Value* s = v.IsObject() ? find(&v, "S") : nullptr;
    const std::string_view name = s && s->IsString() ? view(*s) : std::string_view();
    for (std::string_view known : {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}) {
      if (name == known) return;
    }
    fail("Invalid attribute type name found; type: " + std::string(name) +
         ", valid types: { S,SS,N,NS,B,BS,BOOL,NULL,L,M }");
  }

  // key_condition := key_conjunction ; key_conjunction := key_part (AND key_part)* ;
  // key_part := ( key_conjunction ) | key_term  (boto3 writes "(#n0 = :v0 AND #n1 >= :v1)")
  std::vector<key_term> key_condition() {
    std::vector<key_term> terms;
    key_conjunction(terms);
    expect_end();
    return terms;
  }

  void key_conjunction(std::vector<key_term>& terms) {
    do {
      if (peek_punct("(")) {
        next();
        key_conjunction(terms);
        expect_punct(")");
      } else {
        terms.push_back(key_term_());
      }
      if (!peek_word("AND")) break;
      next();
    } while (true);
  }

  key_term key_term_() {
    key_term t;
    if (peek_word("begins_with") && tokens_[i_ + 1].text == "(") {
      next();
      next();
      t.k = key_term::kind::begins_with;
      t.path = key_path();
      expect_punct(",");
      t.a = value_ref();
      expect_punct(")");
      return t;
    }
    if (peek().k == token::kind::name && tokens_[i_ + 1].text == "(") {
      fail("Invalid operator used in KeyConditionExpression: " + peek().text);
    }
    t.path = key_path();
    if (peek_word("BETWEEN")) {
      next();
      t.k = key_term::kind::between;
      t.a = value_ref();
      if (!peek_word("AND")) syntax_error();
      next();
      t.b = value_ref();
      return t;
    }
    const token& op = peek();
    if (op.k != token::kind::punct) syntax_error();
    if (op.text == "=") t.k = key_term::kind::eq;
    else if (op.text == "<") t.k = key_term::kind::lt;
    else if (op.text == "<=") t.k = key_term::kind::le;
    else if (op.text == ">") t.k = key_term::kind::gt;
    else if (op.text == ">=") t.k = key_term::kind::ge;
    else if (op.text == "<>") fail("Unsupported operator in KeyConditionExpression: <>");
    else syntax_error();
    next();
    t.a = value_ref();
    return t;
  }

  std::vector<document_path> projection() {
    std::vector<document_path> paths;
    do {
      paths.push_back(path());
      if (!peek_punct(",")) break;
      next();
    } while (true);
    expect_end();
    if (auto overlap = overlapping_paths(paths)) fail(*overlap);
    return paths;
  }

 private:
  void tokenize() {
    std::size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      token t;
      t.pos = i;
      if (c == '#' || c == ':') {
        std::size_t j = i + 1;
        while (j < text_.size() && is_name_char(text_[j])) ++j;
        t.k = c == '#' ? token::kind::name_ref : token::kind::value_ref;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
        if (t.text.size() == 1) {
          tokens_.push_back(std::move(t));
          i_ = tokens_.size() - 1;
          tokens_.push_back(token{token::kind::end, "", text_.size()});
          syntax_error();
        }
      } else if (is_name_char(c)) {
        std::size_t j = i;
        while (j < text_.size() && is_name_char(text_[j])) ++j;
        t.k = token::kind::name;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else {
        t.k = token::kind::punct;
        std::string_view two = text_.substr(i, 2);
        if (two == "<=" || two == ">=" || two == "<>") {
          t.text = std::string(two);
          i += 2;
        } else if (std::string_view("=<>(),+-.[]").find(c) != std::string_view::npos) {
          t.text = std::string(1, c);
          ++i;
        } else {
          t.text = std::string(1, c);
          tokens_.push_back(std::move(t));
          i_ = tokens_.size() - 1;
          tokens_.push_back(token{token::kind::end, "", text_.size()});
          syntax_error();
        }
      }
      tokens_.push_back(std::move(t));
    }
    tokens_.push_back(token{token::kind::end, "", text_.size()});
    // A second end token lets the parser look one past the end without bounds checks.
    tokens_.push_back(token{token::kind::end, "", text_.size()});
    i_ = 0;
  }

  std::string_view text_;
  expression_attributes& attrs_;
  std::string what_;
  std::vector<token> tokens_;
  std::size_t i_ = 0;
};

template <class F>
auto run(std::string_view text, expression_attributes& attrs, std::string_view what, F&& f)
    -> result<decltype(f(std::declval<parser&>()))> {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail("Invalid " + std::string(what) + ": The expression can not be empty;");
  }
  // DynamoDB's limit; it also bounds how deep the parser's recursion on parentheses goes.
  constexpr std::size_t kMaxExpressionBytes = 4096;
  if (text.size() > kMaxExpressionBytes) {
    return fail("Invalid " + std::string(what) + ": Expression size has exceeded the maximum allowed size; "
                "expression size: " + std::to_string(text.size()));
  }
  try {
    parser p(text, attrs, what);
    return f(p);
  } catch (parse_failure& e) {
    return fail(std::move(e.message));
  }
}

}  // namespace

const rj::Value* expression_attributes::name(std::string_view placeholder) {
  const rj::Value* v = find(names_, placeholder);
  if (!v || !v->IsString()) return nullptr;
  used_names_.emplace(placeholder);
  return v;
}

const rj::Value* expression_attributes::value(std::string_view placeholder) {
  const rj::Value* v = find(values_, placeholder);
  if (!v) return nullptr;
  used_values_.emplace(placeholder);
  return v;
}

status expression_attributes::unused() const {
  auto list = [](const rj::Value* object, const std::set<std::string, std::less<>>& used) {
    std::string out;
    if (!object || !object->IsObject()) return out;
    for (auto m = object->MemberBegin(); m != object->MemberEnd(); ++m) {
      if (used.count(view(m->name))) continue;
      if (!out.empty()) out += ", ";
      out += view(m->name);
    }
    return out;
  };
  if (std::string names = list(names_, used_names_); !names.empty()) {
    return fail("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + names + "}");
  }
  if (std::string values = list(values_, used_values_); !values.empty()) {
    return fail("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + values + "}");
  }
  return {};
}

result<update_expression> parse_update_expression(std::string_view text, expression_attributes& attrs) {
  return run(text, attrs, "UpdateExpression", [](parser& p) { return p.update(); });
}

result<std::unique_ptr<condition>> parse_condition_expression(
    std::string_view text, expression_attributes& attrs, std::string_view what) {
  return run(text, attrs, what, [](parser& p) {
    auto c = p.condition_or();
    p.expect_end();
    return c;
  });
}

result<std::vector<key_term>> parse_key_condition_expression(std::string_view text,
                                                            expression_attributes& attrs) {
  return run(text, attrs, "KeyConditionExpression", [](parser& p) { return p.key_condition(); });
}

result<std::vector<document_path>> parse_projection_expression(std::string_view text,
                                                             expression_attributes& attrs) {
  return run(text, attrs, "ProjectionExpression", [](parser& p) { return p.projection(); });
}

}  // namespace apigw::store
