// A "provided" runtime's bootstrap for the tests: a plain C++ program that speaks the Runtime API
// with one HTTP/1.1 request per connection and answers each invocation with its event (or, when
// the function's environment sets BOOTSTRAP_ANSWER, with that text as it is).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace {

// Sends REQUEST to host:port from AWS_LAMBDA_RUNTIME_API; returns the whole answer.
std::string exchange(const std::string& request) {
  const std::string api = std::getenv("AWS_LAMBDA_RUNTIME_API");
  const auto colon = api.find(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(api.substr(colon + 1))));
  ::inet_pton(AF_INET, api.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::exit(1);
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::write(fd, request.data() + sent, request.size() - sent);
    if (n <= 0) std::exit(1);
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

std::string header(const std::string& answer, const std::string& name) {
  const auto at = answer.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 4;
  return answer.substr(start, answer.find("\r\n", start) - start);
}

}  // namespace

int main() {
  for (;;) {
    const std::string next =
        exchange("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\nConnection: close\r\n\r\n");
    const std::string id = header(next, "Lambda-Runtime-Aws-Request-Id");
    const auto body_at = next.find("\r\n\r\n");
    if (id.empty() || body_at == std::string::npos) return 1;
    const std::string event = next.substr(body_at + 4);
    // The answer is a proxy result whose body is the event itself.
    std::string escaped;
    for (char c : event) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    const char* fixed = std::getenv("BOOTSTRAP_ANSWER");
    const std::string result = fixed ? std::string(fixed) : "{\"statusCode\":200,\"body\":\"" + escaped + "\"}";
    exchange("POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: runtime\r\n"
             "Connection: close\r\nContent-Length: " + std::to_string(result.size()) + "\r\n\r\n" + result);
  }
}
