#include "emulator/core/gateway.hpp"

#include <utility>

#include <openssl/evp.h>

#include "common/ascii.hpp"
#include "emulator/auth/permissions.hpp"
#include "emulator/core/identifiers.hpp"
#include "emulator/integrations/builtin_handlers.hpp"

namespace apigw::emulator {
namespace {

// Standard base64 as Lambda proxy results carry it; nullopt when TEXT is not base64.
std::optional<std::string> base64_decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != '\n' && c != '\r') clean.push_back(c);
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out(clean.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(clean.data()),
                                static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = 0;
  if (!clean.empty() && clean.back() == '=') ++padding;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

gateway::gateway(config::api_spec api, routes::route_table table)
    : api_(std::move(api)), table_(std::move(table)), events_(api_) {}

result<std::unique_ptr<gateway>> gateway::create(const config::api_spec& api,
                                                 const apigw::handler_registry& registry, services s) {
  auto parsed = routes::selection_expression::parse(api.route_selection_expression);
  if (!parsed) {
    return fail(api.source + ": routeSelectionExpression: \"" + api.route_selection_expression + "\" " +
                parsed.error());
  }
  std::unique_ptr<gateway> gw(new gateway(api, routes::route_table(*std::move(parsed))));
  gw->log_ = s.log;

  for (const auto& spec : api.routes) {
    auto it = api.integrations.find(spec.integration);
    if (it == api.integrations.end()) {
      return fail(api.source + ": " + spec.json_path + ".integration: no integration named \"" +
             spec.integration + "\"");
    }
    const config::integration_spec& integration = it->second;
    std::unique_ptr<apigw::handler> function;
    if (integration.function) {
      if (s.make_function) function = s.make_function(spec.integration);
      if (!function) {
        return fail(api.source + ": " + integration.json_path + ".type: \"lambda\" integrations run only in the "
                    "emulator's server (apigw-ws-emulator), not here");
      }
    }
    rapidjson::Document options;
    options.Parse(integration.options_json.c_str());
    if (options.HasParseError()) {
      return fail(api.source + ": " + integration.json_path + ".options: not valid JSON");
    }
    auto made = function ? decltype(registry.create(integration.handler, options))(std::move(function))
                         : registry.create(integration.handler, options);
    if (auto* message = std::get_if<std::string>(&made)) {
      const bool unknown = !registry.contains(integration.handler);
      return fail(api.source + ": " + integration.json_path + (unknown ? ".handler: " : ": ") + *message);
    }
    std::shared_ptr<const emulator::iam_policy> policy;
    if (!integration.policy_json.empty()) {
      rapidjson::Document document;
      document.Parse(integration.policy_json.c_str());
      auto parsed_policy = emulator::iam_policy::parse(document);
      if (!parsed_policy) return fail(api.source + ": " + integration.json_path + ".policy." + parsed_policy.error());
      policy = std::make_shared<const emulator::iam_policy>(*std::move(parsed_policy));
    }
    auto r = std::make_unique<route>();
    const auto who = caller_identity::for_integration(api, spec.integration);
    if (s.connections) r->connections = std::make_unique<guarded_connections>(*s.connections, policy, who, api);
    if (s.store) r->tables = std::make_unique<guarded_tables>(*s.store, policy, who);
    r->key = spec.route_key;
    r->integration = spec.integration;
    r->two_way = spec.two_way();
    r->handler = std::move(std::get<std::unique_ptr<apigw::handler>>(made));
    r->reads = emulator::event_use_of(*r->handler);
    r->answers_later = dynamic_cast<const function_handler*>(r->handler.get()) != nullptr;
    const std::string key = r->key;
    if (!gw->table_.add(std::move(r))) {
      return fail(api.source + ": " + spec.json_path + ".routeKey: duplicate route key \"" + key + "\"");
    }
  }
  auto auth = emulator::authorization::create(gw->api_, registry, s.log, s.make_function_authorizer);
  if (!auth) return fail(std::move(auth).error());
  gw->authorization_ = std::move(*auth);
  return gw;
}

gateway::request_ids gateway::new_request(bool with_message_id) {
  request_ids ids;
  ids.request_id = new_identifier();
  if (with_message_id) ids.message_id = new_identifier();
  ids.time = std::chrono::system_clock::now();
  return ids;
}

gateway::reply gateway::message_reply(const route& r, outcome&& o, const connection_info& info,
                                      const request_ids& ids) {
  reply out;
  if (o.failed) {
    out.send = true;
    out.data = error_frame("Internal server error", info.id, ids.request_id);
    return out;
  }
  if (!r.two_way) return out;
  out.send = true;
  std::string body = o.result.body ? std::move(*o.result.body) : std::string();
  if (o.result.is_base64_encoded) {
    auto bytes = base64_decode(body);
    if (!bytes) {
      out.data = error_frame("Internal server error", info.id, ids.request_id);
      return out;
    }
    out.binary = true;
    out.data = std::move(*bytes);
    return out;
  }
  out.data = std::move(body);
  return out;
}

std::string gateway::error_frame(std::string_view message, std::string_view connection_id,
                                 std::string_view request_id) {
  std::string frame;
  frame.reserve(64 + message.size());
  frame += "{\"message\": \"";
  frame += message;
  frame += "\", \"connectionId\":\"";
  frame += connection_id;
  frame += "\", \"requestId\":\"";
  frame += request_id;
  frame += "\"}";
  return frame;
}

gateway::connect_decision gateway::decide_connect(const outcome& o) {
  connect_decision d;
  if (o.failed) {
    d.status = 502;
    return d;
  }
  if (o.result.status_code && (*o.result.status_code < 200 || *o.result.status_code > 299)) {
    d.status = *o.result.status_code;
    return d;
  }
  for (const auto& [name, value] : o.result.headers) {
    if (iequals(name, "Sec-WebSocket-Protocol")) d.subprotocol = value;
  }
  return d;
}

std::string_view gateway::standard_close_reason(int code) {
  switch (code) {
    case 1000: return "Connection Closed Normally";
    case 1001: return "Going away";
    case 1002: return "Protocol error";
    case 1003: return "Unsupported data";
    case 1005: return "Client-side close frame status not set";
    case 1006: return "Connection closed abnormally";
    case 1007: return "Invalid frame payload data";
    case 1008: return "Policy violation";
    case 1009: return "Message too big";
    case 1011: return "Internal server error";
    default: return "";
  }
}

}  // namespace apigw::emulator
