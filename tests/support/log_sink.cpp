#include "tests/support/log_sink.hpp"

#include <sstream>

namespace apigw::test_support {

std::ostream& operator<<(std::ostream& os, const log_line& l) {
  return os << "[" << l.function << "] " << l.request_id << " " << (l.level.empty() ? "-" : l.level)
            << " " << l.message;
}

void log_sink::write(std::string_view function, std::string_view request_id, std::string_view level,
                     std::string_view message) {
  {
    std::lock_guard lock(mutex_);
    lines_.push_back({std::string(function), std::string(request_id), std::string(level), std::string(message)});
  }
  changed_.notify_all();
}

std::vector<log_line> log_sink::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::vector<log_line> log_sink::find_locked(std::string_view function, std::string_view level,
                                            std::string_view text) const {
  std::vector<log_line> out;
  for (const auto& l : lines_) {
    if (!function.empty() && l.function != function) continue;
    if (!level.empty() && l.level != level) continue;
    if (l.message.find(text) == std::string::npos) continue;
    out.push_back(l);
  }
  return out;
}

std::vector<log_line> log_sink::find(std::string_view function, std::string_view level,
                                     std::string_view text) const {
  std::lock_guard lock(mutex_);
  return find_locked(function, level, text);
}

bool log_sink::wait_for(std::size_t count, std::chrono::milliseconds timeout, std::string_view function,
                        std::string_view level, std::string_view text) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return find_locked(function, level, text).size() >= count; });
}

std::string log_sink::dump() const {
  std::ostringstream os;
  for (const auto& l : lines()) os << l << "\n";
  return os.str();
}

}  // namespace apigw::test_support
