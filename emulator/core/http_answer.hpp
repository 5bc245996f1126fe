// An HTTP answer computed without I/O (by the management API, the admin endpoints, the pages);
// the HTTP session writes it.
// Thread-safety: a plain value.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace apigw::emulator {

struct http_answer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

}  // namespace apigw::emulator
