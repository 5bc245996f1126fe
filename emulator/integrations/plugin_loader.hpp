// Plugin integrations ({"type": "plugin", "library": FILE, "handler": NAME}): loads each library
// the API names once, lets it register its handlers, and makes them available to the gateway.
// Thread-safety: call before the gateway is built, from one thread; what it adds to the registry
// is then as safe as any registered handler.
#pragma once

#include "common/result.hpp"
#include "config/api_config.hpp"
#include "apigw/handler_registry.hpp"

namespace apigw::emulator {

// Loads the libraries of API's plugin integrations (each file once, however many integrations
// name it), adds their handlers to REGISTRY under keys of their own ("NAME@FILE", so that two
// plugins may share a name and none shadows a built-in), points those integrations' handler at
// the keys, and adds their authorizers under their own names. A library stays loaded while the
// registry or any handler built from it lives.
// The error names the config file, the integration's JSON path and the library: missing, not
// loadable (the loader's own text), no entry point, another plugin API version, a failed
// registration, or no handler of that name.
status load_plugins(config::api_spec& api, apigw::handler_registry& registry);

}  // namespace apigw::emulator
