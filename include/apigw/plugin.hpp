// Plugins: a shared library of handlers that a config loads with
//   "integrations": {"chat": {"type": "plugin", "library": "libchat.so", "handler": "sendmessage"}}.
// The library defines its entry points with APIGW_PLUGIN and registers its handlers (and
// authorizers) there; it needs only these headers and RapidJSON, not the emulator's library.
//
//   #include <apigw/plugin.hpp>
//   APIGW_PLUGIN(registrar) {
//     registrar.add_instance("hello", std::make_shared<hello_handler>());
//   }
//
// The emulator loads each library once, checks apigw_plugin_api_version() before anything else,
// then calls apigw_plugin_register(); it unloads the library only once every handler built from it
// is destroyed. Build the plugin with the same compiler family and C++ standard library as the
// emulator: handlers exchange std::string, std::function and rapidjson values with it.
// Thread-safety: registration runs once, on the thread that creates the emulator.
#pragma once

#include <exception>
#include <memory>
#include <string>

#include "apigw/export.hpp"
#include "apigw/handler.hpp"

// The version of the plugin interface: the types of apigw/handler.hpp, apigw/connections_api.hpp,
// apigw/tables_api.hpp, apigw/dynamo_result.hpp and this file. Raised on every incompatible
// change; the emulator refuses a plugin built against another version.
#define APIGW_PLUGIN_API_VERSION 1u

namespace apigw {

// What a plugin's registration function receives. Names are the plugin's own: the config's
// "handler" picks one of them, and two plugins may use the same name.
class plugin_registrar {
 public:
  virtual void add(std::string name, handler_factory factory) = 0;
  // One handler object shared by every integration naming NAME.
  virtual void add_instance(std::string name, std::shared_ptr<handler> instance) = 0;
  // Authorizers join the emulator's authorizers under NAME (an "authorizers" entry's "handler").
  virtual void add_authorizer(std::string name, authorizer_factory factory) = 0;
  // Refuses the plugin: the emulator does not start and prints MESSAGE.
  virtual void fail(std::string message) = 0;

 protected:
  ~plugin_registrar() = default;
};

}  // namespace apigw

// The entry points, as the emulator looks them up.
extern "C" {
using apigw_plugin_api_version_function = unsigned (*)();
using apigw_plugin_register_function = void (*)(apigw::plugin_registrar*);
}

// Defines the plugin's entry points; the braces that follow are its registration function, with
// REGISTRAR an apigw::plugin_registrar&. An exception thrown there refuses the plugin.
#define APIGW_PLUGIN(REGISTRAR)                                                              \
  static void apigw_plugin_register_handlers(::apigw::plugin_registrar& REGISTRAR);          \
  extern "C" APIGW_EXPORT unsigned apigw_plugin_api_version() {                              \
    return APIGW_PLUGIN_API_VERSION;                                                         \
  }                                                                                          \
  extern "C" APIGW_EXPORT void apigw_plugin_register(::apigw::plugin_registrar* registrar) { \
    try {                                                                                    \
      apigw_plugin_register_handlers(*registrar);                                            \
    } catch (const std::exception& e) {                                                      \
      registrar->fail(e.what());                                                             \
    } catch (...) {                                                                          \
      registrar->fail("registration threw an exception that is not a std::exception");      \
    }                                                                                        \
  }                                                                                          \
  static void apigw_plugin_register_handlers(::apigw::plugin_registrar& REGISTRAR)
