#include "emulator/functions/function_pool.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <future>
#include <random>
#include <thread>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::emulator::functions {
namespace {

using clock = std::chrono::steady_clock;

// Lambda's limit on how long a function's initialization may take.
constexpr auto kInitLimit = std::chrono::seconds(10);
// CloudWatch's limit on one log event: a longer line is cut into pieces of this size.
constexpr std::size_t kMaxLineBytes = 262144;

double millis(clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// "2026/12/05/[$LATEST]" followed by 32 hex digits, as Lambda names a process's log stream.
std::string log_stream_name() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &tm);
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(date) + "/[$LATEST]" + hex;
}

std::string epoch_iso_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

// Lambda's own request id for an invocation (context.awsRequestId): a random UUID, distinct from
// API Gateway's requestId in the event.
std::string lambda_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng();
  const std::uint64_t b = rng();
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

// Lambda's X-Ray trace header for an invocation that is not sampled.
std::string trace_header() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[96];
  std::snprintf(buf, sizeof buf, "Root=1-%08llx-%08llx%016llx;Parent=%016llx;Sampled=0",
                static_cast<unsigned long long>(std::time(nullptr)) & 0xffffffffULL,
                static_cast<unsigned long long>(rng()) & 0xffffffffULL, static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

// The errorMessage and errorType a runtime posted; the body itself when it is not that shape.
void read_error_body(const std::string& body, std::string& type, std::string& message) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (!d.HasParseError() && d.IsObject()) {
    auto m = d.FindMember("errorMessage");
    if (m != d.MemberEnd() && m->value.IsString()) message = m->value.GetString();
    auto t = d.FindMember("errorType");
    if (type.empty() && t != d.MemberEnd() && t->value.IsString()) type = t->value.GetString();
  } else if (message.empty()) {
    message = body;
  }
  if (type.empty()) type = "Unhandled";
}

// The error JSON Lambda returns to a caller for an error the platform itself raised.
std::string platform_error_json(std::string_view type, std::string_view message) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("errorType");
  w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
  w.Key("errorMessage");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

}  // namespace

// One invocation, from its arrival to its end.
struct function_pool::pending {
  std::string request_id;
  std::string event;
  callback then;
  bool delivered = false;
  bool done = false;
  bool init_failed = false;  // the process started for it failed to initialize
  clock::time_point delivered_at;
  clock::time_point deadline;
  std::shared_ptr<process> by;
  invocation_result result;
};

// One process of the function; its state is guarded by the pool's mutex, its output by its own.
class function_pool::process final : public runtime_api_backend {
 public:
  enum class state { starting, waiting, busy, answered, killed };

  process(std::weak_ptr<function_pool> pool, unsigned number) : pool_(std::move(pool)), number_(number) {}
  ~process() override {
    if (status_fd >= 0) ::close(status_fd);
  }

  void next(std::function<void(runtime_invocation)> deliver) override {
    if (auto p = pool_.lock()) p->on_next(self(), std::move(deliver));
  }
  runtime_answer response(std::string_view request_id, std::string body) override {
    if (auto p = pool_.lock()) return p->on_answer(self(), request_id, true, {}, std::move(body));
    return {403, "InvalidStateTransition", "the function is stopped"};
  }
  runtime_answer error(std::string_view request_id, std::string_view error_type, std::string body) override {
    if (auto p = pool_.lock()) return p->on_answer(self(), request_id, false, error_type, std::move(body));
    return {403, "InvalidStateTransition", "the function is stopped"};
  }
  runtime_answer init_error(std::string_view error_type, std::string body) override {
    if (auto p = pool_.lock()) return p->on_init_error(self(), error_type, std::move(body));
    return {403, "InvalidStateTransition", "the function is stopped"};
  }

  std::shared_ptr<process> self() { return std::static_pointer_cast<process>(me_.lock()); }

  std::weak_ptr<function_pool> pool_;
  std::weak_ptr<runtime_api_backend> me_;
  const unsigned number_;
  // Guarded by the pool's mutex.
  state state_ = state::starting;
  bool stale = false;
  const char* kill_reason = "";  // why the emulator killed it: "timeout", "code changed", ...
  std::uint64_t fingerprint = 0;
  unsigned invocations = 0;
  clock::time_point started;
  double init_ms = 0;
  std::function<void(runtime_invocation)> deliver;
  std::shared_ptr<pending> current;
  std::string init_error_type;
  std::string init_error_message;
  std::string init_error_body;
  std::unique_ptr<runtime_api_server> server;
  std::string log_stream;
  // The request id its output lines belong to ("" between invocations). Pool's mutex.
  std::string request_id;

