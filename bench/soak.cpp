// The soak driver: runs the real emulator binary on loopback, with the lab's chat API
// plus an echo route, and keeps thousands of connections churning and messaging through it in
// rounds. Between rounds every client has left; the driver then checks that the emulator is idle
// (no connection listed, the lab's table and the connection records empty) and samples its
// resident memory and open file descriptors. At the end it stops the emulator with SIGTERM and
// checks, from the stage's access log, that every $connect was matched by exactly one
// $disconnect. Exit status: 0 when every check passed, 1 when one failed, 2 on a bad command line.
// Thread-safety: each client lives on its own strand; shared counters are atomics; the main
// thread runs the rounds, a sampler thread reads /proc.
//
// Everything is bounded: the duration, the number of connections, every connect, handshake and
// read (30 s timeouts), and the waits for the emulator. A round's clients start over a second.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kUsage =
    "usage: apigw_soak --emulator BIN [--lab-config FILE] [--seconds S] [--rounds R]\n"
    "                  [--connections C] [--messages M] [--broadcast-every N] [--emulator-threads T]\n"
    "                  [--work-dir DIR] [--keep]\n"
    "  --emulator BIN         the apigw-ws-emulator executable to soak\n"
    "  --lab-config FILE      the lab's API (default: config/websocket-lab.json of the sources)\n"
    "  --seconds S            churn time in all, spread over the rounds (default 180)\n"
    "  --rounds R             rounds; after each the emulator must be idle (default 6)\n"
    "  --connections C        clients at once (default 2000)\n"
    "  --messages M           echo messages per connection (default 4)\n"
    "  --broadcast-every N    every Nth connection also sends the lab's sendmessage (default 50)\n"
    "  --emulator-threads T   the emulator's --threads (default 2)\n"
    "  --work-dir DIR         where the config, store, access log and samples go (default: a temp dir)\n"
    "  --keep                 keep the work directory\n";

struct options {
  std::string emulator;
  std::string lab_config;
  double seconds = 180;
  int rounds = 6;
  int connections = 2000;
  int messages = 4;
  int broadcast_every = 50;
  int emulator_threads = 2;
  std::string work_dir;
  bool keep = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "apigw_soak: " << message << "\n" << kUsage;
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
#ifdef APIGW_SOURCE_DIR
  o.lab_config = APIGW_SOURCE_DIR "/config/websocket-lab.json";
#endif
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    const auto number = [&](double min, double max) {
      const std::string text = value();
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || v < min || v > max) {
        usage_error(std::string(flag) + ": \"" + text + "\" is not a number from " + std::to_string(min) +
                    " to " + std::to_string(max));
      }
      return v;
    };
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (flag == "--emulator") {
      o.emulator = value();
    } else if (flag == "--lab-config") {
      o.lab_config = value();
    } else if (flag == "--seconds") {
      o.seconds = number(1, 3600);
    } else if (flag == "--rounds") {
      o.rounds = static_cast<int>(number(1, 100));
    } else if (flag == "--connections") {
      o.connections = static_cast<int>(number(1, 20000));
    } else if (flag == "--messages") {
      o.messages = static_cast<int>(number(0, 1000));
    } else if (flag == "--broadcast-every") {
      o.broadcast_every = static_cast<int>(number(0, 1000000));
    } else if (flag == "--emulator-threads") {
      o.emulator_threads = static_cast<int>(number(1, 64));
    } else if (flag == "--work-dir") {
      o.work_dir = value();
    } else if (flag == "--keep") {
      o.keep = true;
    } else {
      usage_error("unknown argument \"" + std::string(flag) + "\"");
    }
  }
  if (o.emulator.empty()) usage_error("name the emulator with --emulator BIN");
  if (o.lab_config.empty()) usage_error("name the lab's API with --lab-config FILE");
  return o;
}

