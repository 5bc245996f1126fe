#include "templates/template_node.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace apigw::templates {
namespace {

// The short-form tags and the long-form keys they stand for.
constexpr std::array<std::pair<std::string_view, std::string_view>, 17> kShortForms = {{
    {"!Ref", "Ref"},
    {"!Condition", "Condition"},
    {"!GetAtt", "Fn::GetAtt"},
    {"!Sub", "Fn::Sub"},
    {"!Join", "Fn::Join"},
    {"!Select", "Fn::Select"},
    {"!Split", "Fn::Split"},
    {"!If", "Fn::If"},
    {"!Equals", "Fn::Equals"},
    {"!Not", "Fn::Not"},
    {"!And", "Fn::And"},
    {"!Or", "Fn::Or"},
    {"!FindInMap", "Fn::FindInMap"},
    {"!Base64", "Fn::Base64"},
    {"!GetAZs", "Fn::GetAZs"},
    {"!ImportValue", "Fn::ImportValue"},
    {"!Cidr", "Fn::Cidr"},
}};

// "SOURCE:LINE:COLUMN: " for a place yaml-cpp marks (counted from 0), counted from 1 as editors do.
std::string mark_where(std::string_view source, const YAML::Mark& at) {
  return std::string(source) + ":" + std::to_string(at.line + 1) + ":" + std::to_string(at.column + 1) + ": ";
}

std::string known_tags() {
  std::string out;
  for (const auto& [tag, key] : kShortForms) {
    if (!out.empty()) out += ", ";
    out += tag;
  }
  return out;
}

class reader {
 public:
  explicit reader(std::string_view source) : source_(source) {}

  result<node> read(const YAML::Node& in) {
    node out;
    out.line = in.Mark().line + 1;
    out.column = in.Mark().column + 1;
    switch (in.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.type = node::kind::null;
        break;
      case YAML::NodeType::Scalar:
        out.type = node::kind::string;
        out.text = in.Scalar();
        out.plain = in.Tag() == "?";
        break;
      case YAML::NodeType::Sequence:
        out.type = node::kind::sequence;
        for (const YAML::Node& item : in) {
          auto read_item = read(item);
          if (!read_item) return read_item;
          out.items.push_back(std::move(*read_item));
        }
        break;
      case YAML::NodeType::Map: {
        out.type = node::kind::mapping;
        std::set<std::string, std::less<>> seen;
        for (const auto& member : in) {
          const YAML::Mark at = member.first.Mark();
          if (!member.first.IsScalar()) {
            return fail(where(at) + "a key must be a plain string");
          }
          const std::string key = member.first.Scalar();
          if (!seen.insert(key).second) {
            return fail(where(at) + "duplicate key \"" + key + "\": a key may appear once in a map");
          }
          auto value = read(member.second);
          if (!value) return value;
          out.members.emplace_back(key, std::move(*value));
        }
        break;
      }
    }
    return expand_short_form(in.Tag(), std::move(out));
  }

 private:
  std::string where(const YAML::Mark& at) const { return mark_where(source_, at); }

  // "!Ref X" → {"Ref": "X"}; "!GetAtt A.B" → {"Fn::GetAtt": ["A", "B"]}.
  result<node> expand_short_form(const std::string& tag, node value) {
    if (tag.empty() || tag == "?" || tag == "!" || tag.starts_with("tag:yaml.org,2002:")) return value;
    for (const auto& [short_form, key] : kShortForms) {
      if (tag != short_form) continue;
      node wrapper;
      wrapper.type = node::kind::mapping;
      wrapper.line = value.line;
      wrapper.column = value.column;
      if (key == "Fn::GetAtt" && value.is_string()) {
        // The attribute may itself hold dots ("Endpoint.Address"): split at the first.
        const std::size_t dot = value.text.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == value.text.size()) {
          return fail(std::string(source_) + ":" + std::to_string(value.line) + ":" + std::to_string(value.column) +
                      ": !GetAtt " + value.text + ": write !GetAtt LogicalId.Attribute, e.g. !GetAtt MyFunction.Arn");
        }
        node list;
        list.type = node::kind::sequence;
        list.line = value.line;
        list.column = value.column;
        list.items.push_back(node::string(value.text.substr(0, dot), value.line, value.column));
        list.items.push_back(node::string(value.text.substr(dot + 1), value.line, value.column));
        value = std::move(list);
      }
      wrapper.members.emplace_back(std::string(key), std::move(value));
      return wrapper;
    }
    return fail(std::string(source_) + ":" + std::to_string(value.line) + ":" + std::to_string(value.column) +
                ": unknown tag " + tag + "; the short forms are " + known_tags());
  }

