// The handler registry, as the emulator's own code names it: include/apigw/handler_registry.hpp
// under apigw::routes.
// Thread-safety: see include/apigw/handler_registry.hpp.
#pragma once

#include "apigw/handler_registry.hpp"
#include "routes/handler.hpp"

namespace apigw::routes {

using apigw::handler_registry;

}  // namespace apigw::routes