// ---- the emulator process ----------------------------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lab's API with a two-way "echo" route and a compact access log line per event.
std::optional<std::string> soak_config(const std::string& lab_path, std::string& error) {
  rapidjson::Document d;
  const std::string text = read_file(lab_path);
  d.Parse(text.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("routes") || !d.HasMember("integrations") ||
      !d.HasMember("stage")) {
    error = lab_path + " is not the lab's API (no routes, integrations or stage)";
    return std::nullopt;
  }
  auto& a = d.GetAllocator();
  rapidjson::Value echo_route(rapidjson::kObjectType);
  echo_route.AddMember("routeKey", "echo", a);
  echo_route.AddMember("integration", "SoakEcho", a);
  echo_route.AddMember("routeResponseSelectionExpression", "$default", a);
  d["routes"].PushBack(echo_route, a);
  rapidjson::Value echo(rapidjson::kObjectType);
  echo.AddMember("type", "builtin", a);
  echo.AddMember("handler", "echo", a);
  d["integrations"].AddMember("SoakEcho", echo, a);
  d["stage"].RemoveMember("accessLogFormat");
  d["stage"].AddMember("accessLogFormat", "$context.eventType $context.connectionId $context.status", a);
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

class emulator_process {
 public:
  // Starts BIN with ARGS, its standard output on a pipe (for the listening line) and its
  // standard error in ERR_PATH.
  bool start(const std::string& bin, const std::vector<std::string>& args, const std::string& err_path,
             std::string& error) {
    int out[2];
    if (pipe(out) != 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> all{bin};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : all) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, bin.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      error = "cannot start " + bin + ": " + std::strerror(rc);
      return false;
    }
    out_ = out[0];
    // "listening on ws://127.0.0.1:PORT/Prod\n", within 10 s.
    std::string line;
    const auto deadline = steady::now() + 10s;
    fcntl(out_, F_SETFL, O_NONBLOCK);
    while (line.find('\n') == std::string::npos && steady::now() < deadline) {
      char buf[256];
      const ssize_t n = read(out_, buf, sizeof buf);
      if (n > 0) line.append(buf, static_cast<std::size_t>(n));
      else if (n == 0) break;
      else std::this_thread::sleep_for(10ms);
    }
    line = line.substr(0, line.find('\n'));  // the endpoint's line may have come in the same read
    const auto colon = line.rfind(':');
    const auto slash = line.find('/', colon == std::string::npos ? 0 : colon);
    if (line.rfind("listening on ws://127.0.0.1:", 0) != 0 || colon == std::string::npos || slash == std::string::npos) {
      error = "the emulator did not print its listening line (got \"" + line + "\"); its stderr: " +
              read_file(err_path).substr(0, 2000);
      return false;
    }
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1, slash - colon - 1)));
    return true;
  }

  ~emulator_process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // SIGTERM, then the exit status (128 + signal when killed; -1 when it did not exit in TIMEOUT,
  // after which it is killed).
  int stop(std::chrono::seconds timeout) {
    kill(pid_, SIGTERM);
    const auto deadline = steady::now() + timeout;
    while (steady::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::uint16_t port_ = 0;
};

// Resident memory (VmRSS, KiB) and open descriptors of process PID; -1 when unreadable.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

long open_fds(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? -1 : n;
}

// GET TARGET on 127.0.0.1:PORT, blocking, with a 5 s timeout; the body, or nullopt.
std::optional<std::string> http_get(std::uint16_t port, const std::string& target) {
  try {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.expires_after(5s);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    beast::http::request<beast::http::empty_body> req(beast::http::verb::get, target, 11);
    req.set(beast::http::field::host, "127.0.0.1:" + std::to_string(port));
    beast::http::write(stream, req);
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> res;
    beast::http::read(stream, buffer, res);
    if (res.result_int() != 200) return std::nullopt;
    return res.body();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Runs the emulator's "store" command; its standard output, or nullopt when it failed.
std::optional<std::string> store_command(const std::string& bin, const std::vector<std::string>& words,
                                         const std::string& store, const std::string& out_path) {
  std::vector<std::string> all{bin, "store"};
  all.insert(all.end(), words.begin(), words.end());
  all.push_back("--store");
  all.push_back(store);
  std::vector<char*> argv;
  for (auto& s : all) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return read_file(out_path);
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// ---- the clients ---------------------------------------------------------------------------------

struct counters {
  std::atomic<long> handshakes{0};
  std::atomic<long> echoed{0};
  std::atomic<long> broadcasts_sent{0};
  std::atomic<long> broadcasts_received{0};
  std::atomic<long> closed_clean{0};
  std::atomic<long> dropped_reset{0};
  std::atomic<long> dropped_fin{0};
  std::atomic<long> open_now{0};
  std::atomic<long> failures{0};
  std::mutex mutex;
  std::vector<std::string> first_failures;  // guarded by mutex

  void fail(std::string what) {
    if (++failures <= 10) {
      std::lock_guard lock(mutex);
      first_failures.push_back(std::move(what));
    }
  }
};

constexpr std::string_view kBroadcast = "soak-broadcast";

// One client slot: connect, handshake, M echoes (and now and then a sendmessage), end the
// connection one of three ways, and again, until the round ends.
class soak_client : public std::enable_shared_from_this<soak_client> {
 public:
  soak_client(net::io_context& ioc, tcp::endpoint ep, int slot, const options& o, counters& c,
              std::atomic<bool>& running, std::atomic<int>& active)
      : ioc_(ioc), strand_(net::make_strand(ioc)), ep_(ep), slot_(slot), o_(o), c_(c), running_(running),
        active_(active) {}

  // Starts after DELAY, so that a round's clients ramp up instead of all knocking at once.
  void start(std::chrono::milliseconds delay) {
    ++active_;
    auto timer = std::make_shared<net::steady_timer>(strand_, delay);
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->next_cycle(); });
  }

 private:
  void next_cycle() {
    ws_.reset();
    if (!running_.load()) {
      --active_;
      return;
    }
    ++cycle_;
    sent_ = 0;
    ws_.emplace(strand_);
    beast::get_lowest_layer(*ws_).expires_after(30s);
    beast::get_lowest_layer(*ws_).async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
      self->on_connect(ec);
    });
  }

  void failed(const char* what, beast::error_code ec) {
    if (open_) --c_.open_now;
    open_ = false;
    c_.fail(std::string(what) + " (slot " + std::to_string(slot_) + ", cycle " + std::to_string(cycle_) +
            "): " + ec.message());
    beast::error_code ignored;
    beast::get_lowest_layer(*ws_).socket().close(ignored);
    // A pause before the next try, so that a refusing server is not hammered.
    auto timer = std::make_shared<net::steady_timer>(strand_, 100ms);
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->next_cycle(); });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return failed("connect", ec);
    beast::get_lowest_layer(*ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = 30s;  // a loaded, shared machine may be slow; the emulator must still answer
    t.idle_timeout = 30s;
    t.keep_alive_pings = false;
    ws_->set_option(t);
    ws_->async_handshake("127.0.0.1:" + std::to_string(ep_.port()), "/Prod",
                         [self = shared_from_this()](beast::error_code e) { self->on_handshake(e); });
  }

  void on_handshake(beast::error_code ec) {
    if (ec) return failed("handshake", ec);
    ++c_.handshakes;
    ++c_.open_now;
    open_ = true;
    if (o_.broadcast_every > 0 && (cycle_ * 7919 + slot_) % o_.broadcast_every == 0) {
      ++c_.broadcasts_sent;
      out_ = R"({"action":"sendmessage","data":")" + std::string(kBroadcast) + "\"}";
      ws_->async_write(net::buffer(out_), [self = shared_from_this()](beast::error_code e, std::size_t) {
        if (e) return self->failed("sendmessage", e);
        self->send_echo();
      });
      return;
    }
    send_echo();
  }

  void send_echo() {
    if (sent_ >= o_.messages) return end_connection();
    ++sent_;
    out_ = R"({"action":"echo","slot":)" + std::to_string(slot_) + R"(,"cycle":)" + std::to_string(cycle_) +
           R"(,"n":)" + std::to_string(sent_) + "}";
    ws_->async_write(net::buffer(out_), [self = shared_from_this()](beast::error_code e, std::size_t) {
      if (e) return self->failed("write", e);
      self->read_reply();
    });
  }

  void read_reply() {
    in_.clear();
    ws_->async_read(in_, [self = shared_from_this()](beast::error_code e, std::size_t) {
      if (e) return self->failed("read", e);
      const std::string got = beast::buffers_to_string(self->in_.data());
      if (got == kBroadcast) {
        ++self->c_.broadcasts_received;
        return self->read_reply();
      }
      if (got != self->out_) {
        self->c_.fail("slot " + std::to_string(self->slot_) + " sent " + self->out_ + " and got " + got.substr(0, 200));
      } else {
        ++self->c_.echoed;
      }
      self->send_echo();
    });
  }

  void end_connection() {
    --c_.open_now;
    open_ = false;
    const int how = (cycle_ + slot_) % 10;  // every slot, from its first cycle on
    auto& socket = beast::get_lowest_layer(*ws_).socket();
    beast::error_code ignored;
    if (how == 7) {
      // Vanishes: a reset, no close frame ($disconnect 1006).
      socket.set_option(net::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      ++c_.dropped_reset;
      return next_cycle();
    }
    if (how == 8) {
      // Leaves without a close frame, with an orderly TCP close ($disconnect 1006).
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      ++c_.dropped_fin;
      return next_cycle();
    }
    ws_->async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code e) {
      // A broadcast may arrive before the server's close: Beast discards it.
      if (e) return self->failed("close", e);
      ++self->c_.closed_clean;
      self->next_cycle();
    });
  }

  net::io_context& ioc_;
  net::strand<net::io_context::executor_type> strand_;
  tcp::endpoint ep_;
  int slot_;
  const options& o_;
  counters& c_;
  std::atomic<bool>& running_;
  std::atomic<int>& active_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer in_;
  std::string out_;
  int cycle_ = 0;
  int sent_ = 0;
  bool open_ = false;  // counted in open_now
};

