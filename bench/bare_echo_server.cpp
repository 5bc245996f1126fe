// The benchmark's baseline: the leanest Boost.Beast WebSocket echo server, the limit of the
// library on this machine, for the emulator to be compared with. It has no routing, no events,
// no store, no idle timer and no registry of connections.
//
// The message path of an echo connection is one async_read_some into a 256-byte array of the
// session (a longer message continues with an async_read into a flat_buffer) and one async_write
// of those same bytes, on a websocket::stream over a plain TCP socket whose executor
// is the concrete io_context::executor_type (no any_io_executor, no strand, no tcp_stream timer,
// no shared_ptr copies: the session is owned by its one pending operation and deletes itself
// when the connection ends). With --threads N, each thread runs its own io_context and the
// acceptor deals connections to them in turn, so no connection is ever touched by two threads.
//
// --fanout serves the fan-out scenario instead: a message that is exactly
// {"action":"sendmessage","data":"TEXT"} (TEXT without escapes) sends TEXT to every open
// connection, the sender included, as the lab's sendmessage does; any other message is echoed.
// Each thread keeps the list of its own connections (no lock), and one shared buffer is posted
// to each thread, which queues it on each of its connections.
//
// usage: apigw_bare_echo_server [--host 127.0.0.1] [--port N] [--threads N] [--fanout]
//   --port 0 (the default) binds a free port; prints "listening on ws://HOST:PORT/" when ready.
//   SIGINT or SIGTERM stops it (exit 0).

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

namespace {

using executor_type = net::io_context::executor_type;
using socket_type = net::basic_stream_socket<tcp, executor_type>;
using acceptor_type = net::basic_socket_acceptor<tcp, executor_type>;
using stream_type = websocket::stream<socket_type>;

void report(beast::error_code ec, const char* what) {
  // A peer going away is the normal end of a connection, not worth a line.
  if (ec == net::error::operation_aborted || ec == websocket::error::closed ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == beast::error::timeout)
    return;
  std::cerr << what << ": " << ec.message() << "\n";
}

// A bounded handshake and close; no idle timer, so nothing but the read and the write per message.
void configure(stream_type& ws) {
  ws.set_option(websocket::stream_base::timeout{30s, websocket::stream_base::none(), false});
}

// ---------------------------------------------------------------------------------------------
// Echo: one pending operation at a time (accept, read, write, read, ...), which owns the session.

class echo_session {
 public:
  explicit echo_session(socket_type&& socket) : ws_(std::move(socket)) {}

  void start() {
    configure(ws_);
    ws_.async_accept([this](beast::error_code ec) {
      if (ec) return end(ec, "accept");
      read();
    });
  }

 private:
  // A message starts in first_ and, when longer, continues into buffer_: the pending read of an
  // idle connection holds no buffer (an async_read into buffer_ keeps 1,536 bytes prepared).
  void read() {
    ws_.async_read_some(net::buffer(first_), [this](beast::error_code ec, std::size_t n) {
      if (ec) return end(ec, "read");
      if (ws_.is_message_done()) return write(net::buffer(first_.data(), n));
      buffer_.commit(net::buffer_copy(buffer_.prepare(n), net::buffer(first_.data(), n)));
      ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
        if (ec) return end(ec, "read");
        write(buffer_.data());
      });
    });
  }

  void write(net::const_buffer message) {
    ws_.text(ws_.got_text());
    ws_.async_write(message, [this](beast::error_code ec, std::size_t) {
      if (ec) return end(ec, "write");
      buffer_.consume(buffer_.size());
      read();
    });
  }

  void end(beast::error_code ec, const char* what) {
    report(ec, what);
    delete this;  // no operation is pending: this was the only one
  }

  stream_type ws_;
  std::array<char, 256> first_;
  beast::flat_buffer buffer_;
};

// ---------------------------------------------------------------------------------------------
// Fan-out: a read always pending, writes queued; owned by shared_ptrs in its handlers.

class fanout_session;

// The connections of one thread; only that thread touches it.
struct fanout_list {
  std::vector<fanout_session*> sessions;
};

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

using message_ptr = std::shared_ptr<const std::string>;

class fanout_hub {
 public:
  struct member {
    net::io_context* ioc;
    fanout_list* list;
  };
  explicit fanout_hub(std::vector<member> members) : members_(std::move(members)) {}
  void broadcast(const message_ptr& message);

 private:
  std::vector<member> members_;
};

class fanout_session : public std::enable_shared_from_this<fanout_session> {
 public:
  fanout_session(socket_type&& socket, fanout_list& list, fanout_hub& hub)
      : ws_(std::move(socket)), list_(list), hub_(hub) {}
  ~fanout_session() {
    if (joined_) std::erase(list_.sessions, this);
  }
  fanout_session(const fanout_session&) = delete;
  fanout_session& operator=(const fanout_session&) = delete;

