#include "tests/support/raw_connection.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace apigw::test_support {
namespace {

using clock = std::chrono::steady_clock;

int millis_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

raw_connection::raw_connection(std::chrono::milliseconds timeout) : timeout_(timeout) {}

raw_connection::~raw_connection() { close(); }

void raw_connection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool raw_connection::connect(const std::string& host, std::uint16_t port) {
  close();
  buffer_.clear();
  eof_ = false;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{fd_, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout_.count())) != 1) return false;
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

bool raw_connection::send(std::string_view bytes) {
  if (fd_ < 0) return false;
  const auto deadline = clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, millis_until(deadline)) != 1) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

bool raw_connection::fill(clock::time_point deadline) {
  if (fd_ < 0 || eof_) return false;
  for (;;) {
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      eof_ = true;  // reset: the peer is gone as far as the tests care
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, millis_until(deadline));
    if (ready == 0) return false;
    if (ready < 0 && errno != EINTR) return false;
  }
}

http_response raw_connection::read_http_response() {
  http_response r;
  const auto deadline = clock::now() + timeout_;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) {
      r.peer_closed = eof_;
      return r;
    }
  }
  const std::string head = buffer_.substr(0, head_end);
  buffer_.erase(0, head_end + 4);

  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  // "HTTP/1.1 426 Upgrade Required"
  const auto sp1 = status_line.find(' ');
  if (sp1 != std::string::npos) {
    r.status = std::atoi(status_line.c_str() + sp1 + 1);
    const auto sp2 = status_line.find(' ', sp1 + 1);
    if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
  }
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos
                                                                                 : line_end - start);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }

  // RFC 9112 6.3: these responses end with their head.
  if (r.status == 101 || r.status == 204 || r.status == 304) {
    r.complete = true;
    return r;
  }
  if (const auto length = r.header("Content-Length")) {
    const std::size_t n = static_cast<std::size_t>(std::strtoull(length->c_str(), nullptr, 10));
    while (buffer_.size() < n) {
      if (!fill(deadline)) {
        r.peer_closed = eof_;
        r.body = buffer_;
        buffer_.clear();
        return r;
      }
    }
    r.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
    r.complete = true;
    return r;
  }
  // No Content-Length: the body runs until the peer closes.
  while (fill(deadline)) {
  }
  r.peer_closed = eof_;
  r.complete = eof_;
  r.body = buffer_;
  buffer_.clear();
  return r;
}

std::optional<ws_frame> raw_connection::read_frame() {
  const auto deadline = clock::now() + timeout_;
  for (;;) {
    std::size_t used = 0;
    if (auto f = parse_frame(buffer_, used)) {
      buffer_.erase(0, used);
      return f;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

bool raw_connection::wait_for_close(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!eof_) {
    buffer_.clear();
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

bool raw_connection::peer_open() {
  if (fd_ < 0 || eof_) return false;
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
  return true;
}

std::string upgrade_request(std::string_view target, std::string_view host,
                            std::string_view extra_headers) {
  std::string r = "GET ";
  r.append(target);
  r += " HTTP/1.1\r\nHost: ";
  r.append(host);
  r +=
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  r.append(extra_headers);
  r += "\r\n";
  return r;
}

std::string http_request(std::string_view method, std::string_view target, std::string_view host,
                         std::string_view body, std::string_view extra_headers) {
  std::string r;
  r.append(method);
  r += ' ';
  r.append(target);
  r += " HTTP/1.1\r\nHost: ";
  r.append(host);
  r += "\r\n";
  r.append(extra_headers);
  if (!body.empty() || (method != "GET" && method != "HEAD")) {
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n";
  r.append(body);
  return r;
}

http_response http_call(std::uint16_t port, std::string_view method, std::string_view target,
                        std::string_view body, std::string_view extra_headers,
                        std::chrono::milliseconds timeout) {
  raw_connection c(timeout);
  if (!c.connect("127.0.0.1", port)) return {};
  const std::string host = "127.0.0.1:" + std::to_string(port);
  if (!c.send(http_request(method, target, host, body, extra_headers))) return {};
  return c.read_http_response();
}

}  // namespace apigw::test_support
