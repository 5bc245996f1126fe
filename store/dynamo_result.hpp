// The outcome of one DynamoDB-shaped operation, as the store names it: the public type of
// include/apigw/dynamo_result.hpp, which handlers receive unchanged.
// Thread-safety: plain values; one result belongs to one caller.
#pragma once

#include "apigw/dynamo_result.hpp"

namespace apigw::store {

using apigw::dynamo_error;
using apigw::dynamo_result;

}  // namespace apigw::store
