// Handlers by name: the built-ins ("echo", "inspect", "mock", the lab's "simplechat-…") and any
// an embedding program adds; an integration's "handler" names one of them.
// Thread-safety: add() before the emulator starts; create() is const and safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <rapidjson/document.h>

#include "apigw/export.hpp"
#include "apigw/handler.hpp"

namespace apigw {

class APIGW_EXPORT handler_registry {
 public:
  using factory = handler_factory;
  using authorizer_factory = apigw::authorizer_factory;

  // A registry holding the built-in handlers.
  static handler_registry with_builtins();

  // Adds or replaces NAME.
  void add(std::string name, factory f);

  // A handler that always returns the same instance, shared by every integration naming it
  // (handy for tests and embedding programs).
  void add_instance(std::string name, std::shared_ptr<handler> instance);

  bool contains(std::string_view name) const;
  std::vector<std::string> names() const;

  // Builds NAME with OPTIONS (a JSON object); an error message when NAME is unknown or the
  // options are bad.
  std::variant<std::unique_ptr<handler>, std::string> create(std::string_view name,
                                                             const rapidjson::Value& options) const;

  // Authorizers live in their own namespace of names ("token" is built in).
  void add_authorizer(std::string name, authorizer_factory f);
  bool contains_authorizer(std::string_view name) const;
  std::vector<std::string> authorizer_names() const;
  std::variant<std::unique_ptr<authorizer>, std::string> create_authorizer(
      std::string_view name, const rapidjson::Value& options) const;

 private:
  std::map<std::string, factory, std::less<>> factories_;
  std::map<std::string, authorizer_factory, std::less<>> authorizer_factories_;
};

}  // namespace apigw
