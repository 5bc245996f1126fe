// The benchmark's load generator: one process, one epoll loop per thread over non-blocking
// sockets, many WebSocket connections. It drives one scenario (echo, churn, hold or fanout)
// against a server on loopback, checks every answer, and prints one JSON line and one human line.
// Exit status: 0 when every check passed, 1 on any correctness failure, 2 on a bad command line.
//
// It must cost less than any server it measures, so it speaks the protocol itself: each
// connection's outgoing frame and expected reply are built once; a message costs a fresh masking
// key, the sequence number's digits, one send(), one recv() and a comparison of the reply's bytes
// with what was sent (no JSON parsing, no allocation). It reports its own CPU time per unit of
// work, from which the run derives the client's ceiling (see docs/performance.md).
//
// Thread-safety: a connection belongs to one worker thread (its epoll loop) for its whole life;
// the main thread talks to the workers through atomics and an eventfd per worker. Every scenario
// is bounded: the main thread gives up on anything that has not finished in time.

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

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
  long server_pid = 0;             // hold: whose VmRSS to read; all: whose CPU time to read
  unsigned threads = 1;            // worker threads (epoll loops)
  std::size_t payload_bytes = 64;  // echo: length of "data"
  std::size_t parallel = 256;      // hold, fanout: handshakes in flight while opening
  std::size_t in_flight = 1;       // fanout: sendmessage requests in flight
  std::size_t depth = 1;           // echo: messages in flight per connection
  double settle = 1.0;             // hold: seconds between the last handshake and reading VmRSS
  std::uint64_t count = 0;         // echo --messages, churn --cycles, fanout --rounds: exact work
  std::string label;               // copied into the JSON line (e.g. "baseline", "emulator")
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr
      << "apigw_load_generator: " << error << "\n"
      << "usage: apigw_load_generator --url ws://127.0.0.1:PORT/STAGE --scenario echo|churn|hold|fanout\n"
         "         [--connections N] [--seconds S] [--warmup S] [--server-pid PID] [--threads N]\n"
         "         [--payload-bytes N] [--parallel N] [--settle S] [--in-flight N] [--depth N]\n"
         "         [--label TEXT]\n"
         "         [--messages N | --cycles N | --rounds N]\n"
         "  echo    N connections (default 50) in closed loop send {\"action\":\"echo\",\"data\":...};\n"
         "          every reply must equal what was sent. Reports messages/s, p50/p99 latency (us).\n"
         "          --messages N: exactly N messages per connection, then close (no timing).\n"
         "          --depth N: N messages in flight per connection (default 1; at most 64): a\n"
         "          connection sends N at once, then one more for each reply, and the messages\n"
         "          to send after the replies one read brings go out in one send().\n"
         "  churn   N workers (default 10) connect, handshake and close, for S seconds (default 5);\n"
         "          every handshake must succeed. Reports handshakes/s. --cycles N: exactly N each.\n"
         "  hold    opens N idle connections (default 10000), holds them S seconds (default 2),\n"
         "          pings each; reports the server's VmRSS growth per connection (--server-pid).\n"
         "  fanout  N connections (default 1000); one sends {\"action\":\"sendmessage\",\"data\":\"hi\"}\n"
         "          in closed-loop rounds for S seconds (default 5); every client must get \"hi\"\n"
         "          once per round. Reports deliveries/s. --in-flight N keeps N requests going.\n"
         "          --rounds N: exactly N rounds after the first.\n"
         "  Every timed scenario also reports the client's CPU time per unit of work and the rate\n"
         "  that would saturate one of its cores (client_ceiling_per_s), and with --server-pid the\n"
         "  server's CPU time per unit and that of the processes it started (children_*: e.g. the\n"
         "  emulator's function processes). echo also reports each connection's first reply\n"
         "  (first_reply_p50_us, first_reply_max_us: from its first message to the reply).\n";
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
    else if (arg == "--threads") o.threads = static_cast<unsigned>(integer(1, 64));
    else if (arg == "--payload-bytes") o.payload_bytes = integer(0, 65536);
    else if (arg == "--parallel") o.parallel = integer(1, 100000);
    else if (arg == "--settle") o.settle = real(0, 600);
    else if (arg == "--in-flight") o.in_flight = integer(1, 1000);
    else if (arg == "--depth") o.depth = integer(1, 64);
    else if (arg == "--messages" || arg == "--cycles" || arg == "--rounds") o.count = integer(1, 1u << 30);
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
  if (o.count && o.scenario == "hold") usage("hold has no exact count");
  if (o.connections == 0) o.connections = it->connections;
  if (o.seconds < 0) o.seconds = it->seconds;
  if (o.warmup < 0) o.warmup = it->warmup;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Where to connect

struct target {
  sockaddr_in address{};
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
  char* end = nullptr;
  auto port_number = std::strtoul(port.c_str(), &end, 10);
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1 || port.empty() || *end != '\0' || port_number == 0 ||
      port_number > 65535) {
    error = "bad host or port (an IPv4 address is needed) in " + url;
    return std::nullopt;
  }
  if ((ntohl(a.s_addr) >> 24) != 127) {
    error = "load tests stay on loopback; refusing " + url;
    return std::nullopt;
  }
  t.address.sin_family = AF_INET;
  t.address.sin_addr = a;
  t.address.sin_port = htons(static_cast<std::uint16_t>(port_number));
  t.host = authority;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Small tools

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// CPU time of this process (every thread, user and system), in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The numeric fields of /proc/PID/stat from state (3) to cstime (17), by field number; false when
// unreadable (the process is gone).
bool read_proc_stat(long pid, std::array<unsigned long long, 18>& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return false;
  const char* p = text.c_str() + paren + 2;
  field.fill(0);
  for (int n = 3; n <= 17; ++n) {
    if (n > 3) field[n] = std::strtoull(p, nullptr, 10);  // 3 is the state letter
    const char* space = std::strchr(p, ' ');
    if (!space) return false;
    p = space + 1;
  }
  return true;
}

// CPU time of PID (every thread, user and system) from /proc/PID/stat, in seconds; -1 when unreadable.
double server_cpu_seconds(long pid) {
  std::array<unsigned long long, 18> f{};
  if (pid <= 0 || !read_proc_stat(pid, f)) return -1;
  // utime(14) stime(15).
  return static_cast<double>(f[14] + f[15]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU time of PID's descendants (the processes it started, e.g. the emulator's function
// processes, and theirs), in seconds: those alive now, from /proc, plus those it has reaped
// (its cutime and cstime). A process that exits between two readings moves from the first part
// to the second with all its time. -1 when PID is unreadable. COUNT: how many are alive.
double descendants_cpu_seconds(long pid, std::size_t* count) {
  std::array<unsigned long long, 18> f{};
  if (pid <= 0 || !read_proc_stat(pid, f)) return -1;
  unsigned long long ticks = f[16] + f[17];  // cutime(16) cstime(17): reaped children
  // Every process's parent (field 4), then the ones below PID.
  std::vector<std::pair<long, long>> parent_of;  // (pid, ppid)
  std::vector<unsigned long long> own;
  if (DIR* proc = opendir("/proc")) {
    while (dirent* e = readdir(proc)) {
      char* end = nullptr;
      long p = std::strtol(e->d_name, &end, 10);
      if (p <= 0 || *end != '\0' || p == pid) continue;
      if (!read_proc_stat(p, f)) continue;
      parent_of.emplace_back(p, static_cast<long>(f[4]));
      own.push_back(f[14] + f[15]);
    }
    closedir(proc);
  }
  std::vector<long> below{pid};
  std::vector<bool> taken(parent_of.size(), false);
  for (bool found = true; found;) {
    found = false;
    for (std::size_t i = 0; i < parent_of.size(); ++i) {
      if (taken[i] || std::find(below.begin(), below.end(), parent_of[i].second) == below.end()) continue;
      taken[i] = true;
      below.push_back(parent_of[i].first);
      ticks += own[i];
      found = true;
    }
  }
  if (count) *count = below.size() - 1;
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
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

std::string shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 120)) out += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (s.size() > 120) out += "...";
  return out;
}

