// For the route tests: an expression that must parse.
#pragma once

#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "routes/selection_expression.hpp"

namespace apigw::routes::test_support {

// TEXT parsed; a test failure (and an empty expression) when it does not parse.
inline selection_expression parse_ok(std::string_view text) {
  auto result = selection_expression::parse(text);
  if (!result) {
    ADD_FAILURE() << "parse(\"" << text << "\") failed " << result.error();
    return selection_expression{};
  }
  return *std::move(result);
}

}  // namespace apigw::routes::test_support
