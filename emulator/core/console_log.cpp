#include "emulator/core/console_log.hpp"

#include <chrono>
#include <string>

#include "emulator/core/identifiers.hpp"
#include "emulator/core/redaction.hpp"

namespace apigw::emulator {

void console_log::write(std::string_view function, std::string_view request_id, std::string_view level,
                        std::string_view message) {
  std::string line;
  line.reserve(64 + function.size() + message.size());
  line += '[';
  line += function;
  line += "] ";
  if (level.empty()) {
    line += message;  // START / END / REPORT carry their own request id
  } else {
    line += iso8601_millis(std::chrono::system_clock::now());
    line += '\t';
    line += request_id;
    line += '\t';
    line += level;
    line += '\t';
    // A function that logs its event would print the handshake's Authorization or x-api-key.
    if (may_hold_secret(message)) {
      line += redact_secrets(message);
    } else {
      line += message;
    }
  }
  line += '\n';
  out_.append(line);
}

}  // namespace apigw::emulator
