// The WebSocket side of a client connection: $connect before the 101, then frames in and out
// through the gateway, limits and timers, and $disconnect exactly once at the end.
// Thread-safety: a session lives on its connection's I/O thread; others reach it through
// emulator::connection.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "emulator/net/connection_socket.hpp"

namespace apigw::emulator {

struct server_context;

// Takes over SOCKET once the upgrade request REQ arrived on the WebSocket path.
// REQUIRES: called on SOCKET's I/O thread.
void start_websocket_session(connection_socket socket,
                             boost::beast::http::request<boost::beast::http::string_body> req,
                             server_context& ctx);

}  // namespace apigw::emulator
