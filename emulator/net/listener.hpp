// Accepts TCP connections and hands each to an HTTP session on the next I/O thread. Listening on
// an address other than loopback prints a warning on standard error; running out of descriptors
// is said once, and accepting resumes as soon as one is free.
// Thread-safety: lives on the first I/O thread (ctx.ioc, which that thread alone runs, so its
// handlers never overlap and need no strand); stop() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.hpp"
#include "emulator/net/connection_socket.hpp"

namespace apigw::emulator {

struct server_context;

class listener : public std::enable_shared_from_this<listener> {
 public:
  listener(server_context& ctx);

  // Opens, binds and listens. The error names the address and the system's reason.
  status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void run();
  void stop();

  // 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
  static bool is_loopback(const boost::asio::ip::address& address);

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, connection_socket socket);

  server_context& ctx_;
  // Bound to the first I/O thread's io_context by type, as connections are (connection_socket.hpp).
  boost::asio::basic_socket_acceptor<boost::asio::ip::tcp, connection_executor> acceptor_;
  connection_timer retry_;
  bool accept_failing_ = false;
};

}  // namespace apigw::emulator
