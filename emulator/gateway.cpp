#include "emulator/gateway.hpp"

#include <cctype>
#include <cstdio>
#include <exception>
#include <utility>

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "emulator/identifiers.hpp"
#include "emulator/percent_decoding.hpp"
#include "emulator/permissions.hpp"
#include "routes/iam_policy.hpp"

namespace apigw::emulator {

namespace {

using rapidjson::StringRef;
using rapidjson::Value;

Value json_ref(std::string_view s) {
  return Value(StringRef(s.data(), static_cast<rapidjson::SizeType>(s.size())));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

// Adds "name": "value" to OBJ, or replaces the value when NAME is there already (the last wins,
// as in API Gateway's single-value maps).
void set_last(Value& obj, Value name, Value value, rapidjson::Document::AllocatorType& a) {
  auto it = obj.FindMember(name);
  if (it != obj.MemberEnd()) {
    it->value = value;
  } else {
    obj.AddMember(name, value, a);
  }
}

void append_multi(Value& obj, Value name, Value value, rapidjson::Document::AllocatorType& a) {
  auto it = obj.FindMember(name);
  if (it != obj.MemberEnd()) {
    it->value.PushBack(value, a);
  } else {
    Value list(rapidjson::kArrayType);
    list.PushBack(value, a);
    obj.AddMember(name, list, a);
  }
}

void add_request_context(Value& ctx, const gateway& gw, const connection_info& info,
                         const gateway::request_ids& ids, std::string_view route_key,
                         std::string_view event_type, rapidjson::Document::AllocatorType& a,
                         std::optional<std::pair<int, std::string_view>> disconnect) {
  // Member order follows the events AWS delivers, so printed events read alike.
  ctx.AddMember("routeKey", json_ref(route_key), a);
  if (!ids.message_id.empty()) ctx.AddMember("messageId", json_ref(ids.message_id), a);
  if (disconnect) ctx.AddMember("disconnectStatusCode", disconnect->first, a);
  ctx.AddMember("eventType", json_ref(event_type), a);
  ctx.AddMember("extendedRequestId", json_ref(ids.request_id), a);
  ctx.AddMember("requestTime", Value(request_time(ids.time).c_str(), a), a);
  ctx.AddMember("messageDirection", "IN", a);
  if (disconnect) ctx.AddMember("disconnectReason", json_ref(disconnect->second), a);
  ctx.AddMember("stage", json_ref(gw.api().stage.name), a);
  ctx.AddMember("connectedAt", static_cast<std::int64_t>(epoch_millis(info.connected_at)), a);
  ctx.AddMember("requestTimeEpoch", static_cast<std::int64_t>(epoch_millis(ids.time)), a);
  Value identity(rapidjson::kObjectType);
  identity.AddMember("sourceIp", json_ref(info.source_ip), a);
  if (info.user_agent) identity.AddMember("userAgent", json_ref(*info.user_agent), a);
  ctx.AddMember("identity", identity, a);
  ctx.AddMember("requestId", json_ref(ids.request_id), a);
  ctx.AddMember("domainName", json_ref(info.domain_name), a);
  ctx.AddMember("connectionId", json_ref(info.id), a);
  ctx.AddMember("apiId", json_ref(gw.api().api_id), a);
}

void add_stage_variables(rapidjson::Document& event, const config::api_spec& api) {
  if (api.stage.variables.empty()) return;
  auto& a = event.GetAllocator();
  Value vars(rapidjson::kObjectType);
  for (const auto& [name, value] : api.stage.variables) vars.AddMember(json_ref(name), json_ref(value), a);
  event.AddMember("stageVariables", vars, a);
}

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

gateway::gateway(config::api_spec api) : api_(std::move(api)) {}

std::variant<std::unique_ptr<gateway>, std::string> gateway::create(
    const config::api_spec& api, const routes::handler_registry& registry, services s) {
  std::unique_ptr<gateway> gw(new gateway(api));
  gw->log_ = s.log;
  auto parsed = routes::selection_expression::parse(api.route_selection_expression);
  if (auto* e = std::get_if<routes::expression_error>(&parsed)) {
    return api.source + ": routeSelectionExpression: \"" + api.route_selection_expression +
           "\" at position " + std::to_string(e->position) + ": " + e->message;
  }
  gw->expression_ = std::move(std::get<routes::selection_expression>(parsed));

  for (const auto& spec : api.routes) {
    auto it = api.integrations.find(spec.integration);
    if (it == api.integrations.end()) {
      return api.source + ": " + spec.json_path + ".integration: no integration named \"" +
             spec.integration + "\"";
    }
    const config::integration_spec& integration = it->second;
    rapidjson::Document options;
    options.Parse(integration.options_json.c_str());
    if (options.HasParseError()) {
      return api.source + ": " + integration.json_path + ".options: not valid JSON";
    }
    auto made = registry.create(integration.handler, options);
    if (auto* message = std::get_if<std::string>(&made)) {
      const bool unknown = !registry.contains(integration.handler);
      return api.source + ": " + integration.json_path + (unknown ? ".handler: " : ": ") + *message;
    }
    std::shared_ptr<const routes::iam_policy> policy;
    if (!integration.policy_json.empty()) {
      rapidjson::Document document;
      document.Parse(integration.policy_json.c_str());
      auto parsed_policy = routes::iam_policy::parse(document);
      if (auto* message = std::get_if<std::string>(&parsed_policy)) {
        return api.source + ": " + integration.json_path + ".policy." + *message;
      }
      policy = std::make_shared<const routes::iam_policy>(std::get<routes::iam_policy>(std::move(parsed_policy)));
    }
    auto r = std::make_unique<route>();
    const auto who = caller_identity::for_integration(api, spec.integration);
    if (s.connections) r->connections = std::make_unique<guarded_connections>(*s.connections, policy, who, api);
    if (s.store) r->tables = std::make_unique<guarded_tables>(*s.store, policy, who);
    r->key = spec.route_key;
    r->integration = spec.integration;
    r->two_way = spec.two_way();
    r->handler = std::move(std::get<std::unique_ptr<routes::handler>>(made));
    if (!gw->by_key_.emplace(r->key, r.get()).second) {
      return api.source + ": " + spec.json_path + ".routeKey: duplicate route key \"" + r->key + "\"";
    }
    if (r->key == "$connect") gw->connect_ = r.get();
    if (r->key == "$disconnect") gw->disconnect_ = r.get();
    if (r->key == "$default") gw->default_ = r.get();
    gw->routes_.push_back(std::move(r));
  }
  return gw;
}

std::variant<std::unique_ptr<gateway>, std::string> gateway::create(
    const config::api_spec& api, const routes::handler_registry& registry) {
  return create(api, registry, services{});
}

gateway::selection gateway::resolve(std::string_view message) const {
  // Every message must be JSON to be routed: one that is empty or not JSON goes to $default,
  // whatever the expression (aws-behaviour.md section 1). Typical messages parse without touching
  // the heap: RapidJSON's pools start in these stack buffers.
  char value_buffer[4096];
  char parse_buffer[1024];
  rapidjson::MemoryPoolAllocator<> value_pool(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_pool(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      body(&value_pool, sizeof parse_buffer, &parse_pool);
  body.Parse(message.data(), message.size());
  selection out;
  out.route = default_;
  if (message.empty() || body.HasParseError()) return out;
  out.json = true;
  out.key = expression_.evaluate(&body);
  // "$connect" and "$disconnect" are lifecycle routes: a message never selects them.
  if (auto it = by_key_.find(out.key);
      it != by_key_.end() && it->second != connect_ && it->second != disconnect_) {
    out.route = it->second;
  }
  return out;
}

gateway::request_ids gateway::new_request(bool with_message_id) {
  request_ids ids;
  ids.request_id = new_identifier();
  if (with_message_id) ids.message_id = new_identifier();
  ids.time = std::chrono::system_clock::now();
  return ids;
}

void gateway::build_connect_event(rapidjson::Document& event, const connection_info& info,
                                  const header_list& handshake_headers, const request_ids& ids) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  Value headers(rapidjson::kObjectType);
  Value multi(rapidjson::kObjectType);
  for (const auto& [name, value] : handshake_headers) {
    if (iequals(name, "Connection") || iequals(name, "Upgrade") ||
        iequals(name, "X-Forwarded-For") || iequals(name, "X-Forwarded-Port") ||
        iequals(name, "X-Forwarded-Proto")) {
      continue;
    }
    set_last(headers, json_ref(name), json_ref(value), a);
    append_multi(multi, json_ref(name), json_ref(value), a);
  }
  const std::string port = std::to_string(info.local_port);
  const std::pair<const char*, std::string_view> forwarded[] = {
      {"X-Forwarded-For", info.source_ip}, {"X-Forwarded-Port", port}, {"X-Forwarded-Proto", "http"}};
  for (const auto& [name, value] : forwarded) {
    headers.AddMember(StringRef(name), Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a), a);
    append_multi(multi, Value(StringRef(name)), Value(value.data(), static_cast<rapidjson::SizeType>(value.size()), a), a);
  }
  event.AddMember("headers", headers, a);
  event.AddMember("multiValueHeaders", multi, a);

  if (!info.query.empty()) {
    Value params(rapidjson::kObjectType);
    Value multi_params(rapidjson::kObjectType);
    std::string_view rest = info.query;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      const std::string name = percent_decode_lenient(pair.substr(0, eq));
      const std::string value =
          eq == std::string_view::npos ? std::string() : percent_decode_lenient(pair.substr(eq + 1));
      set_last(params, Value(name.c_str(), a), Value(value.c_str(), a), a);
      append_multi(multi_params, Value(name.c_str(), a), Value(value.c_str(), a), a);
    }
    event.AddMember("queryStringParameters", params, a);
    event.AddMember("multiValueQueryStringParameters", multi_params, a);
  }

  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, *this, info, ids, "$connect", "CONNECT", a, std::nullopt);
  event.AddMember("requestContext", ctx, a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event, api_);
}

void gateway::build_message_event(rapidjson::Document& event, const connection_info& info,
                                  const route& r, const request_ids& ids,
                                  std::string_view body) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, *this, info, ids, r.key, "MESSAGE", a, std::nullopt);
  event.AddMember("requestContext", ctx, a);
  event.AddMember("body", json_ref(body), a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event, api_);
}

