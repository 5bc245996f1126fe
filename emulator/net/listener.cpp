#include "emulator/net/listener.hpp"

#include <chrono>
#include <iostream>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "emulator/net/http_session.hpp"
#include "emulator/net/server_context.hpp"

namespace apigw::emulator {

namespace net = boost::asio;

listener::listener(server_context& ctx)
    : ctx_(ctx), acceptor_(ctx.ioc.get_executor()), retry_(ctx.ioc.get_executor()) {}

status listener::listen(const net::ip::tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  const auto where = [&] {
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open a socket for " + where() + ": " + ec.message());
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("cannot listen on " + where() + ": " + ec.message());
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on " + where() + ": " + ec.message());
  if (!is_loopback(endpoint.address())) {
    const auto bound = acceptor_.local_endpoint(ec);
    std::cerr << "apigw-ws-emulator: warning: listening on " << endpoint.address().to_string() << ":"
              << (ec ? endpoint.port() : bound.port())
              << ", which is not a loopback address: other machines can open connections, call the "
                 "management API (@connections) and read /@emulator/, none of which asks for "
                 "credentials; use --host 127.0.0.1 unless that is what you want\n";
  }
  return {};
}

bool listener::is_loopback(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

net::ip::tcp::endpoint listener::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void listener::run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void listener::do_accept() {
  acceptor_.async_accept(ctx_.next_connection_executor(),
                         [self = shared_from_this()](boost::system::error_code ec, connection_socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void listener::on_accept(boost::system::error_code ec, connection_socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors or memory: wait a little rather than spin, then go on accepting. Said
    // once per run of failures, not every 50 ms.
    if (!accept_failing_) {
      std::cerr << "apigw-ws-emulator: cannot accept connections: " << ec.message()
                << "; retrying every 50 ms (raise ulimit -n if this is \"Too many open files\")\n";
      accept_failing_ = true;
    }
    retry_.expires_after(std::chrono::milliseconds(50));
    retry_.async_wait([self = shared_from_this()](boost::system::error_code e) {
      if (!e) self->do_accept();
    });
    return;
  }
  if (accept_failing_) {
    std::cerr << "apigw-ws-emulator: accepting connections again\n";
    accept_failing_ = false;
  }
  start_http_session(std::move(socket), ctx_);
  do_accept();
}

}  // namespace apigw::emulator
