// libFuzzer target: route selection expressions, parsed and evaluated against a message.
// Input: the expression, a newline, then the message (parsed as the gateway parses messages).
// Checks beyond "no crash": an accepted expression re-parses from its text to the same parts;
// evaluate() is the concatenation of what find() gives for each part; the route table's
// selection (which reads the message along a path of member names without a document) is what
// evaluate() gives on the parsed message; an error reads "at position N: WHAT" with N within the
// expression and WHAT not empty.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "routes/route_table.hpp"
#include "routes/selection_expression.hpp"

namespace {

using apigw::routes::selection_expression;

[[noreturn]] void fail(const char* what, std::string_view expression) {
  std::fprintf(stderr, "selection_expression fuzz: %s; expression: \"%.*s\"\n", what,
               static_cast<int>(expression.size()), expression.data());
  std::abort();
}

bool same_parts(const selection_expression& a, const selection_expression& b) {
  if (a.parts().size() != b.parts().size()) return false;
  for (std::size_t i = 0; i < a.parts().size(); ++i) {
    const auto& x = a.parts()[i];
    const auto& y = b.parts()[i];
    if (x.is_path != y.is_path || x.literal != y.literal || x.source != y.source ||
        x.path.size() != y.path.size()) {
      return false;
    }
    for (std::size_t j = 0; j < x.path.size(); ++j) {
      if (x.path[j].is_index != y.path[j].is_index || x.path[j].name != y.path[j].name ||
          x.path[j].index != y.path[j].index) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view text = input.substr(0, newline);
  const std::string_view message =
      newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  auto parsed = selection_expression::parse(text);
  if (!parsed) {
    constexpr std::string_view at = "at position ";
    const std::string& error = parsed.error();
    if (!error.starts_with(at)) fail("an error that does not start with \"at position \"", text);
    std::size_t position = 0;
    const auto [end, ec] = std::from_chars(error.data() + at.size(), error.data() + error.size(), position);
    if (ec != std::errc() || !std::string_view(end, error.data() + error.size()).starts_with(": ")) {
      fail("an error position that is not a number and \": \"", text);
    }
    if (position > text.size()) fail("the error position lies past the expression", text);
    if (end + 2 == error.data() + error.size()) fail("an error without a message", text);
    return 0;
  }
  const auto& expression = *parsed;
  if (expression.text() != text) fail("text() differs from the parsed text", text);
  auto again = selection_expression::parse(expression.text());
  if (!again || !same_parts(expression, *again)) {
    fail("the expression does not re-parse to the same parts", text);
  }

  // The message as the gateway reads it: JSON parsed in place in a copy (a document read by
  // length from memory would skip stray byte-order-mark bytes), nullptr when it is not JSON.
  std::string copy(message);
  rapidjson::Document body;
  body.ParseInsitu(copy.data());
  const rapidjson::Value* value = message.empty() || body.HasParseError() ? nullptr : &body;

  const std::string result = expression.evaluate(value);
  std::string joined;
  for (const auto& part : expression.parts()) {
    const auto found = selection_expression::find(part, value);
    if (!part.is_path && !found.found) fail("a literal part was not found", text);
    joined += found.value;
  }
  if (joined != result) fail("evaluate() differs from the parts' values joined", text);
  // The gateway takes a message with a NUL byte for one that is not JSON; a document parsed in
  // place stops at the NUL and may accept what comes before it.
  if (message.find('\0') == std::string_view::npos) {
    const apigw::routes::route_table table{selection_expression(expression)};
    const auto chosen = table.resolve(message);
    if (chosen.json != (value != nullptr)) fail("the route table and the document disagree on JSON", text);
    if (chosen.json && chosen.key != result) fail("the route table's key differs from evaluate()", text);
  }
  if (!expression.needs_body() && value == nullptr && result != expression.evaluate(&body)) {
    fail("an expression that reads no body depends on the body", text);
  }
  return 0;
}