void gateway::build_disconnect_event(rapidjson::Document& event, const connection_info& info,
                                     const request_ids& ids, int code,
                                     std::string_view reason) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  Value headers(rapidjson::kObjectType);
  Value multi(rapidjson::kObjectType);
  const std::pair<const char*, std::string_view> fixed[] = {
      {"Host", info.domain_name}, {"x-api-key", ""}, {"X-Forwarded-For", ""}, {"x-restapi", ""}};
  for (const auto& [name, value] : fixed) {
    headers.AddMember(StringRef(name), json_ref(value), a);
    append_multi(multi, Value(StringRef(name)), json_ref(value), a);
  }
  event.AddMember("headers", headers, a);
  event.AddMember("multiValueHeaders", multi, a);
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, *this, info, ids, "$disconnect", "DISCONNECT", a,
                      std::make_pair(code, reason));
  event.AddMember("requestContext", ctx, a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event, api_);
}

gateway::outcome gateway::invoke(routes::handler& h, const rapidjson::Value& event,
                                 routes::invocation_context& context) {
  outcome o;
  try {
    o.result = h.invoke(event, context);
  } catch (const std::exception& e) {
    o.failed = true;
    o.error = e.what();
  } catch (...) {
    o.failed = true;
    o.error = "unknown exception";
  }
  return o;
}

