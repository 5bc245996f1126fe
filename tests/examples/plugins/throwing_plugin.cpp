// A plugin whose registration throws: the emulator refuses it with the exception's message.
#include <stdexcept>

#include <apigw/plugin.hpp>

APIGW_PLUGIN(registrar) {
  (void)registrar;
  throw std::runtime_error("the database URL is not set");
}
