// libFuzzer target: the configuration loader (config::load_text) on arbitrary text, and for an
// accepted configuration the gateway built from it (handlers created with their options, IAM
// policies and the route selection expression parsed), as the emulator does at start-up.
// Checks beyond "no crash": a rejection has a message naming the source.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"
#include "emulator/core/gateway.hpp"
#include "apigw/handler_registry.hpp"

namespace {

constexpr std::string_view k_source = "fuzz.json";

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_loader fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = apigw::config::load_text(text, k_source);
  if (!loaded) {
    if (loaded.error().find(k_source) == std::string::npos) {
      fail("the message does not name the source", loaded.error());
    }
    return 0;
  }
  const auto& api = *loaded;
  // Plugins name shared libraries to load: never load what a fuzzer wrote.
  for (const auto& [name, integration] : api.integrations) {
    if (integration.type != "builtin") return 0;
  }
  static const auto registry = apigw::handler_registry::with_builtins();
  auto created = apigw::emulator::gateway::create(api, registry);
  if (!created) {
    if (created.error().empty()) fail("the gateway refused the configuration without a message", api.name);
  }
  return 0;
}