  child_process child;
  int status_fd = -1;  // its /proc/PID/status, open from its start: REPORT's Max Memory Used
  // Its output: read by its reader thread and drained at each answer, under output_m_ (never
  // taken while the pool's mutex is held).
  std::mutex output_m_;
  std::string partial_out_;
  std::string partial_err_;
  bool out_open_ = true;
  bool err_open_ = true;
};

std::shared_ptr<function_pool> function_pool::create(function_definition definition, runtime_api_opener open,
                                                     apigw::invocation_log* log) {
  return std::shared_ptr<function_pool>(new function_pool(std::move(definition), std::move(open), log));
}

function_pool::function_pool(function_definition definition, runtime_api_opener open, apigw::invocation_log* log)
    : def_(std::move(definition)), open_(std::move(open)), log_(log), watch_(def_.code_dir) {
  fingerprint_ = code_fingerprint();
  thread_ = std::thread([this] { run(); });
}

function_pool::~function_pool() { stop(std::chrono::milliseconds(500)); }

// The peak resident memory of process P in MB, as REPORT's "Max Memory Used"; 0 when unknown.
std::uint64_t function_pool::peak_memory_mb(const process& p) const {
  if (p.status_fd < 0) return 0;
  char buf[4096];
  const ssize_t n = ::pread(p.status_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* hwm = std::strstr(buf, "\nVmHWM:");
  if (hwm == nullptr) return 0;
  const std::uint64_t kb = std::strtoull(hwm + 7, nullptr, 10);
  return (kb + 1023) / 1024;
}

void function_pool::write(std::string_view request_id, std::string_view line) const {
  if (log_) log_->write(def_.name, request_id, "", line);
}

std::size_t function_pool::process_count() const {
  std::lock_guard lock(m_);
  return processes_.size();
}

// A cheap picture of the code: every file's path, size and modification time, except the
// folders a learner does not edit (dependencies, caches).
std::uint64_t function_pool::code_fingerprint() const {
  namespace fs = std::filesystem;
  std::uint64_t h = 1469598103934665603ULL;
  const auto mix = [&h](const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  std::error_code ec;
  fs::recursive_directory_iterator it(def_.code_dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && code_watch::skipped(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    const auto path = it->path().string();
    mix(path.data(), path.size());
    const auto size = it->file_size(ec);
    mix(&size, sizeof size);
    const auto time = it->last_write_time(ec).time_since_epoch().count();
    mix(&time, sizeof time);
  }
  return h;
}

void function_pool::start(std::string event, callback done) {
  auto inv = std::make_shared<pending>();
  inv->request_id = lambda_request_id();
  inv->result.request_id = inv->request_id;
  inv->event = std::move(event);
  inv->then = std::move(done);
  {
    std::lock_guard lock(m_);
    if (stopped_) {
      inv->result.error_type = "Runtime.Unavailable";
      inv->result.error_message = "the emulator is stopping";
      inv->result.payload = platform_error_json(inv->result.error_type, inv->result.error_message);
      finish_locked(inv);
    } else {
      notice_code_change_locked();
      queue_.push_back(inv);
      dispatch_locked();
    }
  }
  settle();
}

invocation_result function_pool::invoke(std::string event) {
  std::promise<invocation_result> ended;
  auto result = ended.get_future();
  start(std::move(event), [&ended](invocation_result r) { ended.set_value(std::move(r)); });
  return result.get();
}

// Warm processes whose code changed on disk are replaced before the next invocation: the busy
// ones once they answer, the others now.
void function_pool::notice_code_change_locked() {
  if (!watch_.maybe_changed()) return;
  const std::uint64_t fingerprint = code_fingerprint();
  if (fingerprint == fingerprint_) return;
  fingerprint_ = fingerprint;
  std::size_t replaced = 0;
  for (const auto& p : processes_) {
    if (p->state_ == process::state::killed || p->fingerprint == fingerprint) continue;
    p->stale = true;
    ++replaced;
    if (p->state_ != process::state::busy) kill_locked(*p, "code changed");
  }
  if (replaced > 0) {
    write("", "code changed in " + def_.code_dir + ": " + std::to_string(replaced) +
                  (replaced == 1 ? " process replaced" : " processes replaced") + " before the next invocation");
  }
}

// Runs what ended invocations still need, outside the mutex: their last lines, their callbacks.
void function_pool::settle() {
  std::vector<std::shared_ptr<pending>> ended;
  {
    std::lock_guard lock(m_);
    if (finished_.empty()) return;
    ended.swap(finished_);
  }
  for (const auto& inv : ended) conclude(*inv);
}

void function_pool::conclude(pending& inv) const {
  if (inv.by && log_ != nullptr) {
    const std::string& id = inv.request_id;
    if (inv.result.how == invocation_result::kind::timeout) {
      write(id, epoch_iso_now() + " " + id + " Task timed out after " +
                    fixed2(std::chrono::duration<double>(def_.timeout).count()) + " seconds");
    }
    write(id, "END RequestId: " + id);
    const double duration = inv.result.duration_ms;
    std::string report = "REPORT RequestId: " + id + "\tDuration: " + fixed2(duration) + " ms\tBilled Duration: " +
                         std::to_string(static_cast<long long>(std::ceil(std::max(duration, 1.0)))) +
                         " ms\tMemory Size: " + std::to_string(def_.memory_mb) + " MB\tMax Memory Used: " +
                         std::to_string(peak_memory_mb(*inv.by)) + " MB";
    if (inv.result.cold) report += "\tInit Duration: " + fixed2(inv.result.init_ms) + " ms";
    if (inv.result.how == invocation_result::kind::timeout) {
      report += "\tStatus: timeout";
    } else if (inv.result.how == invocation_result::kind::error &&
               (inv.result.error_type == "Runtime.ExitError" || inv.init_failed)) {
      // The platform's errors (a crash, a failed initialization), not the function's own.
      report += "\tStatus: error\tError Type: " + inv.result.error_type;
    }
    write(id, report);
  }
  auto then = std::move(inv.then);
  inv.by.reset();
  if (then) then(std::move(inv.result));
}

void function_pool::dispatch_locked() {
  while (!queue_.empty() && !stopped_) {
    std::shared_ptr<process> idle;
    std::size_t soon_idle = 0;  // starting, or answered and about to ask for the next
    std::size_t alive = 0;
    for (const auto& p : processes_) {
      if (p->state_ == process::state::killed) continue;
      ++alive;
      if ((p->state_ == process::state::starting || p->state_ == process::state::answered) && !p->stale) ++soon_idle;
      if (!idle && p->state_ == process::state::waiting && !p->stale) idle = p;
    }
    if (idle) {
      auto inv = queue_.front();
      queue_.pop_front();
      deliver_locked(idle, inv);
      continue;
    }
    if (soon_idle + spawns_wanted_ >= queue_.size() || alive + spawns_wanted_ >= def_.max_processes) return;
    // The pool's thread starts it (see run()).
    ++spawns_wanted_;
    changed_.notify_all();
  }
}

void function_pool::spawn_locked() {
  auto p = std::make_shared<process>(weak_from_this(), ++next_process_);
  p->me_ = p;
  p->started = clock::now();
  p->fingerprint = fingerprint_;
  p->log_stream = log_stream_name();
  const auto fail_head = [&](const std::string& why) {
    auto inv = queue_.front();
    queue_.pop_front();
    inv->result.error_type = "Runtime.Unknown";
    inv->result.error_message = why;
    inv->result.payload = platform_error_json(inv->result.error_type, why);
    write(inv->request_id, "could not start the function: " + why);
    finish_locked(inv);
  };
  auto server = open_(p);
  if (!server) return fail_head("the Runtime API: " + server.error());
  p->server = std::move(*server);
  spawn_options options = def_.process;
  options.env.push_back("AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(p->server->port()));
  options.env.push_back("AWS_LAMBDA_LOG_STREAM_NAME=" + p->log_stream);
  auto child = child_process::start(options);
  if (!child) return fail_head(options.program + ": " + child.error());
  p->child = std::move(*child);
  p->status_fd = ::open(("/proc/" + std::to_string(p->child.pid()) + "/status").c_str(), O_RDONLY | O_CLOEXEC);
  processes_.push_back(p);
  auto self = shared_from_this();
  std::thread([self, p] { self->read_output(p); }).detach();
}

void function_pool::deliver_locked(const std::shared_ptr<process>& p, const std::shared_ptr<pending>& inv) {
  const auto now = clock::now();
  inv->delivered = true;
  inv->delivered_at = now;
  inv->deadline = now + def_.timeout;
  if (inv->deadline < deadline_wake_) changed_.notify_all();
  inv->by = p;
  inv->result.cold = p->invocations == 0;
  inv->result.init_ms = p->init_ms;
  ++p->invocations;
  p->state_ = process::state::busy;
  p->current = inv;
  p->request_id = inv->request_id;
  auto deliver = std::move(p->deliver);
  p->deliver = nullptr;
  if (log_ != nullptr) write(inv->request_id, "START RequestId: " + inv->request_id + " Version: $LATEST");
  runtime_invocation next;
  next.request_id = inv->request_id;
  next.deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         (std::chrono::system_clock::now() + def_.timeout).time_since_epoch())
                         .count();
  next.function_arn = def_.arn;
  next.trace_id = trace_header();
  next.event = inv->event;
  deliver(std::move(next));
}

void function_pool::finish_locked(const std::shared_ptr<pending>& inv) {
  if (inv->done) return;
  inv->done = true;
  if (inv->delivered) inv->result.duration_ms = millis(clock::now() - inv->delivered_at);
  finished_.push_back(inv);
}

// The pool's thread. It starts the processes: a process gets SIGKILL when the thread that started
// it ends (PR_SET_PDEATHSIG), so they are started by the one thread that lives as long as the
// pool, not by whichever thread asked. And it kills a process whose invocation ran past the
// timeout or whose initialization took too long, waking only for the nearest such deadline.
void function_pool::run() {
  std::unique_lock lock(m_);
  while (!stopped_) {
    for (; spawns_wanted_ > 0 && !stopped_; --spawns_wanted_) {
      if (queue_.empty()) {
        spawns_wanted_ = 0;  // an idle process took what they were for
        break;
      }
      spawn_locked();
    }
    enforce_deadlines_locked(clock::now());
    if (!finished_.empty()) {
      lock.unlock();
      settle();
      lock.lock();
      continue;
    }
    auto next = clock::time_point::max();
    for (const auto& p : processes_) {
      if (p->state_ == process::state::busy && p->current) next = std::min(next, p->current->deadline);
      if (p->state_ == process::state::starting) next = std::min(next, p->started + kInitLimit);
    }
    deadline_wake_ = next;
    if (next == clock::time_point::max()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, next);
    }
    deadline_wake_ = clock::time_point::min();  // awake: deadlines need not wake it
  }
}

void function_pool::kill_locked(process& p, const char* why) {
  if (p.state_ == process::state::killed) return;
  p.state_ = process::state::killed;
  p.kill_reason = why;
  p.deliver = nullptr;
  p.child.kill();
}

void function_pool::enforce_deadlines_locked(clock::time_point now) {
  for (const auto& p : processes_) {
    if (p->state_ == process::state::busy && p->current && now >= p->current->deadline) {
      auto inv = std::move(p->current);
      inv->result.how = invocation_result::kind::timeout;
      inv->result.error_type = "Sandbox.Timedout";
      inv->result.error_message = "Task timed out after " +
                                  fixed2(std::chrono::duration<double>(def_.timeout).count()) + " seconds";
      inv->result.payload = platform_error_json("Sandbox.Timedout", inv->result.error_message);
      kill_locked(*p, "timeout");
      finish_locked(inv);
    } else if (p->state_ == process::state::starting && now - p->started >= kInitLimit) {
      p->init_error_type = "Runtime.Unknown";
      p->init_error_message = "the function's initialization did not finish within 10 seconds";
      write("", "INIT_REPORT Init Duration: " + fixed2(millis(now - p->started)) + " ms\tPhase: init\tStatus: timeout");
      kill_locked(*p, "init timeout");
    }
  }
}

void function_pool::on_next(const std::shared_ptr<process>& p, std::function<void(runtime_invocation)> deliver) {
  ready_for_next(p, std::move(deliver));
  settle();
}

void function_pool::ready_for_next(const std::shared_ptr<process>& p, std::function<void(runtime_invocation)> deliver) {
  std::lock_guard lock(m_);
  if (p->state_ == process::state::killed || stopped_) return;
  if (p->state_ == process::state::starting) p->init_ms = millis(clock::now() - p->started);
  if (p->current) {
    // /next before answering: the runtime gave up on the invocation it had.
    auto inv = std::move(p->current);
    inv->result.error_type = "Runtime.InvalidResponse";
    inv->result.error_message = "the runtime asked for the next invocation without answering this one";
    inv->result.payload = platform_error_json(inv->result.error_type, inv->result.error_message);
    finish_locked(inv);
  }
  p->request_id.clear();
  if (p->stale) {
    kill_locked(*p, "code changed");
    dispatch_locked();
    return;
  }
  p->state_ = process::state::waiting;
  p->deliver = std::move(deliver);
  dispatch_locked();
}

runtime_answer function_pool::on_answer(const std::shared_ptr<process>& p, std::string_view request_id, bool ok,
                                        std::string_view error_type, std::string body) {
  std::unique_lock lock(m_);
  if (!p->current || p->current->request_id != request_id) {
    return {400, "InvalidRequestID", "no invocation " + std::string(request_id) + " is in progress in this process"};
  }
  auto inv = std::move(p->current);
  p->state_ = process::state::answered;
  if (ok) {
    inv->result.how = invocation_result::kind::ok;
  } else {
    inv->result.how = invocation_result::kind::error;
    inv->result.error_type = std::string(error_type);
    read_error_body(body, inv->result.error_type, inv->result.error_message);
  }
  inv->result.payload = std::move(body);
  if (p->stale) kill_locked(*p, "code changed");
  lock.unlock();
  // What it wrote before answering comes before END: read what the pipes hold now.
  drain_output(*p, false);
  lock.lock();
  finish_locked(inv);
  lock.unlock();
  settle();
  return {};
}

runtime_answer function_pool::on_init_error(const std::shared_ptr<process>& p, std::string_view error_type,
                                            std::string body) {
  std::lock_guard lock(m_);
  if (p->state_ != process::state::starting) {
    return {403, "InvalidStateTransition", "init/error is only allowed before the first /next"};
  }
  p->init_error_type = std::string(error_type);
  read_error_body(body, p->init_error_type, p->init_error_message);
  p->init_error_body = std::move(body);
  kill_locked(*p, "init error");  // a runtime exits after reporting; this one need not wait
  return {};
}

void function_pool::on_exit(const std::shared_ptr<process>& p, const std::string& how) {
  {
    std::lock_guard lock(m_);
    const std::string reason = p->kill_reason;
    const bool unexpected = p->state_ != process::state::killed;
    p->state_ = process::state::killed;
    p->deliver = nullptr;
    p->server.reset();  // closes its Runtime API port (posts to the I/O threads; takes no lock of ours)
    const bool init_failed = p->invocations == 0 && (unexpected || reason == "init error" || reason == "init timeout");
    if (p->current) {
      auto inv = std::move(p->current);
      const std::string message = "RequestId: " + inv->request_id + " Error: Runtime exited with error: " + how;
      inv->result.how = invocation_result::kind::error;
      inv->result.error_type = "Runtime.ExitError";
      inv->result.error_message = message;
      inv->result.payload = platform_error_json("Runtime.ExitError", message);
      write(inv->request_id, message);
      write(inv->request_id, "Runtime.ExitError");
      finish_locked(inv);
    } else if (init_failed && !queue_.empty() && !stopped_) {
      // Lambda fails the invocation that started this process with the initialization's error.
      auto inv = queue_.front();
      queue_.pop_front();
      inv->result.how = invocation_result::kind::error;
      if (!p->init_error_type.empty()) {
        inv->result.error_type = p->init_error_type;
        inv->result.error_message = p->init_error_message;
        inv->result.payload = p->init_error_body.empty()
                                  ? platform_error_json(p->init_error_type, p->init_error_message)
                                  : p->init_error_body;
      } else {
        inv->result.error_type = "Runtime.ExitError";
        inv->result.error_message = "RequestId: " + inv->request_id + " Error: Runtime exited with error: " + how;
        inv->result.payload = platform_error_json("Runtime.ExitError", inv->result.error_message);
      }
      // The invocation's lines as Lambda writes them for a failed initialization; the invoker
      // writes END and REPORT.
      inv->result.cold = true;
      inv->result.init_ms = millis(clock::now() - p->started);
      inv->init_failed = true;
      inv->by = p;
      inv->delivered = true;
      inv->delivered_at = clock::now();
      if (reason != "init timeout") {
        write(inv->request_id, "INIT_REPORT Init Duration: " + fixed2(inv->result.init_ms) +
                                   " ms\tPhase: init\tStatus: error\tError Type: " + inv->result.error_type);
      }
      write(inv->request_id, "START RequestId: " + inv->request_id + " Version: $LATEST");
      finish_locked(inv);
    } else if (unexpected && !stopped_) {
      write("", "the function's process exited between invocations (" + how +
                    "); the next invocation starts a new one");
    }
    processes_.erase(std::remove(processes_.begin(), processes_.end(), p), processes_.end());
    dispatch_locked();
    changed_.notify_all();
  }
  settle();
}

// Writes each complete line of PARTIAL to the log under the process's current request id (and
// the rest too when FLUSH), cutting lines longer than CloudWatch takes.
void function_pool::emit_lines(process& p, std::string& partial, bool flush) {
  std::string id;
  {
    std::lock_guard lock(m_);
    id = p.request_id;
  }
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string_view line(partial.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    do {
      write(id, line.substr(0, kMaxLineBytes));
      line.remove_prefix(std::min(line.size(), kMaxLineBytes));
    } while (!line.empty());
  }
  partial.erase(0, start);
  while (partial.size() >= kMaxLineBytes || (flush && !partial.empty())) {
    write(id, std::string_view(partial).substr(0, kMaxLineBytes));
    partial.erase(0, std::min(partial.size(), kMaxLineBytes));
  }
}

// Reads what the process's pipes hold now, without waiting.
void function_pool::drain_output(process& p, bool flush) {
  // Under the lock: lines the reader thread has read are emitted before this returns.
  std::lock_guard out(p.output_m_);
  if (!flush) {
    // Usually nothing is waiting: one poll instead of a read per pipe.
    std::array<pollfd, 2> pipes{{{p.out_open_ ? p.child.stdout_fd() : -1, POLLIN, 0},
                                 {p.err_open_ ? p.child.stderr_fd() : -1, POLLIN, 0}}};
    if (::poll(pipes.data(), pipes.size(), 0) == 0) return;
  }
  const auto drain = [&](int fd, std::string& partial, bool& open) {
    std::array<char, 65536> buf;
    while (open) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n > 0) {
        partial.append(buf.data(), static_cast<std::size_t>(n));
        emit_lines(p, partial, false);
      } else if (n == 0) {
        open = false;
      } else if (errno != EINTR) {
        break;
      }
    }
  };
  drain(p.child.stdout_fd(), p.partial_out_, p.out_open_);
  drain(p.child.stderr_fd(), p.partial_err_, p.err_open_);
  if (flush) {
    emit_lines(p, p.partial_out_, true);
    emit_lines(p, p.partial_err_, true);
  }
}

