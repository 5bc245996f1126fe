#include "tests/support/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

extern char** environ;

namespace apigw::test_support {
namespace {

using clock = std::chrono::steady_clock;

int millis_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Reads what is available on FD into OUT, waiting until DEADLINE. False at end of stream.
bool read_some(int& fd, std::string& out, clock::time_point deadline) {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, millis_until(deadline));
  if (ready <= 0) return true;  // timeout (or EINTR): the stream is still open
  char chunk[4096];
  const ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n > 0) {
    out.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && errno == EINTR) return true;
  ::close(fd);
  fd = -1;
  return false;
}

}  // namespace

child_process::child_process(const std::string& program, const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  out_ = out[0];
  err_ = err[0];
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("posix_spawn " + program + " failed: " + std::to_string(rc));
  }
}

child_process::~child_process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_ >= 0) ::close(out_);
  if (err_ >= 0) ::close(err_);
}

std::string child_process::read_stdout_line(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const auto nl = out_pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = out_pending_.substr(0, nl + 1);
      out_pending_.erase(0, nl + 1);
      return line;
    }
    if (clock::now() >= deadline || !read_some(out_, out_pending_, deadline)) {
      std::string partial = std::move(out_pending_);
      out_pending_.clear();
      return partial;
    }
  }
}

std::string child_process::read_all(int& fd, std::string& pending, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline && read_some(fd, pending, deadline)) {
  }
  std::string all = std::move(pending);
  pending.clear();
  return all;
}

std::string child_process::read_stdout_all(std::chrono::milliseconds timeout) {
  return read_all(out_, out_pending_, timeout);
}

std::string child_process::read_stderr_all(std::chrono::milliseconds timeout) {
  return read_all(err_, err_pending_, timeout);
}

bool child_process::signal(int signo) { return pid_ > 0 && !status_ && ::kill(pid_, signo) == 0; }

std::optional<int> child_process::wait(std::chrono::milliseconds timeout) {
  if (status_ || pid_ <= 0) return status_;
  const auto deadline = clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return status_;
    }
    if (clock::now() >= deadline) return std::nullopt;
    // Polling a child's exit: there is no portable waitable handle for it before pidfd.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace apigw::test_support
