// One accepted TCP connection while it speaks HTTP: an upgrade on the WebSocket path becomes a
// WebSocket session; any other request gets its HTTP answer (426 on the WebSocket path).
// Thread-safety: lives on its connection's I/O thread.
#pragma once

#include "emulator/net/connection_socket.hpp"

namespace apigw::emulator {

struct server_context;

// REQUIRES: SOCKET was accepted onto the io_context of one I/O thread.
void start_http_session(connection_socket socket, server_context& ctx);

}  // namespace apigw::emulator