// The process's reader: its lines as they come, then its exit.
void function_pool::read_output(const std::shared_ptr<process>& p) {
  for (;;) {
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    fds[n++] = {p->child.exit_fd(), POLLIN, 0};
    {
      std::lock_guard out(p->output_m_);
      if (p->out_open_) fds[n++] = {p->child.stdout_fd(), POLLIN, 0};
      if (p->err_open_) fds[n++] = {p->child.stderr_fd(), POLLIN, 0};
    }
    if (::poll(fds.data(), n, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;  // exited: what it wrote is read below
    drain_output(*p, false);
  }
  const std::string how = p->child.reap();
  p->child.kill();  // whatever it forked goes with it
  drain_output(*p, true);
  on_exit(p, how);
}

void function_pool::stop(std::chrono::milliseconds grace) {
  std::unique_lock lock(m_);
  stopped_ = true;
  while (!queue_.empty()) {
    auto inv = queue_.front();
    queue_.pop_front();
    inv->result.error_type = "Runtime.Unavailable";
    inv->result.error_message = "the emulator is stopping";
    inv->result.payload = platform_error_json(inv->result.error_type, inv->result.error_message);
    finish_locked(inv);
  }
  for (const auto& p : processes_) kill_locked(*p, "stopping");
  changed_.notify_all();  // the pool's thread stops
  changed_.wait_for(lock, grace, [this] { return processes_.empty(); });
  lock.unlock();
  settle();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace apigw::emulator::functions