// ---- checks -----------------------------------------------------------------------------------------

struct check_list {
  std::vector<std::string> failed;
  void expect(bool ok, const std::string& what) {
    if (!ok) failed.push_back(what);
  }
};

struct idle_sample {
  int round = 0;
  long rss = 0;
  long fds = 0;
  long long heap = -1;  // the emulator's heapBytesInUse; -1 when its health does not report one
};

// heapBytesInUse from GET /@emulator/health; -1 when absent or unreadable.
long long heap_in_use(std::uint16_t port) {
  const auto body = http_get(port, "/@emulator/health");
  if (!body) return -1;
  rapidjson::Document d;
  d.Parse(body->c_str(), body->size());
  if (d.HasParseError() || !d.IsObject()) return -1;
  const auto it = d.FindMember("heapBytesInUse");
  return it != d.MemberEnd() && it->value.IsUint64() ? static_cast<long long>(it->value.GetUint64()) : -1;
}

// The emulator is idle: no connection listed, the lab's table and the connection records empty.
// Waits up to 15 s for it.
bool wait_idle(const options& o, std::uint16_t port, const std::string& store, const std::string& dir,
               std::string& why) {
  const auto deadline = steady::now() + 15s;
  for (;;) {
    const auto listed = http_get(port, "/@emulator/connections");
    const bool no_connections = listed && listed->find("connectionId") == std::string::npos;
    std::optional<std::string> items, records;
    if (no_connections) {
      items = store_command(o.emulator, {"scan", "simplechat_connections"}, store, dir + "/scan.out");
      records = store_command(o.emulator, {"connections"}, store, dir + "/connections.out");
    }
    if (no_connections && items && records && items->empty() && records->empty()) return true;
    if (steady::now() >= deadline) {
      why = !listed ? "GET /@emulator/connections failed"
            : !no_connections ? "connections still listed: " + listed->substr(0, 300)
            : !items ? "store scan failed"
            : !records ? "store connections failed"
            : !items->empty() ? std::to_string(count_lines(*items)) + " items left in simplechat_connections"
                              : std::to_string(count_lines(*records)) + " connection records left";
      return false;
    }
    std::this_thread::sleep_for(200ms);
  }
}

