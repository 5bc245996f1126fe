#include "emulator/functions/code_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace apigw::emulator::functions {
namespace {

constexpr std::uint32_t kEvents = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_MOVED_FROM | IN_MOVED_TO;

}  // namespace

code_watch::code_watch(std::string folder) : folder_(std::move(folder)) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ >= 0) watch_tree(folder_);
}

code_watch::~code_watch() {
  if (fd_ >= 0) ::close(fd_);
}

bool code_watch::skipped(std::string_view name) {
  return name == "node_modules" || name == "__pycache__" || name == ".git";
}

void code_watch::watch_tree(const std::string& folder) {
  namespace fs = std::filesystem;
  complete_ = ::inotify_add_watch(fd_, folder.c_str(), kEvents) >= 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
  for (; complete_ && !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (skipped(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    // Adding a watch to a folder already watched keeps the one it has.
    complete_ = ::inotify_add_watch(fd_, it->path().c_str(), kEvents) >= 0;
  }
  if (ec) complete_ = false;
}

bool code_watch::maybe_changed() {
  if (fd_ < 0) return true;
  bool changed = !complete_;
  bool new_folder = false;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing (more) queued
    for (ssize_t at = 0; at < n;) {
      inotify_event event;
      std::memcpy(&event, buf + at, sizeof event);
      const char* name = buf + at + sizeof(inotify_event);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      if ((event.mask & IN_Q_OVERFLOW) != 0) {
        changed = new_folder = true;
        continue;
      }
      if (event.len > 0 && skipped(std::string_view(name))) continue;
      changed = true;
      if ((event.mask & IN_ISDIR) != 0 && (event.mask & (IN_CREATE | IN_MOVED_TO)) != 0) new_folder = true;
    }
  }
  if (new_folder || !complete_) watch_tree(folder_);
  return changed;
}

}  // namespace apigw::emulator::functions
