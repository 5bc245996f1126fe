// The built-in "token" REQUEST authorizer: the authorizer's first identity source is a token,
// looked up in options.tokens; a known token is allowed as its principal (with its context) or
// denied, any other token fails with Unauthorized.
// Thread-safety: immutable after construction; authorize() is safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include <rapidjson/document.h>

#include "apigw/handler.hpp"

namespace apigw::emulator {

// The factory registered as "token". OPTIONS: {"tokens": {"TOKEN": {"principalId": "…",
// "context": {…}} | {"deny": true}, …}, "identitySource": [...]} (identitySource is the
// authorizer's own, given by the emulator). The error names the option and what is allowed.
std::variant<std::unique_ptr<authorizer>, std::string> make_token_authorizer(
    const rapidjson::Value& options);

}  // namespace apigw::emulator
