// apigw_dynamodb_bench: PutItem, GetItem and Query through the emulator's DynamoDB endpoint over
// HTTP keep-alive, beside the same calls made on a session store in-process, with 1 and more
// clients. Run by bench/dynamodb, which starts the emulator; not a test.
//
//   apigw_dynamodb_bench --url http://127.0.0.1:PORT --store FILE|:memory: [--clients 1,16]
//                        [--seconds S] [--table NAME]
//
// The emulator behind --url and the in-process store must be of one kind (a file, or memory);
// both hold the table NAME (default "bench": pk S HASH, sk N RANGE). Each client is a thread:
// in-process it calls the store, over HTTP it keeps one connection and sends the next request
// when the answer came (closed loop). Per operation and client count it prints the rate, the
// mean time per call, and with one client the endpoint's overhead: the time a call over HTTP
// takes beyond the same call in-process (with more clients the times include queueing). The client
// measures its own CPU time per call over HTTP; its ceiling is the rate that CPU time allows on
// one core, and an HTTP rate above half of it is flagged (CLIENT?): the client, not the
// endpoint, may then have set the pace.
// Every answer is checked (status 200 and, for GetItem and Query, the item count); the last line
// is JSON with every figure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "store/session_store.hpp"
#include "store/table_schema.hpp"

namespace {

namespace rj = rapidjson;
using clock_type = std::chrono::steady_clock;
using apigw::store::session_store;

constexpr int kGetKeys = 1000;     // items GetItem reads, preloaded
constexpr int kQueryRooms = 10;    // hash keys Query reads, preloaded
constexpr int kPerRoom = 10;       // items per hash key: each Query answers 10 items
constexpr const char* kText = "a message of about sixty bytes, as a chat application keeps";

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string store_path;
  std::vector<int> clients = {1, 16};
  double seconds = 3;
  std::string table = "bench";
};

// ---- requests ---------------------------------------------------------------------------------

// "g12": a letter and a number (built this way: g++ 12 warns wrongly on "g" + std::to_string(n)).
std::string key_name(char letter, int n) {
  std::string out(1, letter);
  out += std::to_string(n);
  return out;
}

std::string put_body(const std::string& table, const std::string& pk, int sk) {
  return R"({"TableName":")" + table + R"(","Item":{"pk":{"S":")" + pk + R"("},"sk":{"N":")" +
         std::to_string(sk) + R"("},"text":{"S":")" + kText + R"("}}})";
}
std::string get_body(const std::string& table, int i) {
  return R"({"TableName":")" + table + R"(","Key":{"pk":{"S":"g)" + std::to_string(i % kGetKeys) +
         R"("},"sk":{"N":"0"}}})";
}
std::string query_body(const std::string& table, int i) {
  return R"({"TableName":")" + table + R"(","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":)" +
         R"({":p":{"S":"q)" + std::to_string(i % kQueryRooms) + R"("}}})";
}

enum class operation { put, get, query };
const char* name_of(operation op) {
  switch (op) {
    case operation::put: return "PutItem";
    case operation::get: return "GetItem";
    case operation::query: return "Query";
  }
  return "";
}

// The body of call I of client C: puts write new items, reads cycle over the preloaded ones.
std::string body_of(const options& o, operation op, int c, int i) {
  switch (op) {
    case operation::put: return put_body(o.table, key_name('p', c) + "-" + std::to_string(i), 0);
    case operation::get: return get_body(o.table, c * 7919 + i);
    case operation::query: return query_body(o.table, c + i);
  }
  return {};
}

// What a good answer holds: GetItem one item, Query kPerRoom.
bool answer_ok(operation op, std::string_view body) {
  if (op == operation::get) return body.find(R"("Item":)") != std::string_view::npos;
  if (op == operation::query) return body.find(R"("Count":)" + std::to_string(kPerRoom)) != std::string_view::npos;
  return true;
}

// ---- one HTTP/1.1 keep-alive connection, blocking ---------------------------------------------

class connection {
 public:
  connection(const std::string& host, int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~connection() { ::close(fd_); }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Sends one DynamoDB call and reads its answer; the status, the body in BODY.
  int call(const std::string& host_header, const char* target, const std::string& request, std::string& body) {
    out_.clear();
    out_ += "POST / HTTP/1.1\r\nHost: ";
    out_ += host_header;
    out_ += "\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.";
    out_ += target;
    out_ += "\r\nContent-Length: ";
    out_ += std::to_string(request.size());
    out_ += "\r\n\r\n";
    out_ += request;
    for (std::size_t sent = 0; sent < out_.size();) {
      const ssize_t n = ::send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return 0;
      sent += static_cast<std::size_t>(n);
    }
    // The head, then Content-Length bytes of body (the endpoint always sends one).
    std::size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return 0;
    }
    const std::string_view head(in_.data(), head_end);
    const int status = head.size() > 12 ? std::atoi(in_.c_str() + 9) : 0;
    std::size_t length = 0;
    for (std::string_view field : {"Content-Length: ", "content-length: "}) {
      if (auto at = head.find(field); at != std::string_view::npos) length = std::strtoul(in_.c_str() + at + field.size(), nullptr, 10);
    }
    const std::size_t total = head_end + 4 + length;
    while (in_.size() < total) {
      if (!fill()) return 0;
    }
    body.assign(in_, head_end + 4, length);
    in_.erase(0, total);
    return status;
  }

