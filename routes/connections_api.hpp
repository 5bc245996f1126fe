// The management API as handlers see it, as the emulator's own code names it:
// include/apigw/connections_api.hpp under apigw::routes.
// Thread-safety: see include/apigw/connections_api.hpp.
#pragma once

#include "apigw/connections_api.hpp"

namespace apigw::routes {

using apigw::connection_description;
using apigw::connections_api;
using apigw::management_result;

}  // namespace apigw::routes