gateway::outcome gateway::invoke(const route& r, const rapidjson::Value& event,
                                 std::string_view request_id) const {
  routes::invocation_context context(r.connections.get(), r.tables.get(), log_, r.integration, request_id);
  const std::string id = log_ ? std::string(request_id) : std::string();
  if (log_) log_->write(r.integration, id, "", "START RequestId: " + id + " Version: $LATEST");
  const auto began = std::chrono::steady_clock::now();
  outcome o = invoke(*r.handler, event, context);
  o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  if (!log_) return o;
  if (o.failed) {
    rapidjson::StringBuffer error;
    rapidjson::Writer<rapidjson::StringBuffer> w(error);
    w.StartObject();
    w.Key("errorType");
    w.String("Error");
    w.Key("errorMessage");
    w.String(o.error.c_str());
    w.EndObject();
    log_->write(r.integration, id, "ERROR", std::string("Invoke Error \t") + error.GetString());
  }
  log_->write(r.integration, id, "", "END RequestId: " + id);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f", o.latency_ms);
  log_->write(r.integration, id, "",
              "REPORT RequestId: " + id + "\tDuration: " + duration + " ms" +
                  (o.failed ? "\tStatus: error" : ""));
  return o;
}

gateway::reply gateway::message_reply(const route& r, const outcome& o, const connection_info& info,
                                      const request_ids& ids) {
  reply out;
  if (o.failed) {
    out.send = true;
    out.data = error_frame("Internal server error", info.id, ids.request_id);
    return out;
  }
  if (!r.two_way) return out;
  out.send = true;
  const std::string empty;
  const std::string& body = o.result.body ? *o.result.body : empty;
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
  out.data = body;
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
