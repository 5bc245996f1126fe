// A route selection expression ("$request.body.action", "${request.body.a}/${request.body.b}",
// "static", "\$default"), parsed once at start-up and evaluated against each message.
// Thread-safety: immutable after parse(); evaluate() is const and safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "common/result.hpp"

namespace apigw::routes {

class selection_expression {
 public:
  // One step of a body path: an object member name or an array index.
  struct step {
    bool is_index = false;
    std::string name;
    std::size_t index = 0;
  };

  // The expression is a sequence of literal text and body paths.
  struct part {
    bool is_path = false;
    std::string literal;       // for literal parts (escapes already resolved)
    std::vector<step> path;    // for path parts; empty path = the whole body
    std::string source;        // the part as written, e.g. "${request.body.action}"
  };

  // The error reads "at position N: WHAT": N is the 0-based byte offset into TEXT, WHAT says
  // what was wrong there and what is allowed.
  static result<selection_expression> parse(std::string_view text);

  // REQUIRES: body is the parsed message, or nullptr when the message is empty or not JSON.
  // A path that is not found, or any path when body is nullptr, contributes "".
  std::string evaluate(const rapidjson::Value* body) const;

  // The value one path part finds: its string form, or found=false.
  struct lookup {
    bool found = false;
    std::string value;
  };
  static lookup find(const part& p, const rapidjson::Value* body);

  // The JSON value a body path points at, or nullptr when it is not there. Returns nullptr for
  // every path when body is nullptr or not an object (the top level must be an object).
  static const rapidjson::Value* resolve(const std::vector<step>& path,
                                         const rapidjson::Value* body);

  // Appends the string form of a selected value: a string's text, a number's or boolean's JSON
  // text, an object's or array's compact JSON text, nothing for null.
  static void append_value(std::string& out, const rapidjson::Value& value);

  // False when no part reads the body: the message need not be parsed.
  bool needs_body() const { return needs_body_; }
  const std::string& text() const { return text_; }
  const std::vector<part>& parts() const { return parts_; }

 private:
  std::string text_;
  std::vector<part> parts_;
  bool needs_body_ = false;
  // Sizes the result up front so evaluate() allocates once in the common case.
  std::size_t literal_bytes_ = 0;
  std::size_t path_count_ = 0;
};

}  // namespace apigw::routes
