// CloudFormation's intrinsic functions over a template's nodes: Ref, Fn::GetAtt, Fn::Sub, Fn::Join,
// Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition, Fn::FindInMap,
// Fn::Base64, Fn::GetAZs. What a Ref or GetAtt of a resource gives, and the value of a named
// condition, come from the caller (the template loader), which knows the resources.
// Thread-safety: an evaluator is used by one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "templates/template_node.hpp"

namespace apigw::templates {

// The value of `!Ref AWS::NoValue`: the map member or list item that holds it is left out.
bool is_no_value(const node& n);

class evaluator {
 public:
  struct hooks {
    // Whether the template has a resource of that logical id (Ref and GetAtt then ask below).
    std::function<bool(std::string_view logical_id)> has_resource;
    std::function<result<node>(std::string_view logical_id, const node& at, const std::string& path)> ref;
    std::function<result<node>(std::string_view logical_id, std::string_view attribute, const node& at,
                               const std::string& path)>
        get_att;
    std::function<result<bool>(std::string_view condition, const node& at, const std::string& path)> condition;
    // For messages: the names a Ref may use.
    std::function<std::string()> known_names;
  };

  // parameters: the template's parameters and the pseudo parameters, by name, resolved.
  evaluator(std::string source, std::map<std::string, node, std::less<>> parameters, const node* mappings,
            std::string region, hooks h);

  // N with every intrinsic function replaced by its value. PATH ("Resources.X.Properties.Y")
  // names N in messages.
  result<node> resolve(const node& n, const std::string& path);

  // A condition: Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition NAME, or "true"/"false".
  result<bool> truth(const node& n, const std::string& path);

  // "FILE:LINE:COLUMN: PATH: " for a message about N.
  std::string where(const node& n, const std::string& path) const;

 private:
  result<node> call(std::string_view function, const node& argument, const node& at, const std::string& path);
  result<node> ref(const node& argument, const node& at, const std::string& path);
  result<node> get_att(const node& argument, const node& at, const std::string& path);
  result<node> sub(const node& argument, const node& at, const std::string& path);
  result<node> join(const node& argument, const node& at, const std::string& path);
  result<node> select(const node& argument, const node& at, const std::string& path);
  result<node> split(const node& argument, const node& at, const std::string& path);
  result<node> find_in_map(const node& argument, const node& at, const std::string& path);
  // N resolved, which must be a string.
  result<node> resolve_string(const node& n, const std::string& path, std::string_view what);

  std::string source_;
  std::map<std::string, node, std::less<>> parameters_;
  const node* mappings_;
  std::string region_;
  hooks hooks_;
};

// Whether a one-member map is an intrinsic function call ("Ref" or "Fn::…"; "Condition" is one
// only inside a condition).
bool is_intrinsic(const node& n);

}  // namespace apigw::templates
