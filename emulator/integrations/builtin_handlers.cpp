#include "emulator/integrations/builtin_handlers.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "apigw/handler_registry.hpp"
#include "emulator/integrations/token_authorizer.hpp"

namespace apigw::emulator {
namespace {

using create_result = std::variant<std::unique_ptr<handler>, std::string>;

std::string options_without(const rapidjson::Value& options, std::initializer_list<std::string_view> allowed) {
  for (auto it = options.MemberBegin(); it != options.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    bool ok = false;
    for (auto a : allowed) ok = ok || a == key;
    if (!ok) {
      std::string list;
      for (auto a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return "options." + std::string(key) + ": unknown option; allowed: " +
             (list.empty() ? std::string("none") : list);
    }
  }
  return {};
}

// A Lambda that answers with the message it received.
class echo_handler final : public handler {
 public:
  handler_result invoke(const rapidjson::Value& event, invocation_context&) override {
    handler_result r;
    r.status_code = 200;
    auto body = event.FindMember("body");
    if (body != event.MemberEnd() && body->value.IsString()) {
      r.body.emplace(body->value.GetString(), body->value.GetStringLength());
    } else {
      r.body.emplace();
    }
    return r;
  }
  bool may_block() const override { return false; }
};

// A learner's window on what a Lambda would get.
class inspect_handler final : public handler {
 public:
  handler_result invoke(const rapidjson::Value& event, invocation_context&) override {
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(text);
    event.Accept(writer);
    handler_result r;
    r.status_code = 200;
    r.body.emplace(text.GetString(), text.GetSize());
    return r;
  }
  bool may_block() const override { return false; }
};

// A canned backend: fixed status, body and headers, an optional delay, an optional failure.
class mock_handler final : public handler {
 public:
  mock_handler(handler_result canned, std::chrono::milliseconds delay, std::optional<std::string> failure)
      : canned_(std::move(canned)), delay_(delay), failure_(std::move(failure)) {}

  handler_result invoke(const rapidjson::Value&, invocation_context&) override {
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
    if (failure_) throw std::runtime_error(*failure_);
    return canned_;
  }
  // Only a delayed mock blocks a thread; the others answer at once.
  bool may_block() const override { return delay_.count() > 0; }

 private:
  handler_result canned_;
  std::chrono::milliseconds delay_;
  std::optional<std::string> failure_;
};

create_result make_mock(const rapidjson::Value& options) {
  if (auto e = options_without(options, {"statusCode", "body", "headers", "delayMillis", "throw"}); !e.empty())
    return e;
  handler_result canned;
  canned.status_code = 200;
  std::chrono::milliseconds delay{0};
  std::optional<std::string> failure;
  if (auto m = options.FindMember("statusCode"); m != options.MemberEnd()) {
    if (!m->value.IsInt() || m->value.GetInt() < 100 || m->value.GetInt() > 599)
      return std::string("options.statusCode: expected an integer HTTP status from 100 to 599");
    canned.status_code = m->value.GetInt();
  }
  if (auto m = options.FindMember("body"); m != options.MemberEnd()) {
    if (!m->value.IsString()) return std::string("options.body: expected a string");
    canned.body.emplace(m->value.GetString(), m->value.GetStringLength());
  }
  if (auto m = options.FindMember("headers"); m != options.MemberEnd()) {
    if (!m->value.IsObject()) return std::string("options.headers: expected an object of strings");
    for (auto h = m->value.MemberBegin(); h != m->value.MemberEnd(); ++h) {
      if (!h->value.IsString())
        return "options.headers." + std::string(h->name.GetString()) + ": expected a string";
      canned.headers.emplace_back(h->name.GetString(), h->value.GetString());
    }
  }
  if (auto m = options.FindMember("delayMillis"); m != options.MemberEnd()) {
    if (!m->value.IsNumber() || m->value.GetDouble() < 0 || m->value.GetDouble() > 3600000)
      return std::string("options.delayMillis: expected a number of milliseconds from 0 to 3600000");
    delay = std::chrono::milliseconds(static_cast<long long>(m->value.GetDouble()));
  }
  if (auto m = options.FindMember("throw"); m != options.MemberEnd()) {
    if (!m->value.IsString()) return std::string("options.throw: expected the error message, a string");
    failure.emplace(m->value.GetString(), m->value.GetStringLength());
  }
  return std::make_unique<mock_handler>(std::move(canned), delay, std::move(failure));
}

template <class Handler>
create_result make_plain(const rapidjson::Value& options) {
  if (auto e = options_without(options, {}); !e.empty()) return e;
  return std::make_unique<Handler>();
}

}  // namespace

routes::event_use event_use_of(const apigw::handler& h) {
  if (dynamic_cast<const echo_handler*>(&h) != nullptr) return routes::event_use::body;
  if (dynamic_cast<const mock_handler*>(&h) != nullptr) return routes::event_use::nothing;
  return routes::event_use::whole;
}

void add_builtin_handlers(handler_registry& registry) {
  registry.add("echo", make_plain<echo_handler>);
  registry.add("inspect", make_plain<inspect_handler>);
  registry.add("mock", make_mock);
  registry.add_authorizer("token", make_token_authorizer);
}

}  // namespace apigw::emulator
