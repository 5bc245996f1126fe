// The benchmark's load generator: one process, one Boost.Beast async client, many connections.
// It drives one scenario (echo, churn, hold or fanout) against a WebSocket server on loopback,
// checks every answer, and prints one JSON line and one human line. Exit status: 0 when every
// check passed, 1 on any correctness failure, 2 on a bad command line.
// Thread-safety: each connection lives on its own strand; the scenario's shared counters are
// atomics; the main thread only starts, times and stops the scenario.
//
// Every scenario is bounded: connects and handshakes time out, and the main thread gives up on
// anything that has not finished a few seconds after the scenario's end.

#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------------------------------------
// Command line

struct options {
  std::string url;
  std::string scenario;
  std::size_t connections = 0;     // 0: the scenario's default
  double seconds = -1;             // < 0: the scenario's default
  double warmup = -1;              // < 0: the scenario's default
  long server_pid = 0;             // hold: whose VmRSS to read
  unsigned threads = 1;            // client io_context threads
  std::size_t payload_bytes = 64;  // echo: length of "data"
  std::size_t parallel = 256;      // hold, fanout: handshakes in flight while opening
  std::size_t in_flight = 1;       // fanout: sendmessage requests in flight
  double settle = 1.0;             // hold: seconds between the last handshake and reading VmRSS
  std::string label;               // copied into the JSON line (e.g. "baseline", "emulator")
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr
      << "apigw_load_generator: " << error << "\n"
      << "usage: apigw_load_generator --url ws://127.0.0.1:PORT/STAGE --scenario echo|churn|hold|fanout\n"
         "         [--connections N] [--seconds S] [--warmup S] [--server-pid PID] [--threads N]\n"
         "         [--payload-bytes N] [--parallel N] [--settle S] [--in-flight N] [--label TEXT]\n"
         "  echo    N connections (default 50) in closed loop send {\"action\":\"echo\",\"data\":...};\n"
         "          every reply must equal what was sent. Reports messages/s, p50/p99 latency (us).\n"
         "  churn   N workers (default 10) connect, handshake and close, for S seconds (default 5);\n"
         "          every handshake must succeed. Reports handshakes/s.\n"
         "  hold    opens N idle connections (default 10000), holds them S seconds (default 2),\n"
         "          pings each; reports the server's VmRSS growth per connection (--server-pid).\n"
         "  fanout  N connections (default 1000); one sends {\"action\":\"sendmessage\",\"data\":\"hi\"}\n"
         "          in closed-loop rounds for S seconds (default 5); every client must get \"hi\"\n"
         "          once per round. Reports deliveries/s. --in-flight N keeps N requests going.\n";
  std::exit(2);
}

options parse_options(int argc, char* argv[]) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
      return argv[++i];
    };
    auto integer = [&](unsigned long long min, unsigned long long max) {
      auto text = value();
      char* end = nullptr;
      auto n = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || n < min || n > max)
        usage("bad value for " + std::string(arg) + ": " + text);
      return n;
    };
    auto real = [&](double min, double max) {
      auto text = value();
      char* end = nullptr;
      auto d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(d >= min && d <= max))
        usage("bad value for " + std::string(arg) + ": " + text);
      return d;
    };
    if (arg == "--url") o.url = value();
    else if (arg == "--scenario") o.scenario = value();
    else if (arg == "--connections") o.connections = integer(1, 1000000);
    else if (arg == "--seconds") o.seconds = real(0, 3600);
    else if (arg == "--warmup") o.warmup = real(0, 600);
    else if (arg == "--server-pid") o.server_pid = static_cast<long>(integer(1, 1u << 30));
    else if (arg == "--threads") o.threads = static_cast<unsigned>(integer(1, 256));
    else if (arg == "--payload-bytes") o.payload_bytes = integer(0, 65536);
    else if (arg == "--parallel") o.parallel = integer(1, 100000);
    else if (arg == "--settle") o.settle = real(0, 600);
    else if (arg == "--in-flight") o.in_flight = integer(1, 1000);
    else if (arg == "--label") o.label = value();
    else if (arg == "--help" || arg == "-h") usage("help");
    else usage("unknown argument " + std::string(arg));
  }
  if (o.url.empty()) usage("--url is required");
  if (o.scenario.empty()) usage("--scenario is required");
  struct defaults { const char* name; std::size_t connections; double seconds; double warmup; };
  static constexpr defaults table[] = {
      {"echo", 50, 5, 0.5}, {"churn", 10, 5, 0.5}, {"hold", 10000, 2, 0}, {"fanout", 1000, 5, 0}};
  auto it = std::find_if(std::begin(table), std::end(table),
                         [&](const defaults& d) { return o.scenario == d.name; });
  if (it == std::end(table)) usage("unknown scenario " + o.scenario);
  if (o.connections == 0) o.connections = it->connections;
  if (o.seconds < 0) o.seconds = it->seconds;
  if (o.warmup < 0) o.warmup = it->warmup;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Where to connect

