// Starting and stopping a function's process. Each one leads its own process group, so that
// what it forks is stopped with it, and gets SIGKILL when the emulator dies (PR_SET_PDEATHSIG),
// so that no function process outlives the emulator. Its standard output and error are pipes
// the emulator reads; its exit is seen through a pidfd.
// Thread-safety: a child_process is owned by one thread at a time; kill() is safe from any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.hpp"

namespace apigw::emulator::functions {

struct spawn_options {
  std::string program;              // an absolute path, or a name looked up on PATH
  std::vector<std::string> args;    // argv[1...]
  std::vector<std::string> env;     // "NAME=VALUE", the whole environment
  std::string cwd;
};

class child_process {
 public:
  child_process() = default;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  ~child_process();  // closes the descriptors; does not kill or reap (see kill(), reap())

  // Starts OPTIONS.program. The error says what could not be started and why.
  // REQUIRES: the calling thread lives as long as the process should: the kernel sends the
  // process SIGKILL when the thread that started it ends, not only when the emulator does.
  static result<child_process> start(const spawn_options& options);

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_; }  // non-blocking
  int stderr_fd() const { return err_; }  // non-blocking
  int exit_fd() const { return pidfd_; }  // readable once the process has exited

  // SIGKILL to the process group (the process and whatever it forked).
  void kill() const;
  // Waits for the exited process and describes how it ended: "exit status 1", "signal: killed".
  // REQUIRES: exit_fd() was readable.
  std::string reap();

 private:
  void close_all();
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  int pidfd_ = -1;
};

}  // namespace apigw::emulator::functions
