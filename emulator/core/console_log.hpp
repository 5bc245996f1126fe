// The functions' log streams, printed like CloudWatch shows a Lambda's: START, the function's own
// lines, errors, END and REPORT with the duration, each prefixed with the function's name. The
// function's own lines have their secrets masked (emulator/redaction.hpp): a function that logs
// its event would otherwise print the handshake's Authorization, x-api-key or signature.
// Thread-safety: write() may be called from any thread; lines never interleave.
#pragma once

#include <ostream>

#include "emulator/core/batched_writer.hpp"
#include "apigw/handler.hpp"

namespace apigw::emulator {

class console_log final : public apigw::invocation_log {
 public:
  explicit console_log(std::ostream& out) : out_(out) {}

  void write(std::string_view function, std::string_view request_id, std::string_view level,
             std::string_view message) override;

  // The stream's writer, for other lines that must keep their order with these (the trace).
  batched_writer& writer() { return out_; }

 private:
  batched_writer out_;
};

}  // namespace apigw::emulator
