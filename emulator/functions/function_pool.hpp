// One Lambda function's processes, run as Lambda runs them: a process serves one invocation at a
// time and stays warm for the next; concurrent invocations start more processes, up to the
// function's reserved concurrency, and beyond it wait their turn in order. The timeout is
// enforced here (the process is killed and replaced); a process that crashes fails only the
// invocation it was running. When the code on disk changes, warm processes are replaced before
// the next invocation. The function's log stream gets every line the process writes and
// Lambda's START, END and REPORT lines.
// Thread-safety: start() and invoke() may be called from several threads at once; an
// invocation's callback runs on whichever thread ended it (the network thread that received the
// answer, the process's reader, the pool's thread), never with the pool's mutex held. The
// Runtime API's calls come from the network's threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "apigw/handler.hpp"
#include "emulator/functions/child_process.hpp"
#include "emulator/functions/code_watch.hpp"
#include "emulator/functions/runtime_api.hpp"

namespace apigw::emulator::functions {

// How to run one function: everything fixed at start-up.
struct function_definition {
  std::string name;            // the integration's name: the function name in logs
  std::string arn;             // arn:aws:lambda:REGION:ACCOUNT:function:NAME
  std::chrono::microseconds timeout{std::chrono::seconds(3)};
  unsigned memory_mb = 128;
  unsigned max_processes = 10;  // reserved concurrency
  std::string code_dir;         // watched for changes
  spawn_options process;        // without AWS_LAMBDA_RUNTIME_API and the log stream's name
};

// How an invocation ended.
struct invocation_result {
  enum class kind { ok, error, timeout };
  kind how = kind::error;
  std::string request_id;  // Lambda's, a UUID
  std::string payload;     // ok: the result's JSON; error: the error's JSON, as the runtime posted it
  std::string error_type;  // error: "Runtime.ImportModuleError", "Runtime.ExitError", "Error", ...
  std::string error_message;
  bool cold = false;       // a new process ran it
  double init_ms = 0;      // cold: from the process's start to its first /next
  double duration_ms = 0;  // from delivery to the answer
};

class function_pool : public std::enable_shared_from_this<function_pool> {
 public:
  // LOG receives the function's lines (may be null). OPEN gives each process its Runtime API.
  static std::shared_ptr<function_pool> create(function_definition definition, runtime_api_opener open,
                                               apigw::invocation_log* log);
  ~function_pool();

  using callback = std::function<void(invocation_result)>;

  // Starts one invocation with EVENT (JSON text); DONE gets its result once, when it ends (before
  // start() returns when it cannot run at all). It gets a request id of its own, as on Lambda
  // (result.request_id). The function's END and REPORT lines are written before DONE runs.
  void start(std::string event, callback done);

  // start(), then waits for the result.
  invocation_result invoke(std::string event);

  // Fails the invocations still waiting, stops every process and waits (at most GRACE) for them
  // to exit. After stop(), invoke() fails at once.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));

  const function_definition& definition() const { return def_; }
  // Processes alive now (for the dashboard and tests).
  std::size_t process_count() const;

  class process;

 private:
  struct pending;
  function_pool(function_definition definition, runtime_api_opener open, apigw::invocation_log* log);

  void dispatch_locked();
  void notice_code_change_locked();
  void deliver_locked(const std::shared_ptr<process>& p, const std::shared_ptr<pending>& inv);
  void spawn_locked();
  void enforce_deadlines_locked(std::chrono::steady_clock::time_point now);
  void finish_locked(const std::shared_ptr<pending>& inv);
  void settle();
  void conclude(pending& inv) const;
  void run();
  void kill_locked(process& p, const char* why);
  std::uint64_t code_fingerprint() const;
  std::uint64_t peak_memory_mb(const process& p) const;
  void write(std::string_view request_id, std::string_view line) const;

  // The Runtime API's calls and the reader's report, for one process.
  void on_next(const std::shared_ptr<process>& p, std::function<void(runtime_invocation)> deliver);
  void ready_for_next(const std::shared_ptr<process>& p, std::function<void(runtime_invocation)> deliver);
  runtime_answer on_answer(const std::shared_ptr<process>& p, std::string_view request_id, bool ok,
                           std::string_view error_type, std::string body);
  runtime_answer on_init_error(const std::shared_ptr<process>& p, std::string_view error_type, std::string body);
  void on_exit(const std::shared_ptr<process>& p, const std::string& how);
  void read_output(const std::shared_ptr<process>& p);
  void drain_output(process& p, bool flush);
  void emit_lines(process& p, std::string& partial, bool flush);

  const function_definition def_;
  const runtime_api_opener open_;
  apigw::invocation_log* const log_;

  mutable std::mutex m_;
  std::condition_variable changed_;  // the pool's thread's and stop()'s: spawns, deadlines, processes gone
  bool stopped_ = false;
  std::deque<std::shared_ptr<pending>> queue_;
  std::vector<std::shared_ptr<process>> processes_;
  // Ended invocations whose lines and callbacks are still to run, outside the mutex (settle()).
  std::vector<std::shared_ptr<pending>> finished_;
  code_watch watch_;
  std::uint64_t fingerprint_ = 0;
  unsigned next_process_ = 0;
  std::size_t spawns_wanted_ = 0;  // processes the pool's thread is to start
  // When the pool's thread wakes next for a deadline (max(): none to watch); a nearer new
  // deadline wakes it.
  std::chrono::steady_clock::time_point deadline_wake_ = std::chrono::steady_clock::time_point::max();
  std::thread thread_;
};

}  // namespace apigw::emulator::functions