// Every id with a successful CONNECT (status 101) has exactly one DISCONNECT, and no other id has one.
void check_access_log(const std::string& path, long client_handshakes, check_list& checks, std::ostream& report) {
  std::ifstream in(path);
  std::map<std::string, std::pair<int, int>> per_id;  // connects accepted, disconnects
  long lines = 0, messages = 0, refused = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    std::istringstream words(line);
    std::string type, id, status;
    words >> type >> id >> status;
    if (type == "CONNECT") {
      if (status == "101") ++per_id[id].first;
      else ++refused;
    } else if (type == "DISCONNECT") {
      ++per_id[id].second;
    } else if (type == "MESSAGE") {
      ++messages;
    }
  }
  long connects = 0, disconnects = 0, unmatched = 0, doubled = 0, orphan = 0;
  for (const auto& [id, counts] : per_id) {
    connects += counts.first;
    disconnects += counts.second;
    if (counts.first == 1 && counts.second == 0) ++unmatched;
    if (counts.second > 1 || counts.first > 1) ++doubled;
    if (counts.first == 0 && counts.second > 0) ++orphan;
  }
  report << "access log: " << lines << " lines; " << connects << " $connect accepted, " << refused
         << " refused, " << disconnects << " $disconnect, " << messages << " messages\n";
  checks.expect(connects > 0, "the access log has no accepted $connect");
  checks.expect(unmatched == 0, std::to_string(unmatched) + " connections never got $disconnect");
  checks.expect(doubled == 0, std::to_string(doubled) + " connections got $connect or $disconnect more than once");
  checks.expect(orphan == 0, std::to_string(orphan) + " $disconnect without an accepted $connect");
  checks.expect(refused == 0, std::to_string(refused) + " handshakes refused");
  checks.expect(connects == client_handshakes,
                "the emulator accepted " + std::to_string(connects) + " connections, the clients completed " +
                    std::to_string(client_handshakes) + " handshakes");
}

