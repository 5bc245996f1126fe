// DynamoDB's expression languages, as far as the emulator supports them: UpdateExpression
// (SET with +, -, if_not_exists and list_append; REMOVE; ADD of numbers and sets; DELETE from
// sets), ConditionExpression (attribute_exists, attribute_not_exists, attribute_type,
// begins_with, contains, size, comparisons, BETWEEN, IN, AND, OR, NOT, parentheses),
// KeyConditionExpression and ProjectionExpression. Paths are document paths (a.b[2], #n.#m).
// Parse errors are DynamoDB's ValidationException messages ("Invalid UpdateExpression: ...").
// Thread-safety: plain values and free functions; an expression_attributes is used by one request.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"
#include "store/document_path.hpp"

namespace apigw::store {

// ExpressionAttributeNames and ExpressionAttributeValues of one request, and which of them the
// request's expressions used (DynamoDB rejects unused ones).
class expression_attributes {
 public:
  // REQUIRES: NAMES and VALUES are null or objects that outlive this.
  expression_attributes(const rapidjson::Value* names, const rapidjson::Value* values)
      : names_(names), values_(values) {}

  // The attribute name for "#n", the value for ":v"; nullptr when the request defines none.
  const rapidjson::Value* name(std::string_view placeholder);
  const rapidjson::Value* value(std::string_view placeholder);

  // Ok when every name and value was used, else DynamoDB's message for those that were not.
  status unused() const;

 private:
  const rapidjson::Value* names_;
  const rapidjson::Value* values_;
  std::set<std::string, std::less<>> used_names_;
  std::set<std::string, std::less<>> used_values_;
};

// A value in SET or a condition: a :value, an attribute, if_not_exists(attribute, operand) or
// list_append(operand, operand) (SET), size(attribute) (conditions).
struct operand {
  enum class kind { value, path, if_not_exists, list_append, size };
  kind k = kind::value;
  const rapidjson::Value* value = nullptr;  // kind::value
  document_path path;                       // kind::path, kind::if_not_exists and kind::size
  std::unique_ptr<operand> fallback;        // kind::if_not_exists; list_append's first list
  std::unique_ptr<operand> second;          // list_append's second list
};

struct set_action {
  document_path path;
  operand left;
  char op = 0;  // '+' or '-' when RIGHT is set
  std::optional<operand> right;
};

struct update_expression {
  std::vector<set_action> set;
  std::vector<document_path> remove;
  std::vector<std::pair<document_path, const rapidjson::Value*>> add;
  std::vector<std::pair<document_path, const rapidjson::Value*>> del;  // DELETE from a set
};

struct condition {
  enum class kind { exists, not_exists, begins_with, contains, attribute_type, compare, between, in, and_, or_, not_ };
  kind k = kind::exists;
  std::string op;                       // compare: "=", "<>", "<", "<=", ">", ">="
  operand lhs, rhs;                     // compare, begins_with, contains, attribute_type; between's lower bound
  std::vector<operand> more;            // between: the upper bound; in: the candidates
  std::unique_ptr<condition> a, b;      // and_, or_, not_ (a only)
};

struct key_term {
  enum class kind { eq, lt, le, gt, ge, between, begins_with };
  kind k = kind::eq;
  std::string path;  // a key attribute: top-level
  const rapidjson::Value* a = nullptr;
  const rapidjson::Value* b = nullptr;  // between
};

result<update_expression> parse_update_expression(std::string_view text, expression_attributes& attrs);
// WHAT names the expression in messages: "ConditionExpression" (or "FilterExpression").
result<std::unique_ptr<condition>> parse_condition_expression(
    std::string_view text, expression_attributes& attrs, std::string_view what = "ConditionExpression");
// One or two terms joined by AND, in the order written.
result<std::vector<key_term>> parse_key_condition_expression(std::string_view text,
                                                            expression_attributes& attrs);
result<std::vector<document_path>> parse_projection_expression(std::string_view text,
                                                             expression_attributes& attrs);

}  // namespace apigw::store