struct target {
  tcp::endpoint endpoint;
  std::string host;   // the Host header: "127.0.0.1:PORT"
  std::string path;   // the request target: "/STAGE"
};

std::optional<target> parse_url(const std::string& url, std::string& error) {
  constexpr std::string_view scheme = "ws://";
  if (!std::string_view(url).starts_with(scheme)) {
    error = "only ws:// URLs are supported: " + url;
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  target t;
  t.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) {
    error = "the URL needs a port: " + url;
    return std::nullopt;
  }
  auto host = authority.substr(0, colon);
  auto port = authority.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  char* end = nullptr;
  auto port_number = std::strtoul(port.c_str(), &end, 10);
  if (ec || port.empty() || *end != '\0' || port_number == 0 || port_number > 65535) {
    error = "bad host or port (an IP address is needed) in " + url;
    return std::nullopt;
  }
  if (!address.is_loopback()) {
    error = "load tests stay on loopback; refusing " + url;
    return std::nullopt;
  }
  t.endpoint = tcp::endpoint(address, static_cast<std::uint16_t>(port_number));
  t.host = authority;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Shared state of one run

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

class run_context {
 public:
  run_context(const options& o, target t) : options_(o), target_(std::move(t)) {}

  net::io_context& ioc() { return ioc_; }
  const target& where() const { return target_; }
  const options& opts() const { return options_; }

  // Records a correctness failure; the first few are kept for the report.
  void fail(const std::string& what) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    if (messages_.size() < 5) messages_.push_back(what);
  }
  std::uint64_t failures() const { return failures_.load(); }
  std::vector<std::string> failure_messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  void start_threads() {
    for (unsigned i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  void stop_threads() {
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // Waits until DONE() or DEADLINE; true when DONE() held.
  template <class Pred>
  bool wait_until(Pred done, clock_type::time_point deadline) {
    while (!done()) {
      if (clock_type::now() >= deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  std::atomic<bool> stopping{false};
  // The measurement window, in now_ns(); nothing is measured until the main thread sets them.
  std::atomic<std::int64_t> window_begin{INT64_MAX};
  std::atomic<std::int64_t> window_end{INT64_MAX};

 private:
  const options& options_;
  target target_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> failures_{0};
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

websocket::stream_base::timeout client_timeouts() {
  // A bounded handshake and close; idle connections are the point of some scenarios.
  return {10s, websocket::stream_base::none(), false};
}

void decorate(websocket::stream<beast::tcp_stream>& ws) {
  ws.set_option(client_timeouts());
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "apigw-load-generator");
  }));
}

bool is_normal_end(beast::error_code ec) {
  return ec == websocket::error::closed || ec == net::error::operation_aborted;
}

std::string describe(const char* what, std::size_t index, beast::error_code ec) {
  return std::string(what) + " (connection " + std::to_string(index) + "): " + ec.message();
}

std::string frame_text(const beast::flat_buffer& b) {
  return std::string(static_cast<const char*>(b.data().data()), b.size());
}

std::string shorten(std::string s) {
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

// Nearest-rank percentile of sorted V, in the units of V.
template <class T>
T percentile(const std::vector<T>& v, double q) {
  if (v.empty()) return T{};
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

// A small JSON line writer: enough for numbers, booleans and plain strings.
class json_line {
 public:
  json_line& add(const char* key, const std::string& value) {
    std::string escaped;
    for (char c : value) {
      if (c == '"' || c == '\\') escaped += '\\';
      if (static_cast<unsigned char>(c) < 0x20) continue;
      escaped += c;
    }
    return raw(key, "\"" + escaped + "\"");
  }
  json_line& add(const char* key, const char* value) { return add(key, std::string(value)); }
  json_line& add(const char* key, bool value) { return raw(key, value ? "true" : "false"); }
  json_line& add(const char* key, std::uint64_t value) { return raw(key, std::to_string(value)); }
  json_line& add(const char* key, long value) { return raw(key, std::to_string(value)); }
  json_line& add(const char* key, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    return raw(key, buf);
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  json_line& raw(const char* key, const std::string& value) {
    if (!body_.empty()) body_ += ",";
    body_ += "\"";
    body_ += key;
    body_ += "\":" + value;
    return *this;
  }
  std::string body_;
};

// Adds the fields every scenario reports, prints both lines, and returns the exit status.
int report(run_context& ctx, json_line& line, const std::string& summary, bool ok) {
  auto failures = ctx.failure_messages();
  ok = ok && ctx.failures() == 0;
  line.add("errors", static_cast<std::uint64_t>(ctx.failures()));
  line.add("first_error", failures.empty() ? std::string() : failures.front());
  line.add("ok", ok);
  std::printf("%s\n", line.str().c_str());
  std::printf("%s %s: %s%s\n", ctx.opts().scenario.c_str(),
              ctx.opts().label.empty() ? ctx.opts().url.c_str() : ctx.opts().label.c_str(),
              summary.c_str(), ok ? "" : " -- FAILED");
  for (const auto& f : failures) std::printf("  error: %s\n", f.c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

json_line common_fields(const options& o) {
  json_line line;
  line.add("scenario", o.scenario).add("label", o.label).add("url", o.url);
  return line;
}

// Descriptors: one per connection plus a few; take what the hard limit allows.
bool raise_descriptor_limit(std::size_t needed, std::string& error) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return true;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    error = "need " + std::to_string(needed) + " descriptors, the hard limit is " +
            std::to_string(limit.rlim_cur) + " (raise it: ulimit -Hn)";
    return false;
  }
  return true;
}

// Resident memory of PID in KiB, from /proc/PID/status; -1 when unreadable.
long read_vm_rss_kib(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// echo: closed loop, one message in flight per connection

class echo_client : public std::enable_shared_from_this<echo_client> {
 public:
  echo_client(run_context& ctx, std::size_t index, std::atomic<std::size_t>& connected,
              std::atomic<std::size_t>& finished)
      : ctx_(ctx), ws_(net::make_strand(ctx.ioc())), index_(index), connected_(connected),
        finished_(finished) {}

  echo_client(const echo_client&) = delete;
  echo_client& operator=(const echo_client&) = delete;

  void run() {
    net::dispatch(ws_.get_executor(),
                  beast::bind_front_handler(&echo_client::on_run, shared_from_this()));
  }

  // Read by the main thread once every client has finished (or the threads are stopped).
  const std::vector<std::uint32_t>& latencies_us() const { return latencies_us_; }
  std::uint64_t mismatches() const { return mismatches_; }

 private:
  void on_run() {
    beast::get_lowest_layer(ws_).expires_after(10s);
    beast::get_lowest_layer(ws_).async_connect(
        ctx_.where().endpoint, beast::bind_front_handler(&echo_client::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish(describe("connect", index_, ec));
    beast::get_lowest_layer(ws_).expires_never();
    decorate(ws_);
    ws_.async_handshake(ctx_.where().host, ctx_.where().path,
                        beast::bind_front_handler(&echo_client::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return finish(describe("handshake", index_, ec));
    connected_.fetch_add(1);
    ws_.text(true);
    do_send();
  }

  void do_send() {
    if (ctx_.stopping.load(std::memory_order_relaxed)) return do_close();
    // The data names the connection and the sequence number, so a reply sent to the wrong
    // connection or out of order is caught.
    constexpr std::string_view prefix = R"({"action":"echo","data":")";
    out_.assign(prefix);
    out_ += 'c';
    out_ += std::to_string(index_);
    out_ += '-';
    out_ += std::to_string(seq_++);
    out_ += '-';
    auto data_so_far = out_.size() - prefix.size();
    auto want = ctx_.opts().payload_bytes;
    if (want > data_so_far) out_.append(want - data_so_far, 'x');
    out_ += R"("})";
    sent_ns_ = now_ns();
    ws_.async_write(net::buffer(out_), beast::bind_front_handler(&echo_client::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return finish(describe("write", index_, ec));
    ws_.async_read(in_, beast::bind_front_handler(&echo_client::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    auto received_ns = now_ns();
    if (ec) return finish(describe("read", index_, ec));
    bool same = ws_.got_text() && in_.size() == out_.size() &&
                std::memcmp(in_.data().data(), out_.data(), out_.size()) == 0;
    if (!same) {
      if (mismatches_++ == 0)
        ctx_.fail("connection " + std::to_string(index_) + " sent " + shorten(out_) + " got " +
                  (ws_.got_text() ? "" : "(binary) ") + shorten(frame_text(in_)));
    } else if (sent_ns_ >= ctx_.window_begin.load(std::memory_order_relaxed) &&
               received_ns <= ctx_.window_end.load(std::memory_order_relaxed)) {
      latencies_us_.push_back(static_cast<std::uint32_t>((received_ns - sent_ns_) / 1000));
    }
    in_.consume(in_.size());
    do_send();
  }

  void do_close() {
    ws_.async_close(websocket::close_code::normal,
                    beast::bind_front_handler(&echo_client::on_close, shared_from_this()));
  }

  void on_close(beast::error_code ec) {
    if (ec) return finish(describe("close", index_, ec));
    finish({});
  }

  void finish(const std::string& error) {
    if (!error.empty()) ctx_.fail(error);
    finished_.fetch_add(1);
  }

  run_context& ctx_;
  websocket::stream<beast::tcp_stream> ws_;
  std::size_t index_;
  std::atomic<std::size_t>& connected_;
  std::atomic<std::size_t>& finished_;
  std::string out_;
  beast::flat_buffer in_;
  std::uint64_t seq_ = 0;
  std::int64_t sent_ns_ = 0;
  std::uint64_t mismatches_ = 0;
  std::vector<std::uint32_t> latencies_us_;
};

int run_echo(run_context& ctx) {
  const auto& o = ctx.opts();
  std::atomic<std::size_t> connected{0}, finished{0};
  std::vector<std::shared_ptr<echo_client>> clients;
  for (std::size_t i = 0; i < o.connections; ++i)
    clients.push_back(std::make_shared<echo_client>(ctx, i, connected, finished));
  ctx.start_threads();
  for (auto& c : clients) c->run();

  bool all_up = ctx.wait_until(
      [&] { return connected.load() + finished.load() >= o.connections; },
      clock_type::now() + 15s);
  if (!all_up || connected.load() < o.connections) {
    ctx.fail(std::to_string(connected.load()) + " of " + std::to_string(o.connections) +
             " connections came up");
    ctx.stopping = true;  // a failed run need not last
  }

  auto begin = now_ns() + static_cast<std::int64_t>(o.warmup * 1e9);
  auto end = ctx.stopping ? begin : begin + static_cast<std::int64_t>(o.seconds * 1e9);
  ctx.window_begin = begin;
  ctx.window_end = end;
  std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(0, end - now_ns())));
  ctx.stopping = true;
  if (!ctx.wait_until([&] { return finished.load() >= o.connections; }, clock_type::now() + 10s))
    ctx.fail(std::to_string(o.connections - finished.load()) + " connections did not close in 10 s");
  ctx.stop_threads();

  std::vector<std::uint32_t> all;
  std::uint64_t mismatches = 0;
  for (auto& c : clients) {
    all.insert(all.end(), c->latencies_us().begin(), c->latencies_us().end());
    mismatches += c->mismatches();
  }
  std::sort(all.begin(), all.end());
  double window = static_cast<double>(end - begin) / 1e9;
  double rate = window > 0 ? static_cast<double>(all.size()) / window : 0;
  auto p50 = percentile(all, 0.50), p99 = percentile(all, 0.99);
  auto max = all.empty() ? 0u : all.back();

  auto line = common_fields(o);
  line.add("connections", static_cast<std::uint64_t>(o.connections))
      .add("seconds", window)
      .add("payload_bytes", static_cast<std::uint64_t>(o.payload_bytes))
      .add("messages", static_cast<std::uint64_t>(all.size()))
      .add("messages_per_s", rate)
      .add("p50_us", static_cast<std::uint64_t>(p50))
      .add("p99_us", static_cast<std::uint64_t>(p99))
      .add("max_us", static_cast<std::uint64_t>(max))
      .add("mismatches", mismatches);
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%zu connections, %.1f s: %.0f messages/s, p50 %u us, p99 %u us, max %u us, "
                "%" PRIu64 " mismatched replies",
                o.connections, window, rate, p50, p99, max, mismatches);
  return report(ctx, line, summary, !all.empty() && mismatches == 0);
}

// ---------------------------------------------------------------------------------------------
// churn: connect, handshake, close, again

class churn_worker : public std::enable_shared_from_this<churn_worker> {
 public:
  churn_worker(run_context& ctx, std::size_t index, std::atomic<std::uint64_t>& handshakes,
               std::atomic<std::uint64_t>& cycles, std::atomic<std::size_t>& finished)
      : ctx_(ctx), strand_(net::make_strand(ctx.ioc())), index_(index), handshakes_(handshakes),
        cycles_(cycles), finished_(finished) {}

  churn_worker(const churn_worker&) = delete;
  churn_worker& operator=(const churn_worker&) = delete;

  void run() {
    net::dispatch(strand_, beast::bind_front_handler(&churn_worker::do_connect, shared_from_this()));
  }

 private:
  void do_connect() {
    if (ctx_.stopping.load(std::memory_order_relaxed)) return finish({});
    ws_.emplace(strand_);
    beast::get_lowest_layer(*ws_).expires_after(10s);
    beast::get_lowest_layer(*ws_).async_connect(
        ctx_.where().endpoint, beast::bind_front_handler(&churn_worker::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec) {
    if (ec) return finish(describe("connect", index_, ec));
    beast::get_lowest_layer(*ws_).expires_never();
    decorate(*ws_);
    ws_->async_handshake(ctx_.where().host, ctx_.where().path,
                         beast::bind_front_handler(&churn_worker::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return finish(describe("handshake", index_, ec));
    auto t = now_ns();
    if (t >= ctx_.window_begin.load(std::memory_order_relaxed) &&
        t <= ctx_.window_end.load(std::memory_order_relaxed))
      handshakes_.fetch_add(1, std::memory_order_relaxed);
    ws_->async_close(websocket::close_code::normal,
                     beast::bind_front_handler(&churn_worker::on_close, shared_from_this()));
  }

  void on_close(beast::error_code ec) {
    if (ec) return finish(describe("close", index_, ec));
    cycles_.fetch_add(1, std::memory_order_relaxed);
    // The next stream replaces this one: do it outside this stream's completion handler.
    net::post(strand_, beast::bind_front_handler(&churn_worker::do_connect, shared_from_this()));
  }

  void finish(const std::string& error) {
    if (!error.empty()) ctx_.fail(error);
    finished_.fetch_add(1);
  }

  run_context& ctx_;
  net::strand<net::io_context::executor_type> strand_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  std::size_t index_;
  std::atomic<std::uint64_t>& handshakes_;
  std::atomic<std::uint64_t>& cycles_;
  std::atomic<std::size_t>& finished_;
};

int run_churn(run_context& ctx) {
  const auto& o = ctx.opts();
  std::atomic<std::uint64_t> handshakes{0}, cycles{0};
  std::atomic<std::size_t> finished{0};
  auto begin = now_ns() + static_cast<std::int64_t>(o.warmup * 1e9);
  auto end = begin + static_cast<std::int64_t>(o.seconds * 1e9);
  ctx.window_begin = begin;
  ctx.window_end = end;
  ctx.start_threads();
  std::vector<std::shared_ptr<churn_worker>> workers;
  for (std::size_t i = 0; i < o.connections; ++i) {
    workers.push_back(std::make_shared<churn_worker>(ctx, i, handshakes, cycles, finished));
    workers.back()->run();
  }
  ctx.wait_until([&] { return finished.load() >= o.connections; },
                 clock_type::now() + std::chrono::nanoseconds(end - now_ns()));
  ctx.stopping = true;
  if (!ctx.wait_until([&] { return finished.load() >= o.connections; }, clock_type::now() + 15s))
    ctx.fail(std::to_string(o.connections - finished.load()) + " workers did not finish in 15 s");
  ctx.stop_threads();

  double window = static_cast<double>(end - begin) / 1e9;
  double rate = window > 0 ? static_cast<double>(handshakes.load()) / window : 0;
  auto line = common_fields(o);
  line.add("workers", static_cast<std::uint64_t>(o.connections))
      .add("seconds", window)
      .add("handshakes", handshakes.load())
      .add("handshakes_per_s", rate)
      .add("cycles", cycles.load());
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%zu workers, %.1f s: %.0f handshakes/s (%" PRIu64 " connect-close cycles in all)",
                o.connections, window, rate, cycles.load());
  return report(ctx, line, summary, handshakes.load() > 0);
}

// ---------------------------------------------------------------------------------------------
// hold and fanout: many open connections, each reading

class connection_set;

class held_connection : public std::enable_shared_from_this<held_connection> {
 public:
  held_connection(connection_set& set, net::io_context& ioc, std::size_t index)
      : set_(set), ws_(net::make_strand(ioc)), index_(index) {}

  held_connection(const held_connection&) = delete;
  held_connection& operator=(const held_connection&) = delete;

  void open();
  void ping();
  void send(std::shared_ptr<const std::string> text);
  void close();

  // Frames that matched / did not match the expected text; read after the threads stopped.
  std::uint64_t matched() const { return matched_; }

 private:
  void on_connect(beast::error_code ec);
  void on_handshake(beast::error_code ec);
  void do_read();
  void on_read(beast::error_code ec, std::size_t);
  void do_write();

  connection_set& set_;
  websocket::stream<beast::tcp_stream> ws_;
  std::size_t index_;
  beast::flat_buffer in_;
  bool closing_ = false;
  std::uint64_t matched_ = 0;
  std::deque<std::shared_ptr<const std::string>> out_;  // one write in flight, the rest wait
};

// Opens N connections with a bounded number of handshakes in flight and keeps the counts.
class connection_set {
 public:
  connection_set(run_context& ctx, std::size_t n) : ctx_(ctx) {
    connections_.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      connections_.push_back(std::make_shared<held_connection>(*this, ctx.ioc(), i));
  }

  run_context& ctx() { return ctx_; }
  std::size_t size() const { return connections_.size(); }
  held_connection& at(std::size_t i) { return *connections_[i]; }

  void open_all(std::size_t parallel) {
    for (std::size_t i = 0; i < std::min(parallel, size()); ++i) open_next();
  }

  // Called by the connections, on their strands.
  void on_opened(bool ok) {
    (ok ? opened : open_failed).fetch_add(1);
    open_next();
  }
  void on_frame(std::size_t index, bool matched) {
    if (matched && on_delivery) on_delivery(index);
  }

  std::atomic<std::size_t> opened{0}, open_failed{0}, dropped{0}, pongs{0}, closed{0};
  std::string expected_frame;                    // fanout: what every frame must be
  std::function<void(std::size_t)> on_delivery;  // fanout: a matching frame arrived

 private:
  void open_next() {
    auto i = next_.fetch_add(1);
    if (i < size()) connections_[i]->open();
  }

  run_context& ctx_;
  std::vector<std::shared_ptr<held_connection>> connections_;
  std::atomic<std::size_t> next_{0};
};

void held_connection::open() {
  net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->ws_).expires_after(10s);
    beast::get_lowest_layer(self->ws_).async_connect(
        self->set_.ctx().where().endpoint,
        beast::bind_front_handler(&held_connection::on_connect, self));
  });
}

void held_connection::on_connect(beast::error_code ec) {
  if (ec) {
    set_.ctx().fail(describe("connect", index_, ec));
    return set_.on_opened(false);
  }
  beast::get_lowest_layer(ws_).expires_never();
  decorate(ws_);
  ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::pong) set_.pongs.fetch_add(1);
  });
  ws_.async_handshake(set_.ctx().where().host, set_.ctx().where().path,
                      beast::bind_front_handler(&held_connection::on_handshake, shared_from_this()));
}

void held_connection::on_handshake(beast::error_code ec) {
  if (ec) {
    set_.ctx().fail(describe("handshake", index_, ec));
    return set_.on_opened(false);
  }
  do_read();
  set_.on_opened(true);
}

void held_connection::do_read() {
  ws_.async_read(in_, beast::bind_front_handler(&held_connection::on_read, shared_from_this()));
}

void held_connection::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (closing_ && is_normal_end(ec)) return;
    set_.dropped.fetch_add(1);
    set_.ctx().fail(describe(closing_ ? "close" : "connection dropped", index_, ec));
    return;
  }
  auto text = frame_text(in_);
  in_.consume(in_.size());
  bool matched = ws_.got_text() && text == set_.expected_frame;
  if (matched)
    ++matched_;
  else
    set_.ctx().fail("connection " + std::to_string(index_) + " got an unexpected frame: " +
                    (ws_.got_text() ? "" : "(binary) ") + shorten(text));
  set_.on_frame(index_, matched);
  do_read();
}

void held_connection::ping() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->ws_.async_ping({}, [self](beast::error_code ec) {
      if (ec) self->set_.ctx().fail(describe("ping", self->index_, ec));
    });
  });
}

void held_connection::send(std::shared_ptr<const std::string> text) {
  net::post(ws_.get_executor(), [self = shared_from_this(), text] {
    self->out_.push_back(text);
    if (self->out_.size() == 1) self->do_write();
  });
}

void held_connection::do_write() {
  ws_.text(true);
  ws_.async_write(net::buffer(*out_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (ec) return self->set_.ctx().fail(describe("write", self->index_, ec));
    self->out_.pop_front();
    if (!self->out_.empty()) self->do_write();
  });
}

void held_connection::close() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    if (!self->ws_.is_open()) return;
    self->closing_ = true;
    self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code ec) {
      if (ec) self->set_.ctx().fail(describe("close", self->index_, ec));
      else self->set_.closed.fetch_add(1);
    });
  });
}

