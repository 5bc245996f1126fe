// Tells a function's pool that its code folder may have changed since it last asked, without
// walking the folder: an inotify watch on the folder and each of its subfolders (except those a
// learner does not edit: dependencies, caches). The kernel queues a change's event before the
// write that made it returns, so a change saved before an invocation starts is always seen by
// that invocation. Where inotify cannot watch the whole tree (no more watches allowed), every
// question answers "maybe", and the pool walks the folder as it would without a watch.
// Thread-safety: one caller at a time (the pool asks under its mutex).
#pragma once

#include <string>
#include <string_view>

namespace apigw::emulator::functions {

class code_watch {
 public:
  explicit code_watch(std::string folder);
  ~code_watch();
  code_watch(const code_watch&) = delete;
  code_watch& operator=(const code_watch&) = delete;

  // True when something under the folder may have changed since the last call (always true
  // when the folder is not fully watched). Reads the queued events; does not wait.
  bool maybe_changed();

  // Whether a folder of this name is left out of the code's picture (node_modules, __pycache__, .git).
  static bool skipped(std::string_view name);

 private:
  void watch_tree(const std::string& folder);

  const std::string folder_;
  int fd_ = -1;
  bool complete_ = false;  // every folder of the tree has a watch
};

}  // namespace apigw::emulator::functions
