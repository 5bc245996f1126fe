#include "emulator/console_log.hpp"

#include <chrono>
#include <string>

#include "emulator/identifiers.hpp"

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
    line += message;
  }
  line += '\n';
  out_.append(line);
}

}  // namespace apigw::emulator