// Nearest-rank percentile of a histogram of microseconds (bucket i: i us; the last: more).
struct histogram {
  static constexpr std::size_t buckets = 1u << 17;  // up to ~131 ms exactly
  std::vector<std::uint32_t> counts = std::vector<std::uint32_t>(buckets, 0);
  std::uint64_t total = 0;
  std::uint32_t max = 0;

  void add(std::int64_t us) {
    auto v = static_cast<std::uint32_t>(std::clamp<std::int64_t>(us, 0, UINT32_MAX));
    ++counts[std::min<std::size_t>(v, buckets - 1)];
    ++total;
    max = std::max(max, v);
  }
  void merge(const histogram& h) {
    for (std::size_t i = 0; i < buckets; ++i) counts[i] += h.counts[i];
    total += h.total;
    max = std::max(max, h.max);
  }
  std::uint32_t percentile(double q) const {
    if (total == 0) return 0;
    auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total))), 1, total);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
      seen += counts[i];
      if (seen >= rank) return i == buckets - 1 ? max : static_cast<std::uint32_t>(i);
    }
    return max;
  }
};

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

// ---------------------------------------------------------------------------------------------
// The protocol: the opening handshake, client frames (masked), server frames (unmasked)

std::string base64(const unsigned char* data, std::size_t n) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < n; i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(data[i]) << 16;
    if (i + 1 < n) v |= static_cast<std::uint32_t>(data[i + 1]) << 8;
    if (i + 2 < n) v |= data[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? alphabet[v & 63] : '=';
  }
  return out;
}

// Sec-WebSocket-Accept for KEY (RFC 6455, section 4.2.2).
std::string accept_for(const std::string& key) {
  auto text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return base64(digest, sizeof digest);
}

struct rng {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

enum opcode : std::uint8_t { op_cont = 0, op_text = 1, op_binary = 2, op_close = 8, op_ping = 9, op_pong = 10 };

std::size_t client_header_size(std::size_t n) { return (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4; }

// Writes a client frame header for N payload bytes with KEY into OUT; returns its size.
std::size_t write_client_header(char* out, opcode op, std::size_t n, std::uint32_t key) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>(0x80 | op);
  std::size_t h;
  if (n < 126) {
    p[1] = static_cast<unsigned char>(0x80 | n);
    h = 2;
  } else if (n < 65536) {
    p[1] = 0x80 | 126;
    p[2] = static_cast<unsigned char>(n >> 8);
    p[3] = static_cast<unsigned char>(n);
    h = 4;
  } else {
    p[1] = 0x80 | 127;
    for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (56 - 8 * i));
    h = 10;
  }
  std::memcpy(p + h, &key, 4);
  return h + 4;
}

// OUT[i] = IN[i] ^ KEY[i % 4], eight bytes at a time.
void mask_copy(char* out, const char* in, std::size_t n, std::uint32_t key) {
  std::uint64_t k8 = (static_cast<std::uint64_t>(key) << 32) | key;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, in + i, 8);
    v ^= k8;
    std::memcpy(out + i, &v, 8);
  }
  const auto* kb = reinterpret_cast<const unsigned char*>(&key);
  for (; i < n; ++i) out[i] = static_cast<char>(in[i] ^ kb[i & 3]);
}

// A complete client frame with a fresh key: for control frames and occasional messages.
std::string client_frame(opcode op, std::string_view payload, rng& r) {
  std::string f(client_header_size(payload.size()) + payload.size(), '\0');
  auto key = static_cast<std::uint32_t>(r.next());
  auto h = write_client_header(f.data(), op, payload.size(), key);
  mask_copy(f.data() + h, payload.data(), payload.size(), key);
  return f;
}

// ---------------------------------------------------------------------------------------------
// Connections and worker threads

class worker;
struct run_context;

enum class state { idle, connecting, handshaking, open, closing, wait_eof, done };

struct connection {
  std::size_t index = 0;
  worker* owner = nullptr;
  int fd = -1;
  state st = state::idle;
  std::uint32_t generation = 0;  // one more for every connect()
  rng random{0};

  // Received bytes not yet consumed; grows only for a frame larger than it.
  std::unique_ptr<char[]> in;
  std::size_t in_cap = 0, in_len = 0;
  // Bytes that send() did not take; reserved once, so appending does not allocate.
  std::string out;
  std::string accept;  // the Sec-WebSocket-Accept expected

  // The message being received: how much of it matched EXPECT so far.
  std::string_view expect;
  bool in_message = false, message_text = false, message_matched = true;
  std::size_t message_offset = 0;

  // Scenario state.
  std::string plain;    // echo: the payload sent last
  std::string replied;  // echo: the payload whose reply comes next (EXPECT views it)
  std::string frames;   // echo: client frames waiting for the end of the current read
  std::size_t digits_at = 0, digits_len = 0;  // echo: where the sequence number is in PLAIN
  std::array<std::int64_t, 64> sent_ns{};     // echo: when message N went out, at N % 64
  std::uint64_t sent = 0, received = 0, matched = 0;
  bool opened = false;  // the handshake completed (this time round)
  std::int64_t first_reply_us = -1;  // echo: from the first message to its reply
};

// Work the main thread (or another worker) asks of a worker.
enum command : unsigned { cmd_ping = 1, cmd_close = 2, cmd_open = 4, cmd_send = 8 };

class scenario_base {
 public:
  virtual ~scenario_base() = default;
  virtual void on_open(connection& c) = 0;
  virtual void on_message(connection& c, bool matched, std::string_view last, bool text) = 0;
  // After the frames of one read were handled (the connection is still open).
  virtual void after_frames(connection&) {}
  virtual void on_pong(connection&) {}
  virtual void on_closed(connection& c, bool ok) = 0;
  // cmd_open: connects every connection of the worker; scenarios may pace it.
  virtual void on_command(worker& w, unsigned cmd);
};

struct run_context {
  run_context(const options& o, target t) : opts(o), where(std::move(t)) {}

  const options& opts;
  target where;
  scenario_base* scenario = nullptr;
  std::vector<std::unique_ptr<worker>> workers;
  std::vector<std::unique_ptr<connection>> connections;
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> window_begin{INT64_MAX}, window_end{INT64_MAX};

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

  void start_workers();
  void stop_workers();
  void command_all(unsigned cmd);

