// A child process (posix_spawn) with its stdout and stderr on pipes, read with timeouts: for
// tests of the apigw-ws-emulator executable.
// Thread-safety: one instance per thread. The destructor kills (SIGKILL) and reaps a live child.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace apigw::test_support {

class child_process {
 public:
  // Starts PROGRAM with ARGS (not including argv[0]). Throws std::runtime_error on failure.
  child_process(const std::string& program, const std::vector<std::string>& args);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line of stdout including its '\n'; what arrived so far when the timeout passes or
  // the stream ends first (so a missing newline is visible).
  std::string read_stdout_line(std::chrono::milliseconds timeout);

  // Everything written to stdout / stderr until the stream ends or TIMEOUT passes.
  std::string read_stdout_all(std::chrono::milliseconds timeout);
  std::string read_stderr_all(std::chrono::milliseconds timeout);

  bool signal(int signo);

  // The exit status once the child exits normally within TIMEOUT: its exit code, or
  // 128 + the signal that ended it; nullopt when still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }

 private:
  static std::string read_all(int& fd, std::string& pending, std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_pending_;
  std::string err_pending_;
  std::optional<int> status_;
};

}  // namespace apigw::test_support
