#include "emulator/integrations/plugin_loader.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <memory>
#include <system_error>
#include <utility>
#include <variant>

#include "apigw/plugin.hpp"

namespace apigw::emulator {
namespace {

// One loaded library and what it registered. The registered objects hold code of the library, so
// they are destroyed before it is unloaded; whoever uses them holds a shared_ptr to this.
class loaded_library {
 public:
  explicit loaded_library(void* handle) : handle_(handle) {}
  ~loaded_library() {
    handlers.clear();
    authorizers.clear();
    dlclose(handle_);
  }
  loaded_library(const loaded_library&) = delete;
  loaded_library& operator=(const loaded_library&) = delete;

  std::map<std::string, apigw::handler_factory, std::less<>> handlers;
  std::map<std::string, apigw::authorizer_factory, std::less<>> authorizers;
  std::string failure;

 private:
  void* handle_;
};

class registrar final : public plugin_registrar {
 public:
  explicit registrar(loaded_library& lib) : lib_(lib) {}
  void add(std::string name, handler_factory factory) override {
    lib_.handlers.insert_or_assign(std::move(name), std::move(factory));
  }
  void add_instance(std::string name, std::shared_ptr<handler> instance) override {
    apigw::handler_registry one;
    one.add_instance(name, std::move(instance));
    // The registry's factory shares the instance; it lives in LIB like any other.
    lib_.handlers.insert_or_assign(name, [one = std::move(one), name](const rapidjson::Value& options) {
      return one.create(name, options);
    });
  }
  void add_authorizer(std::string name, authorizer_factory factory) override {
    lib_.authorizers.insert_or_assign(std::move(name), std::move(factory));
  }
  void fail(std::string message) override {
    if (lib_.failure.empty()) lib_.failure = std::move(message);
  }

 private:
  loaded_library& lib_;
};

// A plugin's handler; keeps its library loaded. Members are destroyed in reverse order: the
// handler first, then (perhaps) the library.
class plugin_handler final : public apigw::handler {
 public:
  plugin_handler(std::shared_ptr<loaded_library> lib, std::unique_ptr<apigw::handler> inner)
      : lib_(std::move(lib)), inner_(std::move(inner)) {}
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    return inner_->invoke(event, context);
  }
  bool may_block() const override { return inner_->may_block(); }

 private:
  std::shared_ptr<loaded_library> lib_;
  std::unique_ptr<apigw::handler> inner_;
};

class plugin_authorizer final : public apigw::authorizer {
 public:
  plugin_authorizer(std::shared_ptr<loaded_library> lib, std::unique_ptr<apigw::authorizer> inner)
      : lib_(std::move(lib)), inner_(std::move(inner)) {}
  apigw::authorizer_result authorize(const rapidjson::Value& event, apigw::invocation_context& context) override {
    return inner_->authorize(event, context);
  }
  bool may_block() const override { return inner_->may_block(); }

 private:
  std::shared_ptr<loaded_library> lib_;
  std::unique_ptr<apigw::authorizer> inner_;
};

// The registry's factory for one plugin handler: only emulator code and a reference to the library.
struct handler_factory_of {
  std::shared_ptr<loaded_library> lib;
  std::string name;
  std::variant<std::unique_ptr<apigw::handler>, std::string> operator()(const rapidjson::Value& options) const {
    auto made = lib->handlers.at(name)(options);
    if (auto* h = std::get_if<std::unique_ptr<apigw::handler>>(&made)) {
      if (!*h) return std::string("the plugin's factory for \"" + name + "\" returned no handler");
      return std::make_unique<plugin_handler>(lib, std::move(*h));
    }
    return made;
  }
};

struct authorizer_factory_of {
  std::shared_ptr<loaded_library> lib;
  std::string name;
  std::variant<std::unique_ptr<apigw::authorizer>, std::string> operator()(const rapidjson::Value& options) const {
    auto made = lib->authorizers.at(name)(options);
    if (auto* a = std::get_if<std::unique_ptr<apigw::authorizer>>(&made)) {
      if (!*a) return std::string("the plugin's factory for authorizer \"" + name + "\" returned no authorizer");
      return std::make_unique<plugin_authorizer>(lib, std::move(*a));
    }
    return made;
  }
};

std::string loader_error() {
  const char* e = dlerror();
  return e != nullptr ? std::string(e) : std::string("unknown error");
}

// Loads FILE; the error ends the sentence "cannot load the plugin FILE: ...".
result<std::shared_ptr<loaded_library>> load(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return fail("no such file");
  if (!std::filesystem::is_regular_file(file, ec)) return fail("not a regular file");
  dlerror();
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return fail("not a loadable shared library: " + loader_error());
  auto lib = std::make_shared<loaded_library>(handle);

  auto version = reinterpret_cast<apigw_plugin_api_version_function>(dlsym(handle, "apigw_plugin_api_version"));
  auto enter = reinterpret_cast<apigw_plugin_register_function>(dlsym(handle, "apigw_plugin_register"));
  if (version == nullptr || enter == nullptr) {
    return fail(std::string("not an apigw plugin: it exports no ") +
                (version == nullptr ? "apigw_plugin_api_version" : "apigw_plugin_register") +
                " (define its entry points with APIGW_PLUGIN from <apigw/plugin.hpp>)");
  }
  if (const unsigned v = version(); v != APIGW_PLUGIN_API_VERSION) {
    return fail("built against plugin API version " + std::to_string(v) + ", but this emulator loads version " +
                std::to_string(APIGW_PLUGIN_API_VERSION) + "; rebuild the plugin against this emulator's headers");
  }
  registrar r(*lib);
  enter(&r);
  if (!lib->failure.empty()) return fail("its registration failed: " + lib->failure);
  return lib;
}

std::string joined(const std::map<std::string, apigw::handler_factory, std::less<>>& m) {
  std::string out;
  for (const auto& [name, f] : m) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? std::string("(none)") : out;
}

}  // namespace

status load_plugins(config::api_spec& api, apigw::handler_registry& registry) {
  std::map<std::string, std::shared_ptr<loaded_library>> by_file;
  for (auto& [name, integration] : api.integrations) {
    if (integration.type != "plugin") continue;
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(integration.library, ec);
    const std::string file = ec ? integration.library : canonical.string();
    const std::string where = api.source + ": " + integration.json_path;

    auto it = by_file.find(file);
    if (it == by_file.end()) {
      auto loaded = load(file);
      if (!loaded) return fail(where + ".library: cannot load the plugin " + file + ": " + loaded.error());
      auto lib = *std::move(loaded);
      for (const auto& [authorizer_name, f] : lib->authorizers) {
        if (registry.contains_authorizer(authorizer_name)) {
          return fail(where + ".library: the plugin " + file + " registers the authorizer \"" + authorizer_name +
                      "\", which is already registered");
        }
        registry.add_authorizer(authorizer_name, authorizer_factory_of{lib, authorizer_name});
      }
      it = by_file.emplace(file, std::move(lib)).first;
    }
    const auto& lib = it->second;
    if (lib->handlers.find(integration.handler) == lib->handlers.end()) {
      return fail(where + ".handler: the plugin " + file + " registers no handler \"" + integration.handler +
                  "\"; it registers: " + joined(lib->handlers));
    }
    const std::string key = integration.handler + "@" + file;
    if (!registry.contains(key)) registry.add(key, handler_factory_of{lib, integration.handler});
    integration.handler = key;
  }
  return {};
}

}  // namespace apigw::emulator
