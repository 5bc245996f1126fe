#include "templates/intrinsics.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include <openssl/evp.h>

namespace apigw::templates {
namespace {

constexpr std::string_view kNoValue = "AWS::NoValue";

node no_value(const node& at) {
  node n;
  n.text = std::string(kNoValue);
  n.line = at.line;
  n.column = at.column;
  return n;
}

node sequence_at(const node& at) {
  node n;
  n.type = node::kind::sequence;
  n.line = at.line;
  n.column = at.column;
  return n;
}

bool same(const node& a, const node& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case node::kind::null: return true;
    case node::kind::string: return a.text == b.text;
    case node::kind::sequence:
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); ++i) {
        if (!same(a.items[i], b.items[i])) return false;
      }
      return true;
    case node::kind::mapping:
      if (a.members.size() != b.members.size()) return false;
      for (const auto& [key, value] : a.members) {
        const node* other = b.find(key);
        if (other == nullptr || !same(value, *other)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

bool is_no_value(const node& n) { return n.is_null() && n.text == kNoValue; }

bool is_intrinsic(const node& n) {
  if (!n.is_mapping() || n.members.size() != 1) return false;
  const std::string& key = n.members[0].first;
  return key == "Ref" || key.starts_with("Fn::");
}

evaluator::evaluator(std::string source, std::map<std::string, node, std::less<>> parameters, const node* mappings,
                     std::string region, hooks h)
    : source_(std::move(source)),
      parameters_(std::move(parameters)),
      mappings_(mappings),
      region_(std::move(region)),
      hooks_(std::move(h)) {}

std::string evaluator::where(const node& n, const std::string& path) const { return location(source_, n, path); }

result<node> evaluator::resolve(const node& n, const std::string& path) {
  switch (n.type) {
    case node::kind::null:
    case node::kind::string:
      return n;
    case node::kind::sequence: {
      node out = sequence_at(n);
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        auto item = resolve(n.items[i], path + "[" + std::to_string(i) + "]");
        if (!item) return item;
        if (!is_no_value(*item)) out.items.push_back(std::move(*item));
      }
      return out;
    }
    case node::kind::mapping: {
      if (is_intrinsic(n)) return call(n.members[0].first, n.members[0].second, n, path);
      node out;
      out.type = node::kind::mapping;
      out.line = n.line;
      out.column = n.column;
      for (const auto& [key, value] : n.members) {
        auto member = resolve(value, path.empty() ? key : path + "." + key);
        if (!member) return member;
        if (!is_no_value(*member)) out.members.emplace_back(key, std::move(*member));
      }
      return out;
    }
  }
  return n;
}

result<node> evaluator::resolve_string(const node& n, const std::string& path, std::string_view what) {
  auto value = resolve(n, path);
  if (!value) return value;
  if (!value->is_string()) {
    return fail(where(n, path) + std::string(what) + " must be a string, not " + std::string(describe(*value)));
  }
  return value;
}

result<node> evaluator::call(std::string_view function, const node& argument, const node& at,
                             const std::string& path) {
  const std::string inner = path + "." + std::string(function);
  if (function == "Ref") return ref(argument, at, path);
  if (function == "Fn::GetAtt") return get_att(argument, at, path);
  if (function == "Fn::Sub") return sub(argument, at, inner);
  if (function == "Fn::Join") return join(argument, at, inner);
  if (function == "Fn::Select") return select(argument, at, inner);
  if (function == "Fn::Split") return split(argument, at, inner);
  if (function == "Fn::FindInMap") return find_in_map(argument, at, inner);
  if (function == "Fn::If") {
    if (!argument.is_sequence() || argument.items.size() != 3 || !argument.items[0].is_string()) {
      return fail(where(at, path) + "Fn::If takes [CONDITION_NAME, value if true, value if false]");
    }
    auto chosen = hooks_.condition(argument.items[0].text, argument.items[0], inner);
    if (!chosen) return chosen.status();
    return resolve(argument.items[*chosen ? 1 : 2], inner + "[" + (*chosen ? "1" : "2") + "]");
  }
  if (function == "Fn::Equals" || function == "Fn::Not" || function == "Fn::And" || function == "Fn::Or") {
    return fail(where(at, path) + std::string(function) +
                " is a condition function: use it in Conditions (and name the condition in Fn::If)");
  }
  if (function == "Fn::Base64") {
    auto text = resolve_string(argument, inner, "Fn::Base64's argument");
    if (!text) return text;
    const std::string& plain = text->text;
    std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    encoded.resize(static_cast<std::size_t>(n));
    return node::string(std::move(encoded), at.line, at.column);
  }
  if (function == "Fn::GetAZs") {
    // The emulator's region has three zones, a to c, whatever the argument names.
    auto region = resolve_string(argument, inner, "Fn::GetAZs's argument");
    if (!region) return region;
    const std::string name = region->text.empty() ? region_ : region->text;
    node out = sequence_at(at);
    for (const char zone : {'a', 'b', 'c'}) out.items.push_back(node::string(name + zone, at.line, at.column));
    return out;
  }
  return fail(where(at, path) + std::string(function) +
              " is not evaluated by the emulator (it reads Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, "
              "Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::FindInMap, Fn::Base64 and Fn::GetAZs)" +
              (function == "Fn::ImportValue" ? ": another stack's exports do not exist here; use a parameter" : ""));
}

result<node> evaluator::ref(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_string()) {
    return fail(where(at, path) + "Ref takes the name of a parameter or resource, not " +
                std::string(describe(argument)));
  }
  const std::string& name = argument.text;
  if (name == kNoValue) return no_value(at);
  if (auto p = parameters_.find(name); p != parameters_.end()) {
    node value = p->second;
    value.line = at.line;
    value.column = at.column;
    return value;
  }
  if (hooks_.has_resource(name)) return hooks_.ref(name, at, path);
  return fail(where(at, path) + "Ref " + name + ": unresolved reference, no parameter or resource is named " +
              name + " (" + hooks_.known_names() + ")");
}

result<node> evaluator::get_att(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_sequence() || argument.items.size() != 2 || !argument.items[0].is_string()) {
    return fail(where(at, path) + "Fn::GetAtt takes [LogicalId, Attribute] (or !GetAtt LogicalId.Attribute)");
  }
  const std::string& logical_id = argument.items[0].text;
  auto attribute = resolve_string(argument.items[1], path + ".Fn::GetAtt[1]", "Fn::GetAtt's attribute");
  if (!attribute) return attribute;
  if (!hooks_.has_resource(logical_id)) {
    return fail(where(at, path) + "Fn::GetAtt " + logical_id + "." + attribute->text + ": no resource is named " +
                logical_id + " (" + hooks_.known_names() + ")");
  }
  return hooks_.get_att(logical_id, attribute->text, at, path);
}

