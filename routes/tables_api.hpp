// The tables as handlers see it, as the emulator's own code names it: include/apigw/tables_api.hpp
// under apigw::routes, and the bridge from the store's result type to the public one.
// Thread-safety: see include/apigw/tables_api.hpp; from_store() is a pure function.
#pragma once

#include <utility>

#include "apigw/tables_api.hpp"
#include "store/dynamo_result.hpp"

namespace apigw::routes {

using apigw::dynamo_result;
using apigw::tables_api;

// The store's answer as handlers see it (the body is moved, not copied).
inline apigw::dynamo_result from_store(store::dynamo_result&& r) {
  if (!r.ok()) return apigw::dynamo_result(r.error().type, r.error().message);
  apigw::dynamo_result out;
  out.body() = std::move(r.body());
  return out;
}

}  // namespace apigw::routes
