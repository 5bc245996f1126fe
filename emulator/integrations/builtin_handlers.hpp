// The built-in handlers: "echo" (returns the message body), "inspect" (returns the event it got),
// "mock" (a configurable canned answer, delay or failure).
// Thread-safety: the handlers are stateless after construction.
#pragma once

#include "apigw/handler_registry.hpp"
#include "routes/route_table.hpp"

namespace apigw::emulator {

void add_builtin_handlers(handler_registry& registry);

// What of its event H reads: the built-in echo the body, the built-in mock nothing, every other
// handler (inspect, a plugin's, an embedding program's, a function) the whole event.
routes::event_use event_use_of(const apigw::handler& h);

}  // namespace apigw::emulator
