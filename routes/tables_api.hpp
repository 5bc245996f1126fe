// The tables as handlers see it, as the emulator's own code names it: include/apigw/tables_api.hpp
// under apigw::routes (the store answers with the same dynamo_result handlers receive).
// Thread-safety: see include/apigw/tables_api.hpp.
#pragma once

#include "apigw/tables_api.hpp"

namespace apigw::routes {

using apigw::dynamo_result;
using apigw::tables_api;

}  // namespace apigw::routes