// Opens every connection; false (with the failure recorded) unless all came up in time.
bool open_connections(run_context& ctx, connection_set& set, double& open_seconds) {
  auto started = clock_type::now();
  set.open_all(ctx.opts().parallel);
  auto deadline = started + 30s + std::chrono::milliseconds(set.size());  // ~1,000 handshakes/s at worst
  bool done = ctx.wait_until([&] { return set.opened.load() + set.open_failed.load() >= set.size(); },
                             deadline);
  open_seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  if (!done || set.opened.load() < set.size()) {
    ctx.fail(std::to_string(set.opened.load()) + " of " + std::to_string(set.size()) +
             " connections came up in " + std::to_string(static_cast<int>(open_seconds)) + " s");
    return false;
  }
  return true;
}

// Closes every open connection; waits a bounded time.
void close_connections(run_context& ctx, connection_set& set) {
  for (std::size_t i = 0; i < set.size(); ++i) set.at(i).close();
  auto expected = set.opened.load() - set.dropped.load();
  if (!ctx.wait_until([&] { return set.closed.load() + set.dropped.load() >= set.opened.load(); },
                      clock_type::now() + 20s))
    ctx.fail(std::to_string(expected - set.closed.load()) + " connections did not close in 20 s");
}

int run_hold(run_context& ctx) {
  const auto& o = ctx.opts();
  std::string error;
  if (!raise_descriptor_limit(o.connections + 64, error)) {
    ctx.fail(error);
    auto line = common_fields(o);
    return report(ctx, line, error, false);
  }
  long rss_before = o.server_pid ? read_vm_rss_kib(o.server_pid) : -1;
  if (o.server_pid && rss_before < 0) ctx.fail("cannot read /proc/" + std::to_string(o.server_pid) + "/status");

  connection_set set(ctx, o.connections);
  ctx.start_threads();
  double open_seconds = 0;
  bool up = open_connections(ctx, set, open_seconds);
  long rss_after = -1;
  std::size_t pongs = 0;
  if (up) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
    if (o.server_pid) rss_after = read_vm_rss_kib(o.server_pid);
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, o.seconds - o.settle)));
    // Every connection must still answer: a ping each, a pong each.
    for (std::size_t i = 0; i < set.size(); ++i) set.at(i).ping();
    if (!ctx.wait_until([&] { return set.pongs.load() + set.dropped.load() >= set.size(); },
                        clock_type::now() + 20s))
      ctx.fail(std::to_string(set.size() - set.pongs.load()) + " connections did not answer a ping");
    pongs = set.pongs.load();
  }
  close_connections(ctx, set);
  ctx.stop_threads();

  double per_connection = -1;
  if (rss_before >= 0 && rss_after >= 0)
    per_connection = static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(o.connections);
  auto line = common_fields(o);
  line.add("connections", static_cast<std::uint64_t>(o.connections))
      .add("opened", static_cast<std::uint64_t>(set.opened.load()))
      .add("open_seconds", open_seconds)
      .add("pongs", static_cast<std::uint64_t>(pongs))
      .add("dropped", static_cast<std::uint64_t>(set.dropped.load()))
      .add("server_pid", o.server_pid)
      .add("rss_before_kib", rss_before)
      .add("rss_after_kib", rss_after)
      .add("rss_per_connection_bytes", per_connection);
  char summary[256];
  if (per_connection >= 0)
    std::snprintf(summary, sizeof summary,
                  "%zu of %zu connections up in %.1f s, %zu answered a ping; server VmRSS %ld -> %ld KiB: "
                  "%.0f bytes per connection",
                  set.opened.load(), o.connections, open_seconds, pongs, rss_before, rss_after, per_connection);
  else
    std::snprintf(summary, sizeof summary,
                  "%zu of %zu connections up in %.1f s, %zu answered a ping (no --server-pid: memory not read)",
                  set.opened.load(), o.connections, open_seconds, pongs);
  return report(ctx, line, summary, up && pongs == o.connections && set.dropped.load() == 0);
}