  void start() {
    configure(ws_);
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (ec) return report(ec, "accept");
      self->list_.sessions.push_back(self.get());
      self->joined_ = true;
      self->read();
    });
  }

  // On this session's thread.
  void deliver(message_ptr message, bool text) {
    queue_.push_back({std::move(message), text});
    if (queue_.size() == 1) write();
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return report(ec, "read");
      auto& b = self->buffer_;
      std::string_view text(static_cast<const char*>(b.data().data()), b.size());
      auto data = self->ws_.got_text() ? fanout_data(text) : std::string_view();
      if (!data.empty())
        self->hub_.broadcast(std::make_shared<const std::string>(data));
      else
        self->deliver(std::make_shared<const std::string>(text), self->ws_.got_text());
      b.consume(b.size());
      self->read();
    });
  }

  void write() {
    ws_.text(queue_.front().text);
    ws_.async_write(net::buffer(*queue_.front().message),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec) return report(ec, "write");
                      self->queue_.erase(self->queue_.begin());
                      if (!self->queue_.empty()) self->write();
                    });
  }

  struct queued {
    message_ptr message;
    bool text;
  };
  stream_type ws_;
  beast::flat_buffer buffer_;
  fanout_list& list_;
  fanout_hub& hub_;
  std::vector<queued> queue_;
  bool joined_ = false;
};

void fanout_hub::broadcast(const message_ptr& message) {
  for (auto& m : members_) {
    net::post(*m.ioc, [list = m.list, message] {
      for (auto* s : list->sessions) s->deliver(message, true);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Accepting

class listener {
 public:
  // HUB and LISTS (one per context) only for fan-out; both outlive the contexts.
  listener(std::vector<std::unique_ptr<net::io_context>>& contexts, tcp::endpoint endpoint,
           fanout_hub* hub, std::vector<fanout_list>& lists)
      : contexts_(contexts), acceptor_(contexts[0]->get_executor()), hub_(hub), lists_(lists) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void accept() {
    auto& ioc = *contexts_[next_];
    acceptor_.async_accept(ioc.get_executor(), [this](beast::error_code ec, socket_type socket) {
      if (ec) {
        report(ec, "accept");
      } else if (hub_) {
        std::make_shared<fanout_session>(std::move(socket), lists_[next_], *hub_)->start();
      } else {
        (new echo_session(std::move(socket)))->start();
      }
      next_ = (next_ + 1) % contexts_.size();
      accept();
    });
  }

 private:
  std::vector<std::unique_ptr<net::io_context>>& contexts_;
  acceptor_type acceptor_;
  fanout_hub* hub_;
  std::vector<fanout_list>& lists_;
  std::size_t next_ = 0;
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
            << "usage: apigw_bare_echo_server [--host 127.0.0.1] [--port N] [--threads N] [--fanout]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char* argv[]) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  unsigned long threads = 1;
  bool fanout = false;
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
    else if (arg == "--fanout")
      fanout = true;
    else if (arg == "--help" || arg == "-h")
      usage("help");
    else
      usage("unknown argument " + std::string(arg));
  }

  raise_descriptor_limit();

  beast::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) usage("bad --host " + host + ": " + ec.message());

  // One io_context per thread, each run by that thread alone. The fan-out lists and hub are
  // declared first so that they outlive the sessions the contexts destroy on exit.
  std::vector<fanout_list> lists(threads);
  std::unique_ptr<fanout_hub> hub;
  std::vector<std::unique_ptr<net::io_context>> contexts;
  for (unsigned long i = 0; i < threads; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
  if (fanout) {
    std::vector<fanout_hub::member> members;
    for (unsigned long i = 0; i < threads; ++i) members.push_back({contexts[i].get(), &lists[i]});
    hub = std::make_unique<fanout_hub>(std::move(members));
  }
  std::vector<net::executor_work_guard<executor_type>> work;
  for (auto& c : contexts) work.push_back(net::make_work_guard(*c));

  std::unique_ptr<listener> l;
  try {
    l = std::make_unique<listener>(contexts, tcp::endpoint{address, static_cast<std::uint16_t>(port)},
                                   hub.get(), lists);
  } catch (const std::exception& e) {
    std::cerr << "apigw_bare_echo_server: cannot listen on " << host << ":" << port << ": "
              << e.what() << "\n";
    return 1;
  }
  l->accept();

  net::signal_set signals(*contexts[0], SIGINT, SIGTERM);
  signals.async_wait([&contexts](beast::error_code, int) {
    for (auto& c : contexts) c->stop();
  });

  std::printf("listening on ws://%s:%u/\n", host.c_str(), static_cast<unsigned>(l->port()));
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (unsigned long i = 1; i < threads; ++i) pool.emplace_back([&c = *contexts[i]] { c.run(); });
  contexts[0]->run();
  for (auto& t : pool) t.join();
  return 0;
}
