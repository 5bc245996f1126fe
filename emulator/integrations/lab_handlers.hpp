// The Websocket-Lab's chat functions, as the public sample chat app writes them in Node.js:
// "simplechat-onconnect" puts the connection id into the table, "simplechat-ondisconnect" deletes
// it, "simplechat-sendmessage" posts JSON.parse(body).data to every connection in the table and
// deletes the ids that answer Gone. Option: "tableName" (default "simplechat_connections").
// Thread-safety: stateless after construction.
#pragma once

#include "apigw/handler_registry.hpp"

namespace apigw::emulator {

void add_lab_handlers(handler_registry& registry);

}  // namespace apigw::emulator
