// libFuzzer target: the template loader (templates::translate_template_text) on arbitrary text,
// YAML or JSON, and for a translated template the configuration loader on what it became.
// Checks beyond "no crash": a rejection has a message naming the source, and a translation is a
// configuration the emulator loads or refuses with a message. Templates with AllowedPattern are
// skipped: the pattern is the author's own regular expression, which std::regex may backtrack on
// for as long as the pattern asks.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"
#include "templates/template_loader.hpp"

namespace {

constexpr std::string_view k_source = "fuzz.yaml";

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "template_loader fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// A folder with "src/" in it, so that a CodeUri: src/ in an input gets past the folder check.
const std::filesystem::path& code_folder() {
  static const std::filesystem::path folder = [] {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "apigw-fuzz-template";
    std::filesystem::create_directories(dir / "src");
    return dir;
  }();
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (text.find("AllowedPattern") != std::string_view::npos) return 0;
  auto translated = apigw::templates::translate_template_text(text, k_source, code_folder(), {});
  if (!translated) {
    if (translated.error().find(k_source) == std::string::npos) {
      fail("the message does not name the source", translated.error());
    }
    return 0;
  }
  auto loaded = apigw::config::load_text(translated->config_json, k_source);
  if (!loaded && loaded.error().empty()) fail("the configuration was refused without a message", translated->config_json);
  return 0;
}
