// The types of a client connection's socket and stream: bound to a strand of the I/O context by
// its concrete type, not the type-erased any_io_executor, so that the composed operations of
// every read and write copy and move a strand (an executor and a shared pointer to its state)
// instead of a polymorphic executor.
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>

namespace apigw::emulator {

using connection_executor = boost::asio::strand<boost::asio::io_context::executor_type>;
using connection_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, connection_executor>;
using connection_stream = boost::beast::basic_stream<boost::asio::ip::tcp, connection_executor>;

}  // namespace apigw::emulator
