// The built-in handlers: "echo" (returns the message body), "inspect" (returns the event it got),
// "mock" (a configurable canned answer, delay or failure).
// Thread-safety: the handlers are stateless after construction.
#pragma once

#include "apigw/handler_registry.hpp"

namespace apigw::emulator {

void add_builtin_handlers(handler_registry& registry);

}  // namespace apigw::emulator