 private:
  bool fill() {
    char buffer[16384];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    in_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_;
  std::string out_;
  std::string in_;
};

// ---- runs -------------------------------------------------------------------------------------

struct figures {
  long long calls = 0;
  double seconds = 0;
  double client_cpu_seconds = 0;
  std::string error;  // the first wrong answer

  double per_second() const { return calls / seconds; }
  // Mean time of one call as its client saw it: each client makes one call at a time.
  double us_per_call(int clients) const { return calls ? 1e6 * seconds * clients / calls : 0; }
  double client_cpu_us_per_call() const { return calls ? 1e6 * client_cpu_seconds / calls : 0; }
  // The rate the client's own CPU time per call allows on one core.
  double client_ceiling_per_second() const { return client_cpu_seconds > 0 ? calls / client_cpu_seconds : 0; }
};

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CLIENTS threads each run CALL(client, i, error) until SECONDS pass; CALL returns false on a
// wrong answer (with ERROR set), which stops the run.
template <class Call>
figures run_clients(int clients, double seconds, Call call) {
  std::atomic<long long> calls{0};
  std::atomic<bool> stop{false};
  std::string first_error;
  std::mutex error_mutex;
  const double cpu_before = process_cpu_seconds();
  const auto start = clock_type::now();
  const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      long long mine = 0;
      std::string error;
      try {
        while (!stop.load(std::memory_order_relaxed) && clock_type::now() < deadline) {
          if (!call(c, static_cast<int>(mine), error)) break;
          ++mine;
        }
      } catch (const std::exception& e) {
        error = e.what();
      }
      calls += mine;
      if (!error.empty()) {
        stop = true;
        std::lock_guard lock(error_mutex);
        if (first_error.empty()) first_error = error;
      }
    });
  }
  for (auto& t : threads) t.join();
  figures f;
  f.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  f.calls = calls;
  f.client_cpu_seconds = process_cpu_seconds() - cpu_before;
  f.error = first_error;
  return f;
}

figures over_http(const options& o, operation op, int clients) {
  const std::string host_header = o.host + ":" + std::to_string(o.port);
  std::vector<std::unique_ptr<connection>> conns;
  for (int c = 0; c < clients; ++c) conns.push_back(std::make_unique<connection>(o.host, o.port));
  return run_clients(clients, o.seconds, [&](int c, int i, std::string& error) {
    thread_local std::string body;
    const int status = conns[c]->call(host_header, name_of(op), body_of(o, op, c, i), body);
    if (status != 200 || !answer_ok(op, body)) {
      error = std::string(name_of(op)) + " over HTTP answered " + std::to_string(status) + ": " + body;
      return false;
    }
    return true;
  });
}

figures in_process(const options& o, session_store& store, operation op, int clients) {
  return run_clients(clients, o.seconds, [&](int c, int i, std::string& error) {
    const apigw::dynamo_result r = store.call_json(name_of(op), body_of(o, op, c, i));
    // Checked on the document: serializing it is the endpoint's work, not the store's.
    const rj::Document& b = r.body();
    const bool good = r.ok() && (op != operation::get || b.HasMember("Item")) &&
                      (op != operation::query || (b.HasMember("Count") && b["Count"].GetInt() == kPerRoom));
    if (!good) {
      error = std::string(name_of(op)) + " in-process failed: " + r.to_json();
      return false;
    }
    return true;
  });
}

// The items GetItem and Query read, written through CALL(operation name, body).
template <class Call>
bool preload(const options& o, Call call) {
  for (int i = 0; i < kGetKeys; ++i) {
    if (!call(put_body(o.table, key_name('g', i), 0))) return false;
  }
  for (int r = 0; r < kQueryRooms; ++r) {
    for (int k = 0; k < kPerRoom; ++k) {
      if (!call(put_body(o.table, key_name('q', r), k))) return false;
    }
  }
  return true;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t end = std::min(text.find(',', at), text.size());
    const int n = std::atoi(text.substr(at, end - at).c_str());
    if (n > 0) out.push_back(n);
    at = end + 1;
  }
  return out;
}

