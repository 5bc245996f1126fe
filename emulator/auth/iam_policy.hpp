// An IAM policy document ({"Version", "Statement": [{"Effect", "Action", "Resource"}]}) as the
// emulator checks a handler's calls against it: `*` and `?` wildcards, actions compared without
// case, an explicit Deny wins, and what no statement allows is denied.
// Thread-safety: immutable after parse(); allows() is const and safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"

namespace apigw::emulator {

class iam_policy {
 public:
  // The error names the JSON path below the document ("Statement[1].Effect: …").
  static result<iam_policy> parse(const rapidjson::Value& document);

  enum class decision { allow, explicit_deny, implicit_deny };
  decision evaluate(std::string_view action, std::string_view resource) const;
  bool allows(std::string_view action, std::string_view resource) const {
    return evaluate(action, resource) == decision::allow;
  }
  // The decision on ACTION for every resource that is PREFIX and one or more characters more (an
  // @connections ARN before its connection id), when it is the same for all of them; nullopt
  // when a statement takes some of them and not others. A statement takes all of them when one
  // of its resource patterns is a start of PREFIX and one `*` ("…/@connections/*", "…/*", "*"),
  // and none when each pattern's literal head parts from PREFIX (or is all of a shorter pattern);
  // other patterns are not reasoned about.
  std::optional<decision> decision_for_every(std::string_view action, std::string_view prefix) const;

  // IAM's wildcard match: `*` any run of characters, `?` any one character.
  static bool matches(std::string_view pattern, std::string_view text, bool ignore_case);

 private:
  // A pattern and the length of its literal head, the run before its first wildcard (all of it
  // when it has none; an ARN up to its "/*" most often): compared as a block, without
  // backtracking, and found once, when the policy is read.
  struct pattern {
    std::string text;
    std::size_t head = 0;
  };
  struct statement {
    bool allow = false;
    std::vector<pattern> actions;
    std::vector<pattern> resources;

    // One of its actions matches ACTION (without case).
    bool takes_action(std::string_view action) const;
  };
  static std::size_t head_of(std::string_view pattern);
  static bool matches(std::string_view pattern, std::size_t head, std::string_view text, bool ignore_case);
  std::vector<statement> statements_;
};

}  // namespace apigw::emulator