std::string mib(long kib) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(kib) / 1024.0);
  return b;
}

std::string heap_mib(long long bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f MiB", static_cast<double>(bytes) / 1048576.0);
  return b;
}

std::string heap_text(long long bytes) { return bytes < 0 ? "heap not reported" : "heap in use " + heap_mib(bytes); }

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);

  // Two descriptors per client on this side are plenty; the emulator inherits the limit.
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t need = static_cast<rlim_t>(o.connections) * 2 + 256;
  if (lim.rlim_cur < need) {
    lim.rlim_cur = std::min(need, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < need) {
      std::cerr << "apigw_soak: " << o.connections << " connections need " << need
                << " descriptors; the limit is " << lim.rlim_cur << " (raise ulimit -n or use fewer)\n";
      return 2;
    }
  }

  std::string dir = o.work_dir;
  if (dir.empty()) {
    dir = (fs::temp_directory_path() / ("apigw-soak-" + std::to_string(getpid()))).string();
  }
  fs::create_directories(dir);
  std::string error;
  const auto config = soak_config(o.lab_config, error);
  if (!config) {
    std::cerr << "apigw_soak: " << error << "\n";
    return 2;
  }
  const std::string config_path = dir + "/soak-api.json";
  const std::string store = dir + "/soak.sqlite";
  const std::string access_log = dir + "/access.log";
  const std::string err_log = dir + "/emulator.stderr";
  std::ofstream(config_path) << *config;
  fs::remove(store);
  fs::remove(store + "-wal");
  fs::remove(store + "-shm");

  emulator_process emulator;
  if (!emulator.start(o.emulator,
                      {"--config", config_path, "--host", "127.0.0.1", "--port", "0", "--store", store, "--quiet",
                       "--access-log", access_log, "--threads", std::to_string(o.emulator_threads)},
                      err_log, error)) {
    std::cerr << "apigw_soak: " << error << "\n";
    return 1;
  }
  const pid_t pid = emulator.pid();
  const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), emulator.port());
  std::ostream& report = std::cout;
  report << "soak: " << o.connections << " clients at once, " << o.messages << " echoes each, "
         << o.rounds << " rounds over " << o.seconds << " s; emulator pid " << pid << " on port "
         << emulator.port() << " (" << o.emulator_threads << " I/O threads), work dir " << dir << "\n";

  check_list checks;
  counters c;
  std::vector<idle_sample> idle;
  std::string why;
  if (!wait_idle(o, emulator.port(), store, dir, why)) checks.expect(false, "not idle at the start: " + why);
  std::this_thread::sleep_for(500ms);
  idle.push_back({0, rss_kib(pid), open_fds(pid), heap_in_use(emulator.port())});
  report << "idle before the first connection: VmRSS " << mib(idle.back().rss) << ", "
         << heap_text(idle.back().heap) << ", " << idle.back().fds << " open descriptors\n";

  // One sampler: VmRSS and descriptors every second, with the clients' view, as CSV.
  std::atomic<bool> sampling{true};
  long peak_rss = 0, peak_fds = 0;
  const auto began = steady::now();
  std::thread sampler([&] {
    std::ofstream csv(dir + "/samples.csv");
    csv << "seconds,vmrss_kib,fds,open_clients,handshakes,echoes\n";
    while (sampling.load()) {
      const long r = rss_kib(pid), f = open_fds(pid);
      peak_rss = std::max(peak_rss, r);
      peak_fds = std::max(peak_fds, f);
      csv << std::chrono::duration<double>(steady::now() - began).count() << ',' << r << ',' << f << ','
          << c.open_now.load() << ',' << c.handshakes.load() << ',' << c.echoed.load() << '\n'
          << std::flush;
      std::this_thread::sleep_for(1s);
    }
  });

  net::io_context ioc;
  const auto per_round = std::chrono::duration<double>(o.seconds / o.rounds);
  for (int round = 1; round <= o.rounds; ++round) {
    std::atomic<bool> running{true};
    std::atomic<int> active{0};
    const long before = c.handshakes.load();
    const auto round_began = steady::now();
    for (int i = 0; i < o.connections; ++i) {
      // Ramp up over at most a second.
      const auto delay = std::chrono::milliseconds(1000LL * i / o.connections);
      std::make_shared<soak_client>(ioc, ep, i, o, c, running, active)->start(delay);
    }
    ioc.restart();
    std::thread io([&] { ioc.run(); });
    std::this_thread::sleep_for(per_round);
    running = false;
    // Every client finishes its connection; bounded by the clients' own timeouts.
    const auto drain_deadline = steady::now() + 60s;
    while (active.load() > 0 && steady::now() < drain_deadline) std::this_thread::sleep_for(20ms);
    if (active.load() > 0) {
      checks.expect(false, "round " + std::to_string(round) + ": " + std::to_string(active.load()) +
                               " clients did not finish within 60 s");
      ioc.stop();
    }
    io.join();
    const double took = std::chrono::duration<double>(steady::now() - round_began).count();
    if (!wait_idle(o, emulator.port(), store, dir, why)) {
      checks.expect(false, "round " + std::to_string(round) + ": not idle afterwards: " + why);
    }
    std::this_thread::sleep_for(500ms);
    idle.push_back({round, rss_kib(pid), open_fds(pid), heap_in_use(emulator.port())});
    char line[320];
    std::snprintf(line, sizeof line,
                  "round %d: %ld connections in %.1f s (%.0f/s); idle after it: VmRSS %s, %s, %ld descriptors\n",
                  round, c.handshakes.load() - before, took,
                  static_cast<double>(c.handshakes.load() - before) / took, mib(idle.back().rss).c_str(),
                  heap_text(idle.back().heap).c_str(), idle.back().fds);
    report << line << std::flush;
  }
  sampling = false;
  sampler.join();

  const int status = emulator.stop(60s);
  report << "clients: " << c.handshakes.load() << " handshakes, " << c.echoed.load() << " echoes, "
         << c.broadcasts_sent.load() << " sendmessage (" << c.broadcasts_received.load()
         << " broadcast frames received), ends: " << c.closed_clean.load() << " close 1000, "
         << c.dropped_reset.load() << " reset, " << c.dropped_fin.load() << " FIN without close frame\n";
  report << "peak during load: VmRSS " << mib(peak_rss) << ", " << peak_fds << " descriptors\n";
  checks.expect(status == 0, "the emulator exited with " + std::to_string(status) + " after SIGTERM");
  checks.expect(c.failures.load() == 0, std::to_string(c.failures.load()) + " client failures");
  {
    std::lock_guard lock(c.mutex);
    for (const auto& f : c.first_failures) report << "  client failure: " << f << "\n";
  }
  check_access_log(access_log, c.handshakes.load(), checks, report);

  // Descriptors: back to the count before the first connection after every round.
  for (const auto& s : idle) {
    checks.expect(s.fds == idle.front().fds, "after round " + std::to_string(s.round) + " the emulator had " +
                                                 std::to_string(s.fds) + " descriptors open, before any " +
                                                 std::to_string(idle.front().fds));
  }
  // Memory. The judged figure is the heap in use (what the allocator handed out and did not get
  // back): after the first round has filled the bounded caches (the trace's ring, the store's
  // pages, the tables' buckets), what later rounds leave behind must stay within 1 MiB of it,
  // however many connections they made; a leak of a few bytes per connection shows over the tens
  // of thousands of a round. The resident size also keeps what free() returned to the
  // allocator's arenas and moves with their fragmentation, so it only has a loose bound: a
  // doubling.
  if (idle.size() >= 2) {
    const idle_sample& warm = idle[1];
    for (std::size_t i = 2; i < idle.size(); ++i) {
      if (warm.heap >= 0 && idle[i].heap >= 0) {
        checks.expect(idle[i].heap <= warm.heap + (1LL << 20),
                      "the heap in use grew from " + heap_mib(warm.heap) + " after round 1 to " +
                          heap_mib(idle[i].heap) + " after round " + std::to_string(idle[i].round));
      }
      checks.expect(idle[i].rss <= 2 * warm.rss, "idle VmRSS grew from " + mib(warm.rss) + " after round 1 to " +
                                                     mib(idle[i].rss) + " after round " +
                                                     std::to_string(idle[i].round));
    }
#if defined(__GLIBC__)
    // The emulator is built against the same C library as this driver: it must report the heap.
    checks.expect(warm.heap >= 0, "the emulator's /@emulator/health reported no heapBytesInUse");
#endif
  }
  const std::string errors = read_file(err_log);
  checks.expect(errors.empty(), "the emulator wrote to standard error: " + errors.substr(0, 500));

  report << "samples: " << dir << "/samples.csv\n";
  if (checks.failed.empty()) {
    report << "all checks passed\n";
  } else {
    for (const auto& f : checks.failed) report << "FAILED: " << f << "\n";
  }
  if (!o.keep && o.work_dir.empty() && checks.failed.empty()) fs::remove_all(dir);
  return checks.failed.empty() ? 0 : 1;
}
