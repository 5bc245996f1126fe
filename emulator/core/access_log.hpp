// API Gateway's access logs: a stage's accessLogFormat with $context variables, parsed once,
// rendered for every event.
// Thread-safety: immutable after parse(); render() is const.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "emulator/core/trace_record.hpp"

namespace apigw::emulator {

class access_log_format {
 public:
  // The error names the variable and lists the supported ones.
  static result<access_log_format> parse(std::string_view format);

  struct api_context {
    std::string api_id;
    std::string stage;
  };
  // One line, without the newline; a variable without a value is "-", as AWS writes it.
  std::string render(const trace_record& r, const api_context& api) const;

  static const std::vector<std::string_view>& variables();

 private:
  struct part {
    bool is_variable = false;
    std::string text;  // literal text, or the variable's name without "$context."
  };
  std::vector<part> parts_;
};

}  // namespace apigw::emulator