[[noreturn]] void usage() {
  std::cerr << "usage: apigw_dynamodb_bench --url http://127.0.0.1:PORT --store FILE|:memory: "
               "[--clients 1,16] [--seconds S] [--table NAME]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (flag == "--url") {
      const std::string prefix = "http://";
      const auto colon = value.rfind(':');
      if (value.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size()) usage();
      o.host = value.substr(prefix.size(), colon - prefix.size());
      o.port = std::atoi(value.c_str() + colon + 1);
    } else if (flag == "--store") {
      o.store_path = value;
    } else if (flag == "--clients") {
      o.clients = parse_list(value);
    } else if (flag == "--seconds") {
      o.seconds = std::atof(value.c_str());
    } else if (flag == "--table") {
      o.table = value;
    } else {
      usage();
    }
  }
  if (o.port <= 0 || o.store_path.empty() || o.clients.empty() || o.seconds <= 0) usage();

  rj::Document schema_json;
  schema_json.Parse((R"({"TableName": ")" + o.table + R"(",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]})").c_str());
  auto schema = apigw::store::parse_table_schema(schema_json, "bench");
  if (!schema) {
    std::cerr << schema.error() << '\n';
    return 1;
  }
  auto opened = session_store::open({o.store_path, std::chrono::seconds(5)}, {*schema});
  if (!opened) {
    std::cerr << opened.error() << '\n';
    return 1;
  }
  session_store& store = **opened;

  std::string error;
  const bool loaded =
      preload(o, [&](const std::string& body) {
        const auto r = store.call_json("PutItem", body);
        if (!r.ok()) error = "in-process preload: " + r.error().message;
        return r.ok();
      }) &&
      preload(o, [&](const std::string& body) {
        static connection c(o.host, o.port);
        std::string answer;
        const int status = c.call(o.host + ":" + std::to_string(o.port), "PutItem", body, answer);
        if (status != 200) error = "HTTP preload answered " + std::to_string(status) + ": " + answer;
        return status == 200;
      });
  if (!loaded) {
    std::cerr << error << '\n';
    return 1;
  }

  std::printf("store %s, %.1f s per run; µs: mean time of a call as its client sees it; client CPU: the "
              "client's own µs per HTTP call; ceiling: the calls/s that allows on one core\n",
              o.store_path.c_str(), o.seconds);
  std::printf("%-9s %7s | %12s %8s | %12s %8s %9s | %10s %12s %8s\n", "operation", "clients", "in-process/s",
              "µs", "HTTP/s", "µs", "overhead", "client CPU", "ceiling/s", "flag");
  std::string json = R"({"store":")" + o.store_path + R"(","results":[)";
  bool ok = true;
  for (int clients : o.clients) {
    for (operation op : {operation::put, operation::get, operation::query}) {
      const figures local = in_process(o, store, op, clients);
      const figures http = over_http(o, op, clients);
      for (const figures* f : {&local, &http}) {
        if (!f->error.empty()) {
          std::cerr << f->error << '\n';
          ok = false;
        }
      }
      const bool client_bound = http.per_second() > http.client_ceiling_per_second() / 2;
      const double overhead = http.us_per_call(clients) - local.us_per_call(clients);
      char overhead_text[32] = "-";
      if (clients == 1) std::snprintf(overhead_text, sizeof overhead_text, "%.1f", overhead);
      std::printf("%-9s %7d | %12.0f %8.1f | %12.0f %8.1f %9s | %10.1f %12.0f %8s\n", name_of(op), clients,
                  local.per_second(), local.us_per_call(clients), http.per_second(), http.us_per_call(clients),
                  overhead_text, http.client_cpu_us_per_call(), http.client_ceiling_per_second(),
                  client_bound ? "CLIENT?" : "");
      char line[512];
      std::snprintf(line, sizeof line,
                    R"(%s{"operation":"%s","clients":%d,"in_process_per_s":%.0f,"in_process_us":%.1f,)"
                    R"("http_per_s":%.0f,"http_us":%.1f,"overhead_us":%s,"client_cpu_us":%.1f,)"
                    R"("ceiling_per_s":%.0f,"client_bound":%s})",
                    json.back() == '[' ? "" : ",", name_of(op), clients, local.per_second(),
                    local.us_per_call(clients), http.per_second(), http.us_per_call(clients),
                    clients == 1 ? overhead_text : "null", http.client_cpu_us_per_call(),
                    http.client_ceiling_per_second(), client_bound ? "true" : "false");
      json += line;
    }
  }
  json += "]}";
  std::printf("%s\n", json.c_str());
  return ok ? 0 : 1;
}
