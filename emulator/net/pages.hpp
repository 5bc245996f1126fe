// The emulator's own web pages, built into the binary (web/): the lab's chat page at "/" and
// the dashboard at "/@emulator/".
// Thread-safety: immutable text.
#pragma once

#include <string_view>

namespace apigw::emulator {

// web/index.html
std::string_view chat_page_html();

// web/dashboard.html
std::string_view dashboard_html();

}  // namespace apigw::emulator
