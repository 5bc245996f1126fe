#include "emulator/functions/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace apigw::emulator::functions {
namespace {

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_(std::exchange(other.out_, -1)),
      err_(std::exchange(other.err_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    close_all();
    pid_ = std::exchange(other.pid_, -1);
    out_ = std::exchange(other.out_, -1);
    err_ = std::exchange(other.err_, -1);
    pidfd_ = std::exchange(other.pidfd_, -1);
  }
  return *this;
}

child_process::~child_process() { close_all(); }

void child_process::close_all() {
  for (int* fd : {&out_, &err_, &pidfd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

result<child_process> child_process::start(const spawn_options& options) {
  // Everything the child needs is prepared before fork(): between fork() and exec() a child of a
  // multi-threaded program may only make async-signal-safe calls.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(options.program.c_str()));
  for (const auto& a : options.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : options.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return fail(errno_text("pipe"));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const std::string why = errno_text("pipe");
    ::close(out[0]);
    ::close(out[1]);
    return fail(why);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = errno_text("fork");
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return fail(why);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the emulator died before the line above
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    // The emulator's other descriptors (sockets, the store) stay out of the function.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    if (options.program.find('/') != std::string::npos) {
      ::execve(argv[0], argv.data(), envp.data());
    } else {
      ::execvpe(argv[0], argv.data(), envp.data());
    }
    ::_exit(errno == ENOENT ? 127 : 126);  // as a shell reports a command it cannot run
  }
  ::close(out[1]);
  ::close(err[1]);
  ::setpgid(pid, pid);  // also from here, so that kill() reaches the group whichever runs first
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, ::fcntl(err[0], F_GETFL) | O_NONBLOCK);
  child_process c;
  c.pid_ = pid;
  c.out_ = out[0];
  c.err_ = err[0];
  c.pidfd_ = open_pidfd(pid);
  if (c.pidfd_ < 0) {
    const std::string why = errno_text("pidfd_open");
    c.kill();
    ::waitpid(pid, nullptr, 0);
    return fail(why);
  }
  return c;
}

void child_process::kill() const {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);  // in case it had not yet made its own group
}

std::string child_process::reap() {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return "exited";
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    switch (sig) {
      case SIGKILL: return "signal: killed";
      case SIGSEGV: return "signal: segmentation fault";
      case SIGABRT: return "signal: aborted";
      case SIGTERM: return "signal: terminated";
      default: return "signal: " + std::string(::strsignal(sig));
    }
  }
  return "exited";
}

}  // namespace apigw::emulator::functions
