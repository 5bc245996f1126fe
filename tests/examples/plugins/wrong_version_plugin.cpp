// A plugin built against a plugin API version this emulator does not speak: the loader must refuse
// it before calling anything else.
#include <cstdlib>

namespace apigw {
class plugin_registrar;
}

extern "C" __attribute__((visibility("default"))) unsigned apigw_plugin_api_version() { return 999; }
extern "C" __attribute__((visibility("default"))) void apigw_plugin_register(apigw::plugin_registrar*) {
  std::abort();  // never called
}