  std::string_view source_;
};

// The line of a second YAML document ("---" after content), or 0. A template is one document;
// comments and directives ("%YAML 1.2") come before its "---".
int second_document_line(std::string_view text) {
  bool content = false;
  int line = 1;
  for (std::size_t start = 0; start < text.size(); ++line) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view l = text.substr(start, end - start);
    const bool marker = l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker && content) return line;
    const std::size_t first = l.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && l[first] != '#' && !l.starts_with('%')) content = true;
    start = end + 1;
  }
  return 0;
}

// Where the first YAML alias (*name) is, if any. CloudFormation refuses aliases; here they would
// also let a few bytes stand for a tree without end (an alias inside its own anchor) or of
// billions of nodes. Found on the parser's events, before any tree is built.
class alias_finder : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> alias;

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (!alias) alias = mark;
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::string yaml_error(std::string_view source_name, const YAML::Exception& e) {
  return mark_where(source_name, e.mark) + e.msg + " (the template is neither valid YAML nor JSON)";
}

result<node> load(std::string_view text, std::string_view source_name) {
  if (const int line = second_document_line(text)) {
    return fail(std::string(source_name) + ":" + std::to_string(line) +
                ": a second YAML document (---): a template is one document");
  }
  // One document's events, then YAML::Load (not LoadAll: yaml-cpp 0.7's LoadAll can loop forever
  // on some malformed input).
  YAML::Node document;
  try {
    std::stringstream in{std::string(text)};
    YAML::Parser parser(in);
    alias_finder aliases;
    parser.HandleNextDocument(aliases);
    if (aliases.alias) {
      return fail(mark_where(source_name, *aliases.alias) +
                  "YAML aliases are not allowed in CloudFormation templates: write the value out");
    }
    document = YAML::Load(std::string(text));
  } catch (const YAML::DeepRecursion& e) {
    return fail(mark_where(source_name, e.mark) + "the template nests more deeply than its reader allows");
  } catch (const YAML::Exception& e) {
    return fail(yaml_error(source_name, e));
  }
  if (!document.IsMap()) {
    return fail(std::string(source_name) +
                ": a template is a map with a Resources section (AWSTemplateFormatVersion, Transform, Parameters, "
                "Conditions, Mappings, Globals, Resources, Outputs)");
  }
  try {
    return reader(source_name).read(document);
  } catch (const YAML::Exception& e) {
    return fail(yaml_error(source_name, e));
  }
}

}  // namespace

const node* node::find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

node* node::find(std::string_view key) {
  for (auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

node node::string(std::string text, int line, int column) {
  node n;
  n.type = kind::string;
  n.text = std::move(text);
  n.line = line;
  n.column = column;
  return n;
}

std::string location(std::string_view source, const node& n, const std::string& path) {
  std::string out(source);
  if (n.line > 0) out += ":" + std::to_string(n.line) + ":" + std::to_string(n.column);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  return out;
}

std::string_view describe(const node& n) {
  switch (n.type) {
    case node::kind::null: return "null";
    case node::kind::string: return "a string";
    case node::kind::sequence: return "a list";
    case node::kind::mapping: return "a map";
  }
  return "?";
}

result<node> load_template_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(file.string() + ": cannot read the template (no such file, or not readable)");
  std::stringstream text;
  text << in.rdbuf();
  return load(text.str(), file.string());
}

result<node> load_template_text(std::string_view text, std::string_view source_name) {
  return load(text, source_name);
}

}  // namespace apigw::templates
