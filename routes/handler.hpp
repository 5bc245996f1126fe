// The handler interface, as the emulator's own code names it: the public types of
// include/apigw/handler.hpp under apigw::routes.
// Thread-safety: see include/apigw/handler.hpp.
#pragma once

#include "apigw/handler.hpp"
#include "routes/connections_api.hpp"
#include "routes/tables_api.hpp"

namespace apigw::routes {

using apigw::authorizer;
using apigw::authorizer_factory;
using apigw::authorizer_result;
using apigw::handler;
using apigw::handler_factory;
using apigw::handler_result;
using apigw::invocation_context;
using apigw::invocation_log;
using apigw::unauthorized;

}  // namespace apigw::routes
