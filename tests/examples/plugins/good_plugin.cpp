// A plugin for the plugin loader's tests: "greet" answers "hello from the plugin" (or
// options.greeting), "registrations" answers how often the library was registered (once, however
// many integrations name it), "fail" throws; the authorizer "plugin-allow" allows everyone.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>

#include <apigw/plugin.hpp>

namespace {

std::atomic<int> registrations{0};

apigw::handler_result answer(std::string body) {
  apigw::handler_result r;
  r.status_code = 200;
  r.body = std::move(body);
  return r;
}

class greet final : public apigw::handler {
 public:
  explicit greet(std::string text) : text_(std::move(text)) {}
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override { return answer(text_); }
  bool may_block() const override { return false; }

 private:
  std::string text_;
};

class count final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override {
    return answer(std::to_string(registrations.load()));
  }
};

class fail final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value&, apigw::invocation_context&) override {
    throw std::runtime_error("the plugin's handler failed");
  }
};

class allow final : public apigw::authorizer {
 public:
  apigw::authorizer_result authorize(const rapidjson::Value&, apigw::invocation_context&) override {
    apigw::authorizer_result r;
    r.principal_id = "plugin-user";
    r.policy_json = R"({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke",
                        "Effect": "Allow", "Resource": "*"}]})";
    return r;
  }
};

}  // namespace

APIGW_PLUGIN(registrar) {
  ++registrations;
  registrar.add("greet", [](const rapidjson::Value& options) -> std::variant<std::unique_ptr<apigw::handler>, std::string> {
    auto g = options.FindMember("greeting");
    if (g == options.MemberEnd()) return std::make_unique<greet>("hello from the plugin");
    if (!g->value.IsString()) return std::string("options.greeting: expected a string");
    return std::make_unique<greet>(g->value.GetString());
  });
  registrar.add_instance("registrations", std::make_shared<count>());
  registrar.add_instance("fail", std::make_shared<fail>());
  registrar.add_authorizer("plugin-allow", [](const rapidjson::Value&)
                                               -> std::variant<std::unique_ptr<apigw::authorizer>, std::string> {
    return std::make_unique<allow>();
  });
}
