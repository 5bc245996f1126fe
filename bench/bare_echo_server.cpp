// The benchmark's baseline: a bare Boost.Beast WebSocket echo server, shaped like Beast's
// advanced server (async, one strand per connection, one io_context run by N threads), with no
// routing, no events and no store: what the machine can do, for the emulator to be compared with.
// Thread-safety: each session lives on its own strand; the session set is guarded by a mutex.
//
// Every text message is echoed back as it came. One exception serves the fan-out scenario: a
// message that is exactly {"action":"sendmessage","data":"TEXT"} (TEXT without escapes) sends
// TEXT to every open connection, the sender included, as the lab's sendmessage does.
//
// usage: apigw_bare_echo_server [--host 127.0.0.1] [--port N] [--threads N]
//   --port 0 (the default) binds a free port; prints "listening on ws://HOST:PORT/" when ready.

#include <sys/resource.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

void fail(beast::error_code ec, const char* what) {
  // A peer going away is the normal end of a connection, not worth a line.
  if (ec == net::error::operation_aborted || ec == websocket::error::closed ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == beast::error::timeout)
    return;
  std::cerr << what << ": " << ec.message() << "\n";
}

// If TEXT is a fan-out request, returns its data; empty view otherwise.
std::string_view fanout_data(std::string_view text) {
  constexpr std::string_view prefix = R"({"action":"sendmessage","data":")";
  constexpr std::string_view suffix = R"("})";
  if (text.size() < prefix.size() + suffix.size() || !text.starts_with(prefix) ||
      !text.ends_with(suffix))
    return {};
  auto data = text.substr(prefix.size(), text.size() - prefix.size() - suffix.size());
  if (data.find_first_of("\"\\") != std::string_view::npos) return {};
  return data;
}

class session;

// The open sessions, for fan-out. Registration costs one lock per connection, as any gateway's
// connection registry does.
class session_set {
 public:
  void join(session* s, std::weak_ptr<session> w) {
    std::lock_guard lock(mutex_);
    sessions_.emplace(s, std::move(w));
  }
  void leave(session* s) {
    std::lock_guard lock(mutex_);
    sessions_.erase(s);
  }
  // Copies the set under the lock and sends after unlocking.
  void send(const std::shared_ptr<const std::string>& message);

 private:
  std::mutex mutex_;
  std::unordered_map<session*, std::weak_ptr<session>> sessions_;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket&& socket, std::shared_ptr<session_set> set)
      : ws_(std::move(socket)), set_(std::move(set)) {}

  ~session() { set_->leave(this); }

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void run() {
    // On the session's strand from here on.
    net::dispatch(ws_.get_executor(), beast::bind_front_handler(&session::on_run, shared_from_this()));
  }

  // Queues MESSAGE for this connection; safe from any thread.
  void deliver(std::shared_ptr<const std::string> message) {
    net::post(ws_.get_executor(),
              beast::bind_front_handler(&session::on_deliver, shared_from_this(), std::move(message)));
  }

 private:
  void on_run() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(beast::http::field::server, "apigw-bare-echo-server");
    }));
    ws_.async_accept(beast::bind_front_handler(&session::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    set_->join(this, weak_from_this());
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "read");
    if (ws_.got_text()) {
      auto data = fanout_data(std::string_view(static_cast<const char*>(buffer_.data().data()),
                                               buffer_.size()));
      if (!data.empty()) {
        auto message = std::make_shared<const std::string>(data);
        buffer_.consume(buffer_.size());
        set_->send(message);
        return do_read();
      }
    }
    if (queue_.empty()) {
      // The common case, as in Beast's examples: write straight from the read buffer and read
      // again once the write is done.
      echo_in_flight_ = true;
      ws_.text(ws_.got_text());
      return ws_.async_write(buffer_.data(),
                             beast::bind_front_handler(&session::on_echo_write, shared_from_this()));
    }
    // A fan-out write is in flight: queue a copy behind it.
    queue_.push_back(std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data())));
    buffer_.consume(buffer_.size());
    do_read();
  }

  void on_echo_write(beast::error_code ec, std::size_t) {
    echo_in_flight_ = false;
    if (ec) return fail(ec, "write");
    buffer_.consume(buffer_.size());
    if (!queue_.empty()) do_write_queued();
    do_read();
  }

  void on_deliver(std::shared_ptr<const std::string> message) {
    queue_.push_back(std::move(message));
    if (queue_.size() > 1 || echo_in_flight_) return;  // a write is in flight
    do_write_queued();
  }

  void do_write_queued() {
    ws_.text(true);
    ws_.async_write(net::buffer(*queue_.front()),
                    beast::bind_front_handler(&session::on_queued_write, shared_from_this()));
  }

  void on_queued_write(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    queue_.pop_front();
    if (!queue_.empty()) do_write_queued();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::shared_ptr<session_set> set_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  bool echo_in_flight_ = false;
};

void session_set::send(const std::shared_ptr<const std::string>& message) {
  std::vector<std::weak_ptr<session>> targets;
  {
    std::lock_guard lock(mutex_);
    targets.reserve(sessions_.size());
    for (const auto& entry : sessions_) targets.push_back(entry.second);
  }
  for (const auto& w : targets)
    if (auto s = w.lock()) s->deliver(message);
}

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(net::io_context& ioc, tcp::endpoint endpoint, std::shared_ptr<session_set> set)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), set_(std::move(set)) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void run() { do_accept(); }

 private:
  void do_accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec)
      fail(ec, "accept");
    else
      std::make_shared<session>(std::move(socket), set_)->run();
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  std::shared_ptr<session_set> set_;
};

// Idle connections cost descriptors: take all the process may have.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "apigw_bare_echo_server: " << error << "\n"
            << "usage: apigw_bare_echo_server [--host 127.0.0.1] [--port N] [--threads N]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char* argv[]) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  unsigned long threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
      return argv[++i];
    };
    auto number = [&](unsigned long max) {
      auto text = value();
      char* end = nullptr;
      auto n = std::strtoul(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || n > max) usage("bad value for " + std::string(arg) + ": " + text);
      return n;
    };
    if (arg == "--host")
      host = value();
    else if (arg == "--port")
      port = number(65535);
    else if (arg == "--threads")
      threads = std::max(1ul, number(256));
    else if (arg == "--help" || arg == "-h")
      usage("help");
    else
      usage("unknown argument " + std::string(arg));
  }

  raise_descriptor_limit();

  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) usage("bad --host " + host + ": " + ec.message());

  net::io_context ioc{static_cast<int>(threads)};
  std::shared_ptr<listener> l;
  try {
    l = std::make_shared<listener>(ioc, tcp::endpoint{address, static_cast<std::uint16_t>(port)},
                                   std::make_shared<session_set>());
  } catch (const std::exception& e) {
    std::cerr << "apigw_bare_echo_server: cannot listen on " << host << ":" << port << ": "
              << e.what() << "\n";
    return 1;
  }
  l->run();

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });

  std::printf("listening on ws://%s:%u/\n", host.c_str(), static_cast<unsigned>(l->port()));
  std::fflush(stdout);

  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (auto i = threads - 1; i > 0; --i) pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
