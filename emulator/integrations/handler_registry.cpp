#include "apigw/handler_registry.hpp"

#include <utility>

#include "emulator/integrations/builtin_handlers.hpp"
#include "emulator/integrations/lab_handlers.hpp"

namespace apigw {

handler_registry handler_registry::with_builtins() {
  handler_registry r;
  emulator::add_builtin_handlers(r);
  emulator::add_lab_handlers(r);
  return r;
}

void handler_registry::add(std::string name, factory f) {
  factories_.insert_or_assign(std::move(name), std::move(f));
}

namespace {

// Lets several integrations share one handler object owned elsewhere.
class shared_handler final : public handler {
 public:
  explicit shared_handler(std::shared_ptr<handler> target) : target_(std::move(target)) {}
  handler_result invoke(const rapidjson::Value& event, invocation_context& context) override {
    return target_->invoke(event, context);
  }
  bool may_block() const override { return target_->may_block(); }

 private:
  std::shared_ptr<handler> target_;
};

}  // namespace

void handler_registry::add_instance(std::string name, std::shared_ptr<handler> instance) {
  add(std::move(name), [instance = std::move(instance)](const rapidjson::Value&)
                           -> std::variant<std::unique_ptr<handler>, std::string> {
    return std::make_unique<shared_handler>(instance);
  });
}

bool handler_registry::contains(std::string_view name) const {
  return factories_.find(name) != factories_.end();
}

std::vector<std::string> handler_registry::names() const {
  std::vector<std::string> out;
  out.reserve(factories_.size());
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

namespace {

template <class Map>
std::string joined_names(const Map& m) {
  std::string out;
  for (const auto& [n, f] : m) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? std::string("(none)") : out;
}

}  // namespace

std::variant<std::unique_ptr<handler>, std::string> handler_registry::create(
    std::string_view name, const rapidjson::Value& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    return "unknown handler \"" + std::string(name) + "\"; the registered handlers are: " +
           joined_names(factories_);
  }
  if (!options.IsObject()) return std::string("options must be a JSON object");
  return it->second(options);
}

void handler_registry::add_authorizer(std::string name, authorizer_factory f) {
  authorizer_factories_.insert_or_assign(std::move(name), std::move(f));
}

bool handler_registry::contains_authorizer(std::string_view name) const {
  return authorizer_factories_.find(name) != authorizer_factories_.end();
}

std::vector<std::string> handler_registry::authorizer_names() const {
  std::vector<std::string> out;
  out.reserve(authorizer_factories_.size());
  for (const auto& [name, f] : authorizer_factories_) out.push_back(name);
  return out;
}

std::variant<std::unique_ptr<authorizer>, std::string> handler_registry::create_authorizer(
    std::string_view name, const rapidjson::Value& options) const {
  auto it = authorizer_factories_.find(name);
  if (it == authorizer_factories_.end()) {
    return "unknown authorizer handler \"" + std::string(name) +
           "\"; the registered authorizers are: " + joined_names(authorizer_factories_);
  }
  if (!options.IsObject()) return std::string("options must be a JSON object");
  return it->second(options);
}

}  // namespace apigw