result<node> evaluator::sub(const node& argument, const node& at, const std::string& path) {
  const node* text = &argument;
  std::map<std::string, std::string, std::less<>> variables;
  if (argument.is_sequence()) {
    if (argument.items.size() != 2 || !argument.items[1].is_mapping()) {
      return fail(where(at, path) + "Fn::Sub takes a string, or [string, {NAME: value, ...}]");
    }
    text = &argument.items[0];
    for (const auto& [name, value] : argument.items[1].members) {
      auto resolved = resolve_string(value, path + "[1]." + name, "a Fn::Sub variable");
      if (!resolved) return resolved;
      variables.emplace(name, std::move(resolved->text));
    }
  }
  if (!text->is_string()) {
    return fail(where(at, path) + "Fn::Sub's text must be a string, not " + std::string(describe(*text)));
  }
  const std::string& in = text->text;
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t open = in.find("${", i);
    if (open == std::string::npos) {
      out.append(in, i, std::string::npos);
      break;
    }
    out.append(in, i, open - i);
    const std::size_t close = in.find('}', open + 2);
    if (close == std::string::npos) {
      return fail(where(at, path) + "\"" + in + "\": ${ at offset " + std::to_string(open) + " has no closing }");
    }
    const std::string name = in.substr(open + 2, close - open - 2);
    i = close + 1;
    if (name.starts_with('!')) {  // ${!Literal} is written as ${Literal}
      out += "${" + name.substr(1) + "}";
      continue;
    }
    if (auto v = variables.find(name); v != variables.end()) {
      out += v->second;
      continue;
    }
    node reference;
    reference.type = node::kind::mapping;
    reference.line = at.line;
    reference.column = at.column;
    const std::size_t dot = name.find('.');
    if (dot != std::string::npos) {
      node pair = sequence_at(at);
      pair.items.push_back(node::string(name.substr(0, dot), at.line, at.column));
      pair.items.push_back(node::string(name.substr(dot + 1), at.line, at.column));
      reference.members.emplace_back("Fn::GetAtt", std::move(pair));
    } else {
      reference.members.emplace_back("Ref", node::string(name, at.line, at.column));
    }
    auto value = resolve(reference, path + " ${" + name + "}");
    if (!value) return value;
    if (!value->is_string()) {
      return fail(where(at, path) + "${" + name + "} is " + std::string(describe(*value)) +
                  "; Fn::Sub puts strings in text (a list parameter needs Fn::Join)");
    }
    out += value->text;
  }
  return node::string(std::move(out), at.line, at.column);
}

