// libFuzzer target: the emulator itself, in-process on 127.0.0.1, driven over a real loopback
// socket: listener, HTTP session, management and admin endpoints, the upgrade, $connect before
// the 101, frame_guard, WebSocket messages through route selection to the handlers (the lab's
// chat handlers with their table, echo, inspect, a mock $default), and $disconnect.
// Input: raw bytes a client sends. When the bytes start with a handshake (a head holding
// Sec-WebSocket-Key), the head goes first and the rest (WebSocket frames) only once the server
// answered, as a client waits for the 101. Then the client half-closes and reads until the
// server closes; a server that keeps the connection open k_close_timeout after that is a hang,
// reported as a crash with its input.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"
#include "emulator/net/server.hpp"
#include "apigw/handler_registry.hpp"

namespace {

using namespace std::chrono_literals;

// The lab's chat routes and table next to echo, inspect and a mock $default, so that messages
// reach handlers that write the store, post to connections and answer the client.
constexpr std::string_view k_api = R"({
  "name": "fuzz",
  "apiId": "fuzzapi001",
  "routeSelectionExpression": "$request.body.action",
  "stage": {"name": "Prod", "accessLogFormat": "$context.requestId $context.routeKey $context.status"},
  "limits": {"maxMessageBytes": 65536, "maxFrameBytes": 4096, "idleTimeoutSeconds": 60,
             "maxConnectionSeconds": 120, "integrationTimeoutMillis": 5000},
  "tables": [{"TableName": "simplechat_connections",
              "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}]}],
  "routes": [
    {"routeKey": "$connect", "integration": "connect"},
    {"routeKey": "$disconnect", "integration": "disconnect"},
    {"routeKey": "sendmessage", "integration": "send"},
    {"routeKey": "echo", "integration": "echo", "routeResponseSelectionExpression": "$default"},
    {"routeKey": "whoami", "integration": "inspect", "routeResponseSelectionExpression": "$default"},
    {"routeKey": "$default", "integration": "fallback"}
  ],
  "integrations": {
    "connect": {"handler": "simplechat-onconnect", "options": {"tableName": "simplechat_connections"},
                "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}},
    "disconnect": {"handler": "simplechat-ondisconnect", "options": {"tableName": "simplechat_connections"},
                   "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}},
    "send": {"handler": "simplechat-sendmessage", "options": {"tableName": "simplechat_connections"},
             "policy": {"Version": "2012-10-17", "Statement": [
               {"Effect": "Allow", "Action": ["dynamodb:*", "execute-api:ManageConnections"], "Resource": "*"}]}},
    "echo": {"handler": "echo"},
    "inspect": {"handler": "inspect"},
    "fallback": {"handler": "mock", "options": {"statusCode": 200, "body": "no route"}}
  }
})";

constexpr auto k_answer_timeout = 1s;   // for the server's answer to a handshake
constexpr auto k_close_timeout = 20s;   // for the server to close after the client's FIN

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "server fuzz: %s\n", what.c_str());
  std::abort();
}

apigw::emulator::server& the_server() {
  static std::unique_ptr<apigw::emulator::server> s = [] {
    auto loaded = apigw::config::load_text(k_api, "fuzz-server.json");
    if (!loaded) fail(loaded.error());
    apigw::emulator::server_options options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.log_invocations = false;
    options.print_trace = false;
    options.access_log_path = "/dev/null";
    auto created = apigw::emulator::server::create(*std::move(loaded), apigw::handler_registry::with_builtins(),
                                                   options);
    if (!created) fail(created.error());
    auto server = *std::move(created);
    if (auto started = server->start(); !started) fail(started.error());
    return server;
  }();
  return *s;
}

class client {
 public:
  explicit client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) fail(std::string("socket() failed: ") + std::strerror(errno));
    // The server closes first, so each run leaves a TIME_WAIT behind on the server's side for
    // 60 s. From one source address the ~28,000 ephemeral ports run out after a minute at
    // 500 runs a second (connect() then fails with EADDRNOTAVAIL), so each run comes from the
    // next address of 127.1.0.0/16 (loopback answers the whole of 127.0.0.0/8).
    static std::uint32_t next_source = 0;
    const std::uint32_t n = next_source++ % (256 * 254);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((n / 254) << 8) | (n % 254 + 1));
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      fail(std::string("cannot bind the client to a loopback address: ") + std::strerror(errno));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      fail(std::string("cannot connect to the in-process server: ") + std::strerror(errno));
    }
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // False when the server no longer takes bytes (it may close early: that is fine).
  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void half_close() { ::shutdown(fd_, SHUT_WR); }

  // Reads until STOP says enough, the server closes or TIMEOUT passes; false on the timeout.
  template <class Stop>
  bool read_until(std::chrono::milliseconds timeout, Stop stop) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[16384];
    while (!stop(received_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0) return true;
      if (ready == 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;  // closed (or reset) by the server
      // Only the head matters to the harness: keep little of what a chatty server sends.
      if (received_.size() < 65536) received_.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }

 private:
  int fd_;
  std::string received_;
};

bool has_websocket_key(std::string_view head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("sec-websocket-key") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& server = the_server();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  client c(server.port());
  std::string_view rest = input;
  const std::size_t head_end = input.find("\r\n\r\n");
  if (head_end != std::string_view::npos && has_websocket_key(input.substr(0, head_end))) {
    const std::string_view head = input.substr(0, head_end + 4);
    rest = input.substr(head.size());
    if (!c.send_all(head)) rest = {};
    c.read_until(k_answer_timeout, [](const std::string& r) { return r.find("\r\n\r\n") != std::string::npos; });
  }
  c.send_all(rest);
  c.half_close();
  if (!c.read_until(k_close_timeout, [](const std::string&) { return false; })) {
    fail("the server kept the connection open " + std::to_string(k_close_timeout.count()) +
         " s after the client's FIN");
  }
  return 0;
}