  // Waits until DONE() or DEADLINE; true when DONE() held.
  template <class Pred>
  bool wait_until(Pred done, clock_type::time_point deadline) {
    while (!done()) {
      if (clock_type::now() >= deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

 private:
  std::atomic<std::uint64_t> failures_{0};
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

std::string describe(const char* what, const connection& c, int error) {
  return std::string(what) + " (connection " + std::to_string(c.index) + "): " + std::strerror(error);
}
std::string describe(const char* what, const connection& c, const std::string& detail) {
  return std::string(what) + " (connection " + std::to_string(c.index) + "): " + detail;
}

class worker {
 public:
  worker(run_context& ctx, std::size_t id) : ctx_(ctx), id_(id) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_ < 0 || wake_ < 0) {
      std::perror("apigw_load_generator: epoll/eventfd");
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
  }
  ~worker() {
    close(epoll_);
    close(wake_);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  std::size_t id() const { return id_; }
  run_context& ctx() { return ctx_; }
  std::vector<connection*>& mine() { return mine_; }

  // Counters read by the main thread while the worker runs (one writer: this worker).
  std::atomic<std::uint64_t> units{0};
  histogram latency;            // echo: read after the thread stopped
  std::uint64_t mismatches = 0;  // read after the thread stopped

  void bump_units() { units.store(units.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  void start() { thread_ = std::thread([this] { loop(); }); }
  void stop() {
    quit_ = true;
    wake(0);
    if (thread_.joinable()) thread_.join();
  }
  void wake(unsigned cmd) {
    commands_.fetch_or(cmd);
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = write(wake_, &one, sizeof one);
  }

  // On this worker's thread from here on.
  void connect(connection& c);
  void send(connection& c, const char* data, std::size_t n);
  void send_close(connection& c);
  void finish(connection& c, bool ok, const std::string& error);

 private:
  void loop();
  void on_writable(connection& c, bool error);
  void on_readable(connection& c, bool peer_closed);
  bool on_handshake_bytes(connection& c);
  void on_frames(connection& c);
  bool flush(connection& c);

  run_context& ctx_;
  std::size_t id_;
  int epoll_ = -1, wake_ = -1;
  std::thread thread_;
  std::atomic<bool> quit_{false};
  std::atomic<unsigned> commands_{0};
  std::vector<connection*> mine_;
};

void run_context::start_workers() {
  for (auto& w : workers) w->start();
}
void run_context::stop_workers() {
  for (auto& w : workers) w->stop();
}
void run_context::command_all(unsigned cmd) {
  for (auto& w : workers) w->wake(cmd);
}

void scenario_base::on_command(worker& w, unsigned cmd) {
  if (cmd & cmd_open)
    for (auto* c : w.mine()) w.connect(*c);
}

void worker::loop() {
  std::array<epoll_event, 256> events{};
  while (!quit_.load(std::memory_order_relaxed)) {
    int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
    if (n < 0 && errno != EINTR) {
      ctx_.fail(std::string("epoll_wait: ") + std::strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<connection*>(events[static_cast<std::size_t>(i)].data.ptr);
      if (!c) {
        std::uint64_t value;
        [[maybe_unused]] auto r = read(wake_, &value, sizeof value);
        if (auto cmd = commands_.exchange(0)) ctx_.scenario->on_command(*this, cmd);
        continue;
      }
      if (c->fd < 0) continue;
      auto e = events[static_cast<std::size_t>(i)].events;
      auto generation = c->generation;
      if (e & EPOLLOUT) on_writable(*c, e & EPOLLERR);
      if (c->fd >= 0 && c->generation == generation && (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
        on_readable(*c, e & (EPOLLRDHUP | EPOLLHUP));
    }
  }
}

void worker::connect(connection& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return finish(c, false, describe("socket", c, errno));
  ++c.generation;
  c.in_len = 0;
  c.out.clear();
  c.in_message = false;
  c.opened = false;
  c.st = state::connecting;
  const auto& a = ctx_.where.address;
  if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)
    return finish(c, false, describe("connect", c, errno));
  // Edge-triggered, registered once: no epoll_ctl per message, none to unregister (close() does).
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return finish(c, false, describe("epoll_ctl", c, errno));
}

void worker::on_writable(connection& c, bool error) {
  if (c.st == state::connecting) {
    if (error) {
      int code = 0;
      socklen_t len = sizeof code;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &code, &len);
      return finish(c, false, describe("connect", c, code ? code : ECONNREFUSED));
    }
    // The opening handshake, with a fresh key.
    unsigned char raw[16];
    for (int i = 0; i < 16; i += 8) {
      auto v = c.random.next();
      std::memcpy(raw + i, &v, 8);
    }
    auto key = base64(raw, sizeof raw);
    c.accept = accept_for(key);
    c.st = state::handshaking;
    std::string request = "GET " + ctx_.where.path + " HTTP/1.1\r\nHost: " + ctx_.where.host +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: apigw-load-generator\r\n\r\n";
    return send(c, request.data(), request.size());
  }
  flush(c);
}

// Sends what is queued; true when nothing is left.
bool worker::flush(connection& c) {
  while (!c.out.empty()) {
    auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      finish(c, false, describe("send", c, errno));
      return false;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

void worker::send(connection& c, const char* data, std::size_t n) {
  if (c.out.empty()) {
    auto sent = ::send(c.fd, data, n, MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(n)) return;
    if (sent < 0) {
      if (errno != EAGAIN && errno != EINTR) return finish(c, false, describe("send", c, errno));
      sent = 0;
    }
    data += sent;
    n -= static_cast<std::size_t>(sent);
  }
  c.out.append(data, n);  // the next EPOLLOUT edge sends it
}

void worker::send_close(connection& c) {
  if (c.st != state::open) return;
  static constexpr char code[2] = {0x03, static_cast<char>(0xe8)};  // 1000: normal closure
  auto f = client_frame(op_close, std::string_view(code, 2), c.random);
  c.st = state::closing;
  send(c, f.data(), f.size());
}

void worker::finish(connection& c, bool ok, const std::string& error) {
  if (c.fd >= 0) {
    close(c.fd);
    c.fd = -1;
  }
  c.st = state::done;
  if (!ok) ctx_.fail(error);
  ctx_.scenario->on_closed(c, ok);
}

// Edge-triggered: reads until a read comes back short (the socket is then empty) or the peer
// has closed. PEER_CLOSED: the event said the peer shut down its side.
void worker::on_readable(connection& c, bool peer_closed) {
  auto generation = c.generation;
  for (;;) {
    if (c.in_len == c.in_cap) {
      // A frame larger than the buffer (not in these scenarios' replies): make room.
      auto bigger = std::make_unique<char[]>(c.in_cap * 2);
      std::memcpy(bigger.get(), c.in.get(), c.in_len);
      c.in = std::move(bigger);
      c.in_cap *= 2;
    }
    auto space = c.in_cap - c.in_len;
    auto n = recv(c.fd, c.in.get() + c.in_len, space, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      return finish(c, false, describe(c.st == state::open ? "connection dropped" : "read", c, errno));
    }
    if (n == 0) {
      if (c.st == state::wait_eof) return finish(c, true, {});
      return finish(c, false, describe(c.st == state::handshaking ? "handshake" : "connection dropped", c,
                                       "the server closed the TCP connection"));
    }
    c.in_len += static_cast<std::size_t>(n);
    if (c.st == state::handshaking && !on_handshake_bytes(c)) {
      if (c.fd < 0 || c.generation != generation) return;
      if (static_cast<std::size_t>(n) < space) return;
      continue;
    }
    if (c.st == state::open || c.st == state::closing) {
      on_frames(c);
      if (c.fd >= 0 && c.generation == generation) ctx_.scenario->after_frames(c);
    }
    if (c.fd < 0 || c.generation != generation) return;
    // The close handshake is done and the peer has closed too: no read needed to see the end.
    if (c.st == state::wait_eof && peer_closed && c.in_len == 0) return finish(c, true, {});
    if (static_cast<std::size_t>(n) < space && !peer_closed) return;
  }
}

bool worker::on_handshake_bytes(connection& c) {
  std::string_view text(c.in.get(), c.in_len);
  auto end = text.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (c.in_len == c.in_cap) finish(c, false, describe("handshake", c, "response headers too large"));
    return false;
  }
  auto head = text.substr(0, end + 2);
  auto status = head.substr(0, head.find("\r\n"));
  if (!status.starts_with("HTTP/1.1 101")) {
    finish(c, false, describe("handshake", c, "the server answered " + shorten(status)));
    return false;
  }
  bool accepted = false;
  for (std::size_t at = head.find("\r\n") + 2; at < head.size();) {
    auto eol = head.find("\r\n", at);
    auto line = head.substr(at, eol - at);
    at = eol + 2;
    constexpr std::string_view name = "sec-websocket-accept:";
    if (line.size() < name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
    if (!same) continue;
    auto value = line.substr(name.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    accepted = value == c.accept;
  }
  if (!accepted) {
    finish(c, false, describe("handshake", c, "no valid Sec-WebSocket-Accept"));
    return false;
  }
  auto consumed = end + 4;
  std::memmove(c.in.get(), c.in.get() + consumed, c.in_len - consumed);
  c.in_len -= consumed;
  c.st = state::open;
  c.opened = true;
  ctx_.scenario->on_open(c);
  return c.fd >= 0;
}

// Every complete frame in the buffer; data frames are compared with EXPECT as they come.
void worker::on_frames(connection& c) {
  std::size_t at = 0;
  auto generation = c.generation;
  auto same = [&] { return c.fd >= 0 && c.generation == generation; };
  while (same()) {
    const auto* p = reinterpret_cast<const unsigned char*>(c.in.get() + at);
    std::size_t have = c.in_len - at;
    if (have < 2) break;
    bool fin = p[0] & 0x80;
    auto op = static_cast<opcode>(p[0] & 0x0f);
    if ((p[0] & 0x70) || (p[1] & 0x80)) {
      return finish(c, false, describe("protocol", c, "a server frame with RSV bits or a mask"));
    }
    std::uint64_t len = p[1] & 0x7f;
    std::size_t h = 2;
    if (len == 126) {
      if (have < 4) break;
      len = (std::uint64_t{p[2]} << 8) | p[3];
      h = 4;
    } else if (len == 127) {
      if (have < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      h = 10;
    }
    if (len > (64u << 20)) return finish(c, false, describe("protocol", c, "a frame over 64 MiB"));
    if (have < h + len) {
      if (at == 0 && h + len > c.in_cap) {
        // Grow to hold the whole frame.
        auto cap = c.in_cap;
        while (cap < h + len) cap *= 2;
        auto bigger = std::make_unique<char[]>(cap);
        std::memcpy(bigger.get(), c.in.get(), c.in_len);
        c.in = std::move(bigger);
        c.in_cap = cap;
      }
      break;
    }
    std::string_view payload(c.in.get() + at + h, static_cast<std::size_t>(len));
    at += h + static_cast<std::size_t>(len);
    if (op == op_text || op == op_binary || op == op_cont) {
      if ((op == op_cont) != c.in_message)
        return finish(c, false, describe("protocol", c, "a fragment out of order"));
      if (op != op_cont) {
        c.in_message = true;
        c.message_text = op == op_text;
        c.message_matched = true;
        c.message_offset = 0;
      }
      if (c.message_matched)
        c.message_matched = c.message_offset + payload.size() <= c.expect.size() &&
                            std::memcmp(payload.data(), c.expect.data() + c.message_offset, payload.size()) == 0;
      c.message_offset += payload.size();
      if (fin) {
        c.in_message = false;
        bool matched = c.message_matched && c.message_offset == c.expect.size() && c.message_text;
        ctx_.scenario->on_message(c, matched, payload, c.message_text);
      }
    } else if (op == op_ping) {
      if (c.st == state::open) {
        auto f = client_frame(op_pong, payload, c.random);
        send(c, f.data(), f.size());
      }
    } else if (op == op_pong) {
      ctx_.scenario->on_pong(c);
    } else if (op == op_close) {
      if (c.st == state::closing) {
        c.st = state::wait_eof;
      } else {
        std::string detail = "the server closed the connection";
        if (payload.size() >= 2)
          detail += " (code " + std::to_string((static_cast<unsigned char>(payload[0]) << 8) |
                                               static_cast<unsigned char>(payload[1])) + ")";
        return finish(c, false, describe("connection dropped", c, detail));
      }
    } else {
      return finish(c, false, describe("protocol", c, "an unknown opcode"));
    }
  }
  if (!same()) return;
  if (at) {
    std::memmove(c.in.get(), c.in.get() + at, c.in_len - at);
    c.in_len -= at;
  }
}

// Creates N connections spread over the workers (connection i on worker i % threads).
void make_connections(run_context& ctx, std::size_t n, std::size_t in_cap, std::size_t out_reserve) {
  std::random_device seed;
  for (unsigned t = 0; t < ctx.opts.threads; ++t) ctx.workers.push_back(std::make_unique<worker>(ctx, t));
  ctx.connections.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = std::make_unique<connection>();
    c->index = i;
    c->owner = ctx.workers[i % ctx.workers.size()].get();
    c->random.state = (static_cast<std::uint64_t>(seed()) << 32 | seed()) | 1;
    c->in_cap = in_cap;
    c->in = std::make_unique<char[]>(in_cap);
    c->out.reserve(out_reserve);
    c->owner->mine().push_back(c.get());
    ctx.connections.push_back(std::move(c));
  }
}

// ---------------------------------------------------------------------------------------------
// Reports

// The work done in the measured window, and the CPU time both sides spent on it.
struct window_sample {
  std::int64_t ns = 0;
  double client_cpu = 0, server_cpu = -1, children_cpu = -1;
  std::size_t children = 0;
  std::uint64_t units = 0;
};

std::uint64_t total_units(run_context& ctx) {
  std::uint64_t n = 0;
  for (auto& w : ctx.workers) n += w->units.load(std::memory_order_relaxed);
  return n;
}

// OPENING: the sample that opens a window. The walk over /proc for the server's children is
// kept outside the window (before its opening, after its closing): it must not count as the
// client's work.
// UNITS() reads the work done so far.
template <class Units>
window_sample sample(run_context& ctx, Units units, bool opening) {
  window_sample s;
  if (opening) s.children_cpu = descendants_cpu_seconds(ctx.opts.server_pid, &s.children);
  s.ns = now_ns();
  s.client_cpu = process_cpu_seconds();
  s.server_cpu = server_cpu_seconds(ctx.opts.server_pid);
  s.units = units();
  if (!opening) s.children_cpu = descendants_cpu_seconds(ctx.opts.server_pid, &s.children);
  return s;
}

// A run of exact work (--messages, --cycles): the sample before, START (which sets the work going
// when it is not going yet), the wait for all COUNT connections to have FINISHED (at most 10
// minutes), the sample after.
template <class Start>
std::pair<window_sample, window_sample> measure_exact_work(run_context& ctx, const std::atomic<std::size_t>& finished,
                                                           std::size_t count, Start start) {
  const window_sample a = sample(ctx, [] { return std::uint64_t{0}; }, true);
  start();
  ctx.wait_until([&] { return finished.load() >= count; }, clock_type::now() + 600s);
  return {a, sample(ctx, [&] { return total_units(ctx); }, false)};
}

// The measured window of a timed run, [begin, end): it opens after --warmup and lasts --seconds,
// or is empty when EMPTY (a run that has already failed need not last). What the workers measure
// only inside it: echo's latencies, churn's cycles.
std::pair<std::int64_t, std::int64_t> open_window(run_context& ctx, bool empty) {
  const std::int64_t begin = now_ns() + static_cast<std::int64_t>(ctx.opts.warmup * 1e9);
  const std::int64_t end = empty ? begin : begin + static_cast<std::int64_t>(ctx.opts.seconds * 1e9);
  ctx.window_begin = begin;
  ctx.window_end = end;
  return {begin, end};
}

void sleep_until_ns(std::int64_t t) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(std::max<std::int64_t>(0, t - now_ns())));
}

// Adds the rate and the CPU cost of both sides over [A, B]; returns the rate.
double add_cost_fields(json_line& line, const char* unit, const window_sample& a, const window_sample& b,
                       std::string& summary) {
  double seconds = static_cast<double>(b.ns - a.ns) / 1e9;
  auto units = b.units - a.units;
  double rate = seconds > 0 ? static_cast<double>(units) / seconds : 0;
  double client = b.client_cpu - a.client_cpu;
  double ceiling = client > 0 ? static_cast<double>(units) / client : 0;
  line.add("window_seconds", seconds)
      .add("window_units", units)
      .add("client_cpu_seconds", client)
      .add("client_busy", seconds > 0 ? client / seconds : 0.0)
      .add("client_cpu_us_per_unit", units ? client * 1e6 / static_cast<double>(units) : 0.0)
      .add("client_ceiling_per_s", ceiling);
  char text[256];
  std::snprintf(text, sizeof text, "; client: %.2f us CPU per %s (%.0f%% of a core), ceiling %.0f/s",
                units ? client * 1e6 / static_cast<double>(units) : 0.0, unit,
                seconds > 0 ? 100 * client / seconds : 0.0, ceiling);
  summary += text;
  if (a.server_cpu >= 0 && b.server_cpu >= 0) {
    double server = b.server_cpu - a.server_cpu;
    line.add("server_cpu_seconds", server)
        .add("server_busy", seconds > 0 ? server / seconds : 0.0)
        .add("server_cpu_us_per_unit", units ? server * 1e6 / static_cast<double>(units) : 0.0);
    std::snprintf(text, sizeof text, "; server: %.2f us CPU per %s (%.0f%% of a core)",
                  units ? server * 1e6 / static_cast<double>(units) : 0.0, unit,
                  seconds > 0 ? 100 * server / seconds : 0.0);
    summary += text;
  }
  // The processes the server started (function processes): their CPU is not the server's own.
  if (a.children_cpu >= 0 && b.children_cpu >= 0 && (a.children || b.children || b.children_cpu > a.children_cpu)) {
    double children = b.children_cpu - a.children_cpu;
    line.add("children", static_cast<std::uint64_t>(b.children))
        .add("children_cpu_seconds", children)
        .add("children_busy", seconds > 0 ? children / seconds : 0.0)
        .add("children_cpu_us_per_unit", units ? children * 1e6 / static_cast<double>(units) : 0.0);
    std::snprintf(text, sizeof text, "; its %zu child processes: %.2f us CPU per %s (%.0f%% of a core)",
                  b.children, units ? children * 1e6 / static_cast<double>(units) : 0.0, unit,
                  seconds > 0 ? 100 * children / seconds : 0.0);
    summary += text;
  }
  return rate;
}

// Adds the fields every scenario reports, prints both lines, and returns the exit status.
int report(run_context& ctx, json_line& line, const std::string& summary, bool ok) {
  auto failures = ctx.failure_messages();
  ok = ok && ctx.failures() == 0;
  line.add("client_threads", static_cast<std::uint64_t>(ctx.opts.threads));
  line.add("errors", static_cast<std::uint64_t>(ctx.failures()));
  line.add("first_error", failures.empty() ? std::string() : failures.front());
  line.add("ok", ok);
  std::printf("%s\n", line.str().c_str());
  std::printf("%s %s: %s%s\n", ctx.opts.scenario.c_str(),
              ctx.opts.label.empty() ? ctx.opts.url.c_str() : ctx.opts.label.c_str(), summary.c_str(),
              ok ? "" : " -- FAILED");
  for (const auto& f : failures) std::printf("  error: %s\n", f.c_str());
  std::fflush(stdout);
  return ok ? 0 : 1;
}

json_line common_fields(const options& o) {
  json_line line;
  line.add("scenario", o.scenario).add("label", o.label).add("url", o.url);
  return line;
}

// ---------------------------------------------------------------------------------------------
// echo: closed loop, --depth messages in flight per connection (one by default)

class echo_scenario : public scenario_base {
 public:
  explicit echo_scenario(run_context& ctx) : ctx_(ctx) {}

  std::atomic<std::size_t> connected{0}, finished{0};

  // The payload names the connection and carries a fixed-width sequence number, so a reply sent
  // to the wrong connection, a stale one or one out of order is caught:
  // {"action":"echo","data":"c<i>-<seq>-xxx"}.
  void prepare(connection& c) {
    constexpr std::string_view prefix = R"({"action":"echo","data":")";
    c.plain.assign(prefix);
    c.plain += 'c';
    c.plain += std::to_string(c.index);
    c.plain += '-';
    c.digits_at = c.plain.size();
    c.digits_len = 12;
    c.plain.append(c.digits_len, '0');
    c.plain += '-';
    auto data_so_far = c.plain.size() - prefix.size();
    auto want = ctx_.opts.payload_bytes;
    if (want > data_so_far) c.plain.append(want - data_so_far, 'x');
    c.plain += R"("})";
    c.replied = c.plain;
    next_number(c, c.replied);
    c.expect = c.replied;
    c.frames.reserve(ctx_.opts.depth * (client_header_size(c.plain.size()) + c.plain.size()));
  }

  void on_open(connection& c) override {
    connected.fetch_add(1);
    const auto now = now_ns();
    while (c.sent < ctx_.opts.depth && may_send(c)) add_next(c, now);
    after_frames(c);
  }

  void on_message(connection& c, bool matched, std::string_view last, bool text) override {
    auto received = now_ns();
    auto& w = *c.owner;
    const auto sent_at = c.sent_ns[c.received % c.sent_ns.size()];
    ++c.received;
    if (!matched) {
      if (w.mismatches++ == 0)
        ctx_.fail("connection " + std::to_string(c.index) + " expected " + shorten(c.replied) + " got " +
                  (text ? "" : "(binary) ") + shorten(last));
    } else {
      if (c.matched++ == 0) c.first_reply_us = (received - sent_at) / 1000;
      w.bump_units();
      if (sent_at >= ctx_.window_begin.load(std::memory_order_relaxed) &&
          received <= ctx_.window_end.load(std::memory_order_relaxed))
        w.latency.add((received - sent_at) / 1000);
    }
    next_number(c, c.replied);
    if (may_send(c)) add_next(c, received);
  }

  // The messages the replies of this read asked for go out together; once no more may be sent,
  // the connection closes when the last reply is in.
  void after_frames(connection& c) override {
    if (!c.frames.empty()) {
      c.owner->send(c, c.frames.data(), c.frames.size());
      c.frames.clear();
    }
    if (c.st == state::open && !may_send(c) && c.received == c.sent) c.owner->send_close(c);
  }

  void on_closed(connection& c, bool) override {
    finished.fetch_add(1);
    (void)c;
  }

 private:
  bool may_send(const connection& c) const {
    return ctx_.opts.count ? c.sent < ctx_.opts.count : !ctx_.stopping.load(std::memory_order_relaxed);
  }

  // The next sequence number in PAYLOAD, in place.
  static void next_number(const connection& c, std::string& payload) {
    for (auto i = c.digits_at + c.digits_len; i-- > c.digits_at;) {
      if (payload[i] != '9') {
        ++payload[i];
        break;
      }
      payload[i] = '0';
    }
  }

  // The next message, with a fresh key over the whole payload, onto the frames to send (at NOW).
  void add_next(connection& c, std::int64_t now) {
    next_number(c, c.plain);
    c.sent_ns[c.sent % c.sent_ns.size()] = now;
    ++c.sent;
    auto key = static_cast<std::uint32_t>(c.random.next());
    const auto at = c.frames.size();
    c.frames.resize(at + client_header_size(c.plain.size()) + c.plain.size());
    auto h = write_client_header(c.frames.data() + at, op_text, c.plain.size(), key);
    mask_copy(c.frames.data() + at + h, c.plain.data(), c.plain.size(), key);
  }

  run_context& ctx_;
};

int run_echo(run_context& ctx) {
  const auto& o = ctx.opts;
  echo_scenario s(ctx);
  ctx.scenario = &s;
  make_connections(ctx, o.connections, std::max<std::size_t>(4096, 2 * o.payload_bytes + 256), 256);
  for (auto& c : ctx.connections) s.prepare(*c);
  ctx.start_workers();
  ctx.command_all(cmd_open);

  bool all_up = ctx.wait_until([&] { return s.connected.load() + s.finished.load() >= o.connections; },
                               clock_type::now() + 15s);
  if (!all_up || s.connected.load() < o.connections) {
    ctx.fail(std::to_string(s.connected.load()) + " of " + std::to_string(o.connections) +
             " connections came up");
    ctx.stopping = true;  // a failed run need not last
  }

  window_sample a, b;
  std::int64_t begin = 0, end = 0;
  if (o.count) {
    // Exact work: every connection, already going, sends COUNT messages and closes.
    std::tie(a, b) = measure_exact_work(ctx, s.finished, o.connections, [] {});
    begin = a.ns;
    end = b.ns;
  } else {
    std::tie(begin, end) = open_window(ctx, ctx.stopping);
    sleep_until_ns(begin);
    a = sample(ctx, [&] { return total_units(ctx); }, true);
    sleep_until_ns(end);
    b = sample(ctx, [&] { return total_units(ctx); }, false);
    ctx.stopping = true;
  }
  if (!ctx.wait_until([&] { return s.finished.load() >= o.connections; }, clock_type::now() + 10s))
    ctx.fail(std::to_string(o.connections - s.finished.load()) + " connections did not close in 10 s");
  ctx.stop_workers();

  histogram all;
  std::uint64_t mismatches = 0;
  for (auto& w : ctx.workers) {
    all.merge(w->latency);
    mismatches += w->mismatches;
  }
  std::uint64_t matched = 0, short_connections = 0;
  for (auto& c : ctx.connections) {
    matched += c->matched;
    if (o.count && c->matched != o.count) ++short_connections;
  }
  if (o.count && short_connections)
    ctx.fail(std::to_string(short_connections) + " connections did not get " + std::to_string(o.count) +
             " matching replies");

  // Each connection's first reply: on a fresh server, what a new client waits for (a function's
  // cold start, when its process is not started yet).
  std::vector<std::int64_t> first;
  for (auto& c : ctx.connections)
    if (c->first_reply_us >= 0) first.push_back(c->first_reply_us);
  std::sort(first.begin(), first.end());

  auto line = common_fields(o);
  std::string costs;
  double rate = add_cost_fields(line, "message", a, b, costs);
  auto p50 = all.percentile(0.50), p99 = all.percentile(0.99);
  line.add("connections", static_cast<std::uint64_t>(o.connections))
      .add("seconds", static_cast<double>(end - begin) / 1e9)
      .add("payload_bytes", static_cast<std::uint64_t>(o.payload_bytes))
      .add("messages", o.count ? matched : all.total)
      .add("messages_per_s", rate)
      .add("p50_us", static_cast<std::uint64_t>(p50))
      .add("p99_us", static_cast<std::uint64_t>(p99))
      .add("max_us", static_cast<std::uint64_t>(all.max))
      .add("mismatches", mismatches);
  if (!first.empty()) {
    line.add("first_reply_p50_us", static_cast<std::uint64_t>(first[(first.size() - 1) / 2]))
        .add("first_reply_max_us", static_cast<std::uint64_t>(first.back()));
    costs += "; first reply p50 " + std::to_string(first[(first.size() - 1) / 2]) + " us, max " +
             std::to_string(first.back()) + " us";
  }
  char summary[256];
  if (o.count)
    std::snprintf(summary, sizeof summary, "%zu connections x %" PRIu64 " messages: %" PRIu64
                  " matched replies, %" PRIu64 " mismatched",
                  o.connections, o.count, matched, mismatches);
  else
    std::snprintf(summary, sizeof summary,
                  "%zu connections, %.1f s: %.0f messages/s, p50 %u us, p99 %u us, max %u us, "
                  "%" PRIu64 " mismatched replies",
                  o.connections, static_cast<double>(end - begin) / 1e9, rate, p50, p99, all.max, mismatches);
  bool ok = mismatches == 0 && (o.count ? short_connections == 0 : all.total > 0);
  return report(ctx, line, summary + costs, ok);
}

// ---------------------------------------------------------------------------------------------
// churn: connect, handshake, close, again

class churn_scenario : public scenario_base {
 public:
  explicit churn_scenario(run_context& ctx) : ctx_(ctx) {}

  std::atomic<std::size_t> finished{0};
  std::atomic<std::uint64_t> cycles{0};

  void on_open(connection& c) override {
    auto t = now_ns();
    if (ctx_.opts.count ||
        (t >= ctx_.window_begin.load(std::memory_order_relaxed) && t <= ctx_.window_end.load(std::memory_order_relaxed)))
      c.owner->bump_units();
    c.owner->send_close(c);
  }
  void on_message(connection& c, bool, std::string_view got, bool) override {
    ctx_.fail("connection " + std::to_string(c.index) + " got an unexpected frame: " + shorten(got));
  }
  void on_closed(connection& c, bool ok) override {
    if (!ok) {
      finished.fetch_add(1);
      return;
    }
    cycles.fetch_add(1, std::memory_order_relaxed);
    ++c.sent;
    if (ctx_.opts.count ? c.sent >= ctx_.opts.count : ctx_.stopping.load(std::memory_order_relaxed)) {
      finished.fetch_add(1);
      return;
    }
    c.owner->connect(c);
  }

 private:
  run_context& ctx_;
};

int run_churn(run_context& ctx) {
  const auto& o = ctx.opts;
  churn_scenario s(ctx);
  ctx.scenario = &s;
  make_connections(ctx, o.connections, 4096, 512);
  std::int64_t begin = 0, end = 0;
  window_sample a, b;
  if (o.count) {
    ctx.window_begin = 0;  // every cycle counts
    ctx.window_end = INT64_MAX;
    ctx.start_workers();
    std::tie(a, b) = measure_exact_work(ctx, s.finished, o.connections, [&] { ctx.command_all(cmd_open); });
    begin = a.ns;
    end = b.ns;
  } else {
    std::tie(begin, end) = open_window(ctx, false);
    ctx.start_workers();
    ctx.command_all(cmd_open);
    sleep_until_ns(begin);
    a = sample(ctx, [&] { return total_units(ctx); }, true);
    ctx.wait_until([&] { return s.finished.load() >= o.connections; },
                   clock_type::now() + std::chrono::nanoseconds(std::max<std::int64_t>(0, end - now_ns())));
    b = sample(ctx, [&] { return total_units(ctx); }, false);
    ctx.stopping = true;
  }
  if (!ctx.wait_until([&] { return s.finished.load() >= o.connections; }, clock_type::now() + 15s))
    ctx.fail(std::to_string(o.connections - s.finished.load()) + " workers did not finish in 15 s");
  ctx.stop_workers();

  auto line = common_fields(o);
  std::string costs;
  double rate = add_cost_fields(line, "handshake", a, b, costs);
  line.add("workers", static_cast<std::uint64_t>(o.connections))
      .add("seconds", static_cast<double>(end - begin) / 1e9)
      .add("handshakes", b.units)
      .add("handshakes_per_s", rate)
      .add("cycles", s.cycles.load());
  char summary[256];
  std::snprintf(summary, sizeof summary,
                "%zu workers, %.1f s: %.0f handshakes/s (%" PRIu64 " connect-close cycles in all)",
                o.connections, static_cast<double>(end - begin) / 1e9, rate, s.cycles.load());
  bool ok = b.units > 0 && (!o.count || s.cycles.load() == o.count * o.connections);
  return report(ctx, line, summary + costs, ok);
}

// ---------------------------------------------------------------------------------------------
// hold and fanout: many open connections, each reading

class held_scenario : public scenario_base {
 public:
  held_scenario(run_context& ctx, std::size_t workers)
      : ctx_(ctx), next_(workers, 0), in_progress_(workers, 0) {}

  std::atomic<std::size_t> opened{0}, open_failed{0}, dropped{0}, pongs{0}, closed{0};
  std::atomic<std::uint64_t> delivered{0};
  std::uint64_t k = 0;                    // fanout: deliveries per request (the clients)
  std::function<void(worker&, std::uint64_t)> on_round;  // fanout: after every K deliveries
  std::string request;                    // fanout: the request's payload

  void on_command(worker& w, unsigned cmd) override {
    if (cmd & cmd_open) open_some(w);
    if (cmd & cmd_ping) {
      for (auto* c : w.mine()) {
        if (c->st != state::open) continue;
        auto f = client_frame(op_ping, {}, c->random);
        w.send(*c, f.data(), f.size());
      }
    }
    if (cmd & cmd_close)
      for (auto* c : w.mine()) w.send_close(*c);
    if (cmd & cmd_send) send_requests(w);
  }

  void on_open(connection& c) override {
    opened.fetch_add(1);
    --in_progress_[c.owner->id()];
    open_some(*c.owner);
  }

  void on_message(connection& c, bool matched, std::string_view got, bool text) override {
    if (!matched || k == 0) {  // hold expects no message at all
      ctx_.fail("connection " + std::to_string(c.index) + " got an unexpected frame: " +
                (text ? "" : "(binary) ") + shorten(got));
      return;
    }
    ++c.matched;
    c.owner->bump_units();
    auto n = delivered.fetch_add(1, std::memory_order_relaxed) + 1;
    if (k && n % k == 0 && on_round) on_round(*c.owner, n / k);
  }

  void on_pong(connection&) override { pongs.fetch_add(1); }

  void on_closed(connection& c, bool ok) override {
    if (ok) {
      closed.fetch_add(1);
    } else if (c.opened) {
      dropped.fetch_add(1);
    } else {
      open_failed.fetch_add(1);
      --in_progress_[c.owner->id()];
      open_some(*c.owner);
    }
  }

  // Fanout: has connection 0's worker send one more request (from any worker's thread).
  void request_send(worker* from) {
    to_send_.fetch_add(1);
    auto& owner = *ctx_.connections[0]->owner;
    if (&owner == from) send_requests(owner);
    else owner.wake(cmd_send);
  }

 private:
  // Opens this worker's connections, about PARALLEL handshakes in flight over all workers.
  void open_some(worker& w) {
    auto& list = w.mine();
    auto id = w.id();
    auto per_worker = std::max<std::size_t>(1, ctx_.opts.parallel / ctx_.workers.size());
    while (next_[id] < list.size() && in_progress_[id] < per_worker) {
      ++in_progress_[id];
      w.connect(*list[next_[id]++]);
    }
  }

  // On connection 0's worker.
  void send_requests(worker& w) {
    auto& c0 = *ctx_.connections[0];
    for (auto n = to_send_.exchange(0); n > 0; --n) {
      if (c0.st != state::open) return;
      auto f = client_frame(op_text, request, c0.random);
      w.send(c0, f.data(), f.size());
    }
  }

  run_context& ctx_;
  std::vector<std::size_t> next_, in_progress_;  // per worker, touched by that worker only
  std::atomic<std::uint64_t> to_send_{0};
};

// Opens every connection; false (with the failure recorded) unless all came up in time.
bool open_connections(run_context& ctx, held_scenario& s, double& open_seconds) {
  auto started = clock_type::now();
  auto n = ctx.connections.size();
  ctx.command_all(cmd_open);
  auto deadline = started + 30s + std::chrono::milliseconds(n);  // ~1,000 handshakes/s at worst
  bool done = ctx.wait_until([&] { return s.opened.load() + s.open_failed.load() >= n; }, deadline);
  open_seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  if (!done || s.opened.load() < n) {
    ctx.fail(std::to_string(s.opened.load()) + " of " + std::to_string(n) + " connections came up in " +
             std::to_string(static_cast<int>(open_seconds)) + " s");
    return false;
  }
  return true;
}

// Closes every open connection; waits a bounded time.
void close_connections(run_context& ctx, held_scenario& s) {
  ctx.command_all(cmd_close);
  if (!ctx.wait_until([&] { return s.closed.load() + s.dropped.load() >= s.opened.load(); },
                      clock_type::now() + 20s))
    ctx.fail(std::to_string(s.opened.load() - s.dropped.load() - s.closed.load()) +
             " connections did not close in 20 s");
}

int run_hold(run_context& ctx) {
  const auto& o = ctx.opts;
  std::string error;
  if (!raise_descriptor_limit(o.connections + 64, error)) {
    ctx.fail(error);
    auto line = common_fields(o);
    return report(ctx, line, error, false);
  }
  long rss_before = o.server_pid ? read_vm_rss_kib(o.server_pid) : -1;
  if (o.server_pid && rss_before < 0) ctx.fail("cannot read /proc/" + std::to_string(o.server_pid) + "/status");

  make_connections(ctx, o.connections, 512, 64);
  held_scenario s(ctx, ctx.workers.size());
  ctx.scenario = &s;
  ctx.start_workers();
  double open_seconds = 0;
  bool up = open_connections(ctx, s, open_seconds);
  long rss_after = -1;
  std::size_t pongs = 0;
  if (up) {
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
    if (o.server_pid) rss_after = read_vm_rss_kib(o.server_pid);
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, o.seconds - o.settle)));
    // Every connection must still answer: a ping each, a pong each.
    ctx.command_all(cmd_ping);
    if (!ctx.wait_until([&] { return s.pongs.load() + s.dropped.load() >= o.connections; },
                        clock_type::now() + 20s))
      ctx.fail(std::to_string(o.connections - s.pongs.load()) + " connections did not answer a ping");
    pongs = s.pongs.load();
  }
  close_connections(ctx, s);
  ctx.stop_workers();

  double per_connection = -1;
  if (rss_before >= 0 && rss_after >= 0)
    per_connection = static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(o.connections);
  auto line = common_fields(o);
  line.add("connections", static_cast<std::uint64_t>(o.connections))
      .add("opened", static_cast<std::uint64_t>(s.opened.load()))
      .add("open_seconds", open_seconds)
      .add("pongs", static_cast<std::uint64_t>(pongs))
      .add("dropped", static_cast<std::uint64_t>(s.dropped.load()))
      .add("server_pid", o.server_pid)
      .add("rss_before_kib", rss_before)
      .add("rss_after_kib", rss_after)
      .add("rss_per_connection_bytes", per_connection);
  char summary[256];
  if (per_connection >= 0)
    std::snprintf(summary, sizeof summary,
                  "%zu of %zu connections up in %.1f s, %zu answered a ping; server VmRSS %ld -> %ld KiB: "
                  "%.0f bytes per connection",
                  s.opened.load(), o.connections, open_seconds, pongs, rss_before, rss_after, per_connection);
  else
    std::snprintf(summary, sizeof summary,
                  "%zu of %zu connections up in %.1f s, %zu answered a ping (no --server-pid: memory not read)",
                  s.opened.load(), o.connections, open_seconds, pongs);
  return report(ctx, line, summary, up && pongs == o.connections && s.dropped.load() == 0);
}

// ---------------------------------------------------------------------------------------------
// fanout: one sendmessage, every client receives it; closed-loop rounds

int run_fanout(run_context& ctx) {
  const auto& o = ctx.opts;
  std::string error;
  if (!raise_descriptor_limit(o.connections + 64, error)) {
    ctx.fail(error);
    auto line = common_fields(o);
    return report(ctx, line, error, false);
  }
  make_connections(ctx, o.connections, 4096, 256);
  held_scenario s(ctx, ctx.workers.size());
  ctx.scenario = &s;
  static constexpr std::string_view expected = "hi";
  for (auto& c : ctx.connections) c->expect = expected;
  s.request = R"({"action":"sendmessage","data":"hi"})";

  // With one request in flight, round r is complete when r * K matching frames have arrived in
  // all; round 1 warms up. With N in flight, every K deliveries start the next request.
  const std::uint64_t k = o.connections;
  s.k = k;
  const auto in_flight = o.in_flight;
  std::atomic<std::uint64_t> rounds_started{0};
  std::atomic<bool> finished{false};
  std::atomic<std::int64_t> round_sent_ns{0}, measure_begin_ns{0}, measure_end_ns{0};
  std::atomic<std::int64_t> stop_after_ns{INT64_MAX};
  std::atomic<std::uint64_t> begin_units{0};
  std::mutex round_mutex;
  histogram round_us;  // guarded by round_mutex (written by the worker completing a round)

  auto start_round = [&](worker* from) {
    rounds_started.fetch_add(1);
    round_sent_ns = now_ns();
    s.request_send(from);
  };
  s.on_round = [&](worker& w, std::uint64_t round) {
    auto t = now_ns();
    if (round == 1) {
      measure_begin_ns = t;
      begin_units = s.delivered.load();
      stop_after_ns = o.count ? INT64_MAX : t + static_cast<std::int64_t>(o.seconds * 1e9);
    } else if (in_flight == 1) {
      std::lock_guard lock(round_mutex);
      round_us.add((t - round_sent_ns.load()) / 1000);
    }
    measure_end_ns = t;
    bool more = o.count ? rounds_started.load() < o.count + 1 : t < stop_after_ns.load();
    if (more && !ctx.stopping.load())
      start_round(&w);
    else if (round >= rounds_started.load())
      finished = true;
  };

  ctx.start_workers();
  double open_seconds = 0;
  bool up = open_connections(ctx, s, open_seconds);
  window_sample a, b;
  if (up) {
    for (std::size_t i = 0; i < in_flight; ++i) start_round(nullptr);
    // The CPU window: from the end of the first round to the end of the last, as seen from here.
    ctx.wait_until([&] { return measure_begin_ns.load() != 0 || finished.load(); }, clock_type::now() + 10s);
    a = sample(ctx, [&] { return std::uint64_t{s.delivered.load()}; }, true);
    // Bounded: stop when a round makes no progress for 5 s or the whole run overstays.
    auto hard_deadline = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                 std::chrono::duration<double>(o.seconds + 30));
    if (o.count) hard_deadline = clock_type::now() + 600s;
    auto last = s.delivered.load();
    auto last_progress = clock_type::now();
    while (!finished.load()) {
      std::this_thread::sleep_for(5ms);
      auto now = clock_type::now();
      if (auto d = s.delivered.load(); d != last) {
        last = d;
        last_progress = now;
      }
      if (now - last_progress > 5s || now > hard_deadline) {
        ctx.fail(std::to_string(s.delivered.load()) + " of " + std::to_string(rounds_started.load() * k) +
                 " deliveries arrived (" + std::to_string(k) + " clients, " +
                 std::to_string(rounds_started.load()) + " messages sent); none for 5 s");
        break;
      }
    }
    b = sample(ctx, [&] { return std::uint64_t{s.delivered.load()}; }, false);
    ctx.stopping = true;
  }
  close_connections(ctx, s);
  ctx.stop_workers();

  // Every client must have received exactly one frame per round.
  auto rounds = rounds_started.load();
  std::size_t short_clients = 0;
  for (auto& c : ctx.connections)
    if (c->matched != rounds) ++short_clients;
  if (up && short_clients)
    ctx.fail(std::to_string(short_clients) + " clients did not receive exactly one \"hi\" per round (" +
             std::to_string(rounds) + " rounds)");

  auto measured = rounds > 1 ? rounds - 1 : 0;
  double window = static_cast<double>(measure_end_ns.load() - measure_begin_ns.load()) / 1e9;
  double rate = measured && window > 0 ? static_cast<double>(measured * k) / window : 0;
  auto line = common_fields(o);
  std::string costs;
  add_cost_fields(line, "delivery", a, b, costs);
  line.add("connections", k)
      .add("in_flight", static_cast<std::uint64_t>(in_flight))
      .add("open_seconds", open_seconds)
      .add("rounds", rounds)
      .add("seconds", window)
      .add("deliveries", s.delivered.load())
      .add("deliveries_per_s", rate)
      .add("round_p50_us", static_cast<std::uint64_t>(round_us.percentile(0.50)))
      .add("round_p99_us", static_cast<std::uint64_t>(round_us.percentile(0.99)));
  char summary[256];
  if (in_flight == 1)
    std::snprintf(summary, sizeof summary,
                  "%" PRIu64 " clients, %" PRIu64 " rounds in %.1f s: %.0f deliveries/s, round p50 %u us, "
                  "p99 %u us",
                  k, rounds, window, rate, round_us.percentile(0.50), round_us.percentile(0.99));
  else
    std::snprintf(summary, sizeof summary,
                  "%" PRIu64 " clients, %" PRIu64 " messages (%zu in flight) in %.1f s: %.0f deliveries/s",
                  k, rounds, in_flight, window, rate);
  return report(ctx, line, summary + costs, up && rounds > 0 && short_clients == 0);
}

}  // namespace

int main(int argc, char* argv[]) {
  auto o = parse_options(argc, argv);
  std::string error;
  auto where = parse_url(o.url, error);
  if (!where) usage(error);
  signal(SIGPIPE, SIG_IGN);
  run_context ctx(o, *where);
  if (o.scenario == "echo") return run_echo(ctx);
  if (o.scenario == "churn") return run_churn(ctx);
  if (o.scenario == "hold") return run_hold(ctx);
  return run_fanout(ctx);
}