result<node> evaluator::join(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_sequence() || argument.items.size() != 2) {
    return fail(where(at, path) + "Fn::Join takes [DELIMITER, [value, ...]]");
  }
  auto delimiter = resolve_string(argument.items[0], path + "[0]", "Fn::Join's delimiter");
  if (!delimiter) return delimiter;
  auto list = resolve(argument.items[1], path + "[1]");
  if (!list) return list;
  if (!list->is_sequence()) {
    return fail(where(at, path) + "Fn::Join's second argument must be a list, not " + std::string(describe(*list)));
  }
  std::string out;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const node& item = list->items[i];
    if (!item.is_string()) {
      return fail(where(item, path + "[1][" + std::to_string(i) + "]") + "Fn::Join joins strings, not " +
                  std::string(describe(item)));
    }
    if (i > 0) out += delimiter->text;
    out += item.text;
  }
  return node::string(std::move(out), at.line, at.column);
}

result<node> evaluator::select(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_sequence() || argument.items.size() != 2) {
    return fail(where(at, path) + "Fn::Select takes [INDEX, [value, ...]]");
  }
  auto index_node = resolve_string(argument.items[0], path + "[0]", "Fn::Select's index");
  if (!index_node) return index_node;
  const std::string& index_text = index_node->text;
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (ec != std::errc() || end != index_text.data() + index_text.size()) {
    return fail(where(at, path) + "Fn::Select's index must be a whole number from 0, not \"" + index_text + "\"");
  }
  auto list = resolve(argument.items[1], path + "[1]");
  if (!list) return list;
  if (!list->is_sequence()) {
    return fail(where(at, path) + "Fn::Select's second argument must be a list, not " + std::string(describe(*list)));
  }
  if (index >= list->items.size()) {
    return fail(where(at, path) + "Fn::Select index " + index_text + " is out of bounds: the list has " +
                std::to_string(list->items.size()) + " item(s)");
  }
  return std::move(list->items[index]);
}

result<node> evaluator::split(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_sequence() || argument.items.size() != 2) {
    return fail(where(at, path) + "Fn::Split takes [DELIMITER, string]");
  }
  auto delimiter = resolve_string(argument.items[0], path + "[0]", "Fn::Split's delimiter");
  if (!delimiter) return delimiter;
  const std::string& by = delimiter->text;
  if (by.empty()) return fail(where(at, path) + "Fn::Split's delimiter must not be empty");
  auto source = resolve_string(argument.items[1], path + "[1]", "Fn::Split's source");
  if (!source) return source;
  const std::string& text = source->text;
  node out = sequence_at(at);
  std::size_t start = 0;
  while (true) {
    const std::size_t found = text.find(by, start);
    out.items.push_back(node::string(text.substr(start, found == std::string::npos ? found : found - start),
                                     at.line, at.column));
    if (found == std::string::npos) break;
    start = found + by.size();
  }
  return out;
}