// ---------------------------------------------------------------------------------------------
// fanout: one sendmessage, every client receives it; closed-loop rounds

int run_fanout(run_context& ctx) {
  const auto& o = ctx.opts();
  std::string error;
  if (!raise_descriptor_limit(o.connections + 64, error)) {
    ctx.fail(error);
    auto line = common_fields(o);
    return report(ctx, line, error, false);
  }
  connection_set set(ctx, o.connections);
  set.expected_frame = "hi";
  auto request = std::make_shared<const std::string>(R"({"action":"sendmessage","data":"hi"})");

  // With one request in flight, round r is complete when r * K matching frames have arrived in
  // all; round 1 warms up. With N in flight, every K deliveries start the next request.
  const std::uint64_t k = o.connections;
  const auto in_flight = o.in_flight;
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> rounds_started{0};
  std::atomic<bool> finished{false};
  std::atomic<std::int64_t> round_sent_ns{0}, measure_begin_ns{0}, measure_end_ns{0};
  std::atomic<std::int64_t> stop_after_ns{INT64_MAX};
  std::mutex round_mutex;
  std::vector<std::uint32_t> round_us;  // guarded by round_mutex (written by the last receiver)

  auto start_round = [&] {
    rounds_started.fetch_add(1);
    round_sent_ns = now_ns();
    set.at(0).send(request);
  };
  set.on_delivery = [&](std::size_t) {
    auto n = delivered.fetch_add(1) + 1;
    if (n % k != 0) return;
    // K more deliveries: time them, then start the next request or stop.
    auto t = now_ns();
    auto round = n / k;
    if (round == 1) {
      measure_begin_ns = t;
      stop_after_ns = t + static_cast<std::int64_t>(o.seconds * 1e9);
    } else if (in_flight == 1) {
      std::lock_guard lock(round_mutex);
      round_us.push_back(static_cast<std::uint32_t>((t - round_sent_ns.load()) / 1000));
    }
    measure_end_ns = t;
    if (t < stop_after_ns && !ctx.stopping.load())
      start_round();
    else if (round >= rounds_started.load())
      finished = true;
  };

  ctx.start_threads();
  double open_seconds = 0;
  bool up = open_connections(ctx, set, open_seconds);
  if (up) {
    for (std::size_t i = 0; i < in_flight; ++i) start_round();
    // Bounded: stop when a round makes no progress for 5 s or the whole run overstays.
    auto hard_deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                  std::chrono::duration<double>(o.seconds + 30));
    auto last = delivered.load();
    auto last_progress = clock_type::now();
    while (!finished.load()) {
      std::this_thread::sleep_for(5ms);
      auto now = clock_type::now();
      if (auto d = delivered.load(); d != last) {
        last = d;
        last_progress = now;
      }
      if (now - last_progress > 5s || now > hard_deadline) {
        ctx.fail(std::to_string(delivered.load()) + " of " + std::to_string(rounds_started.load() * k) +
                 " deliveries arrived (" + std::to_string(k) + " clients, " +
                 std::to_string(rounds_started.load()) + " messages sent); none for 5 s");
        break;
      }
    }
    ctx.stopping = true;
  }
  close_connections(ctx, set);
  ctx.stop_threads();

  // Every client must have received exactly one frame per round.
  auto rounds = rounds_started.load();
  std::size_t short_clients = 0;
  for (std::size_t i = 0; i < set.size(); ++i)
    if (set.at(i).matched() != rounds) ++short_clients;
  if (up && short_clients)
    ctx.fail(std::to_string(short_clients) + " clients did not receive exactly one \"hi\" per round (" +
             std::to_string(rounds) + " rounds)");

  auto measured = rounds > 1 ? rounds - 1 : 0;
  double window = static_cast<double>(measure_end_ns.load() - measure_begin_ns.load()) / 1e9;
  double rate = measured && window > 0 ? static_cast<double>(measured * k) / window : 0;
  std::sort(round_us.begin(), round_us.end());
  auto line = common_fields(o);
  line.add("connections", k)
      .add("in_flight", static_cast<std::uint64_t>(in_flight))
      .add("open_seconds", open_seconds)
      .add("rounds", rounds)
      .add("seconds", window)
      .add("deliveries", delivered.load())
      .add("deliveries_per_s", rate)
      .add("round_p50_us", static_cast<std::uint64_t>(percentile(round_us, 0.50)))
      .add("round_p99_us", static_cast<std::uint64_t>(percentile(round_us, 0.99)));
  char summary[256];
  if (in_flight == 1)
    std::snprintf(summary, sizeof summary,
                  "%" PRIu64 " clients, %" PRIu64 " rounds in %.1f s: %.0f deliveries/s, round p50 %u us, "
                  "p99 %u us",
                  k, rounds, window, rate, percentile(round_us, 0.50), percentile(round_us, 0.99));
  else
    std::snprintf(summary, sizeof summary,
                  "%" PRIu64 " clients, %" PRIu64 " messages (%zu in flight) in %.1f s: %.0f deliveries/s",
                  k, rounds, in_flight, window, rate);
  return report(ctx, line, summary, up && rounds > 0 && short_clients == 0);
}

}  // namespace

int main(int argc, char* argv[]) {
  auto o = parse_options(argc, argv);
  std::string error;
  auto where = parse_url(o.url, error);
  if (!where) usage(error);
  run_context ctx(o, *where);
  if (o.scenario == "echo") return run_echo(ctx);
  if (o.scenario == "churn") return run_churn(ctx);
  if (o.scenario == "hold") return run_hold(ctx);
  return run_fanout(ctx);
}
