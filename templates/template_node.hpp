// A CloudFormation or SAM template as a tree: YAML (with the short-form tags !Ref, !Sub, …) and
// JSON (as `cdk synth` writes it) read into one shape, every node knowing its line and column.
// The short forms become the long ones ("!Ref X" is {"Ref": "X"}), so the rest of the loader
// sees one grammar. Duplicate keys, which YAML parsers keep, are refused as CloudFormation does.
// Thread-safety: plain values; the functions keep no state.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace apigw::templates {

struct node {
  enum class kind { null, string, sequence, mapping };
  struct member;  // a key and its value, as a pair: first, second

  kind type = kind::null;
  std::string text;   // kind::string: the scalar as written
  bool plain = false;  // an unquoted scalar: a number or a boolean when one is expected
  std::vector<node> items;                            // kind::sequence
  std::vector<member> members;  // kind::mapping, in the file's order
  int line = 0;       // 1-based; 0: made by the loader, not read from the file
  int column = 0;

  bool is_null() const { return type == kind::null; }
  bool is_string() const { return type == kind::string; }
  bool is_sequence() const { return type == kind::sequence; }
  bool is_mapping() const { return type == kind::mapping; }

  // A member of a mapping, or nullptr.
  const node* find(std::string_view key) const;
  node* find(std::string_view key);

  static node string(std::string text, int line = 0, int column = 0);
};

// Declared after node, which it holds: a std::pair would need node complete where node is
// declared.
struct node::member {
  member(std::string key, node value) : first(std::move(key)), second(std::move(value)) {}
  std::string first;
  node second;
};

// What a node is, for messages: "a string", "a list", "a map", "null".
std::string_view describe(const node& n);

// "SOURCE:LINE:COLUMN: PATH: " (without the line when N was made by the loader, without the path
// when it is empty): where a message about N points.
std::string location(std::string_view source, const node& n, const std::string& path);

// Reads a template. Errors name the file, the line and the column.
result<node> load_template_file(const std::filesystem::path& file);
// The same for text; source_name stands for the file in messages.
result<node> load_template_text(std::string_view text, std::string_view source_name);

}  // namespace apigw::templates