result<node> evaluator::find_in_map(const node& argument, const node& at, const std::string& path) {
  if (!argument.is_sequence() || argument.items.size() != 3) {
    return fail(where(at, path) + "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]");
  }
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 3; ++i) {
    auto key = resolve_string(argument.items[i], path + "[" + std::to_string(i) + "]", "a Fn::FindInMap key");
    if (!key) return key;
    keys.push_back(std::move(key->text));
  }
  const node* map = mappings_ != nullptr ? mappings_->find(keys[0]) : nullptr;
  if (map == nullptr) {
    return fail(where(at, path) + "Fn::FindInMap: no mapping is named " + keys[0] + " in Mappings");
  }
  const node* top = map->find(keys[1]);
  if (top == nullptr) {
    return fail(where(at, path) + "Fn::FindInMap: mapping " + keys[0] + " has no key " + keys[1]);
  }
  const node* value = top->find(keys[2]);
  if (value == nullptr) {
    return fail(where(at, path) + "Fn::FindInMap: mapping " + keys[0] + "." + keys[1] + " has no key " + keys[2]);
  }
  // Mappings hold literal values: CloudFormation evaluates no function in them.
  if (is_intrinsic(*value)) {
    return fail(where(*value, "Mappings." + keys[0] + "." + keys[1] + "." + keys[2]) +
                "a mapping's value is a literal string or list; " + value->members[0].first + " is not evaluated here");
  }
  return *value;
}

result<bool> evaluator::truth(const node& n, const std::string& path) {
  if (n.is_string() && (n.text == "true" || n.text == "false")) return n.text == "true";
  if (!n.is_mapping() || n.members.size() != 1) {
    return fail(where(n, path) + "a condition is Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition NAME, not " +
                std::string(describe(n)));
  }
  const auto& [function, argument] = n.members[0];
  const std::string inner = path + "." + function;
  if (function == "Condition") {
    if (!argument.is_string()) return fail(where(n, path) + "Condition takes a condition's name");
    return hooks_.condition(argument.text, argument, inner);
  }
  if (function == "Fn::Equals") {
    if (!argument.is_sequence() || argument.items.size() != 2) {
      return fail(where(n, path) + "Fn::Equals takes [value, value]");
    }
    auto a = resolve(argument.items[0], inner + "[0]");
    if (!a) return a.status();
    auto b = resolve(argument.items[1], inner + "[1]");
    if (!b) return b.status();
    return same(*a, *b);
  }
  if (function == "Fn::Not") {
    if (!argument.is_sequence() || argument.items.size() != 1) {
      return fail(where(n, path) + "Fn::Not takes [condition]");
    }
    auto value = truth(argument.items[0], inner + "[0]");
    if (!value) return value;
    return !*value;
  }
  if (function == "Fn::And" || function == "Fn::Or") {
    if (!argument.is_sequence() || argument.items.size() < 2 || argument.items.size() > 10) {
      return fail(where(n, path) + function + " takes from 2 to 10 conditions");
    }
    const bool is_and = function == "Fn::And";
    bool value = is_and;
    for (std::size_t i = 0; i < argument.items.size(); ++i) {
      auto item = truth(argument.items[i], inner + "[" + std::to_string(i) + "]");
      if (!item) return item;
      value = is_and ? (value && *item) : (value || *item);
    }
    return value;
  }
  if (function == "Ref" || function == "Fn::FindInMap" || function == "Fn::If" || function == "Fn::Select") {
    auto value = resolve(n, path);
    if (!value) return value.status();
    return truth(*value, path);
  }
  return fail(where(n, path) + function + " is not a condition function (Fn::Equals, Fn::Not, Fn::And, Fn::Or, "
                                          "Condition)");
}

}  // namespace apigw::templates
