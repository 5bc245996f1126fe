// The type of a client connection's socket: bound by its concrete executor type to the
// io_context of the one I/O thread that serves the connection. Every handler of a connection then
// runs on that thread, one at a time, as a strand would run them, without a strand's lock and
// queue on every operation; and no composed operation copies a type-erased any_io_executor.
// Other threads (the management API, the worker pool, function answers) reach a connection by
// posting to its executor.
#pragma once

#include <chrono>

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace apigw::emulator {

using connection_executor = boost::asio::io_context::executor_type;
using connection_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, connection_executor>;
// A timer of an I/O thread, bound to it the same way.
using connection_timer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                           boost::asio::wait_traits<std::chrono::steady_clock>,
                                                           connection_executor>;

}  // namespace apigw::emulator
