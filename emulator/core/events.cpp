#include "emulator/core/events.hpp"

#include "common/ascii.hpp"
#include "emulator/auth/arn.hpp"
#include "emulator/auth/authorization.hpp"
#include "emulator/auth/percent_decoding.hpp"
#include "emulator/core/identifiers.hpp"

namespace apigw::emulator {
namespace {

using rapidjson::StringRef;
using rapidjson::Value;

Value json_ref(std::string_view s) {
  return Value(StringRef(s.data(), static_cast<rapidjson::SizeType>(s.size())));
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

// The handshake's headers and query, as $connect's event and the authorizer's carry them. The
// authorizer's keeps Connection and Upgrade (KEEP_UPGRADE); $connect's drops them.
void add_handshake(rapidjson::Document& event, const connection_info& info,
                   const header_list& handshake_headers, bool keep_upgrade) {
  auto& a = event.GetAllocator();
  Value headers(rapidjson::kObjectType);
  Value multi(rapidjson::kObjectType);
  for (const auto& [name, value] : handshake_headers) {
    if ((!keep_upgrade && (iequals(name, "Connection") || iequals(name, "Upgrade"))) ||
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
    for_each_query_parameter(info.query, [&](const std::string& name, const std::string& value) {
      set_last(params, Value(name.c_str(), a), Value(value.c_str(), a), a);
      append_multi(multi_params, Value(name.c_str(), a), Value(value.c_str(), a), a);
    });
    event.AddMember("queryStringParameters", params, a);
    event.AddMember("multiValueQueryStringParameters", multi_params, a);
  }
}

}  // namespace

event_builder::event_builder(const config::api_spec& api) : api_(api), connect_arn_(emulator::connect_arn(api)) {}

void event_builder::add_request_context(Value& ctx, const connection_info& info, const request_ids& ids,
                                        std::string_view route_key, std::string_view event_type,
                                        rapidjson::Document::AllocatorType& a, const int* disconnect_code,
                                        std::string_view disconnect_reason) const {
  // Member order follows the events AWS delivers, so printed events read alike.
  ctx.AddMember("routeKey", json_ref(route_key), a);
  if (const auto* grant = info.authorizer()) ctx.AddMember("authorizer", authorizer_object(*grant, a), a);
  if (!ids.message_id.empty()) ctx.AddMember("messageId", json_ref(ids.message_id), a);
  if (disconnect_code) ctx.AddMember("disconnectStatusCode", *disconnect_code, a);
  ctx.AddMember("eventType", json_ref(event_type), a);
  ctx.AddMember("extendedRequestId", json_ref(ids.request_id), a);
  const std::string& time = request_time(ids.time);
  ctx.AddMember("requestTime", Value(time.data(), static_cast<rapidjson::SizeType>(time.size()), a), a);
  ctx.AddMember("messageDirection", "IN", a);
  if (disconnect_code) ctx.AddMember("disconnectReason", json_ref(disconnect_reason), a);
  ctx.AddMember("stage", json_ref(api_.stage.name), a);
  ctx.AddMember("connectedAt", static_cast<std::int64_t>(epoch_millis(info.connected_at)), a);
  ctx.AddMember("requestTimeEpoch", static_cast<std::int64_t>(epoch_millis(ids.time)), a);
  Value identity(rapidjson::kObjectType);
  if (const auto* key = info.api_key()) identity.AddMember("apiKey", json_ref(*key), a);
  const iam_caller* iam = info.iam();
  if (iam) {
    identity.AddMember("accountId", json_ref(iam->account_id), a);
    identity.AddMember("caller", json_ref(iam->caller), a);
  }
  identity.AddMember("sourceIp", json_ref(info.source_ip), a);
  if (iam) {
    identity.AddMember("accessKey", json_ref(iam->access_key), a);
    identity.AddMember("userArn", json_ref(iam->user_arn), a);
  }
  if (info.user_agent) identity.AddMember("userAgent", json_ref(*info.user_agent), a);
  if (iam) identity.AddMember("user", json_ref(iam->caller), a);
  ctx.AddMember("identity", identity, a);
  ctx.AddMember("requestId", json_ref(ids.request_id), a);
  ctx.AddMember("domainName", json_ref(info.domain_name), a);
  ctx.AddMember("connectionId", json_ref(info.id), a);
  ctx.AddMember("apiId", json_ref(api_.api_id), a);
}

void event_builder::add_stage_variables(rapidjson::Document& event) const {
  if (api_.stage.variables.empty()) return;
  auto& a = event.GetAllocator();
  Value vars(rapidjson::kObjectType);
  for (const auto& [name, value] : api_.stage.variables) vars.AddMember(json_ref(name), json_ref(value), a);
  event.AddMember("stageVariables", vars, a);
}

void event_builder::connect_event(rapidjson::Document& event, const connection_info& info,
                                  const header_list& handshake_headers, const request_ids& ids) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  add_handshake(event, info, handshake_headers, false);
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, info, ids, "$connect", "CONNECT", a, nullptr, {});
  event.AddMember("requestContext", ctx, a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event);
}

void event_builder::authorizer_event(rapidjson::Document& event, const connection_info& info,
                                     const header_list& handshake_headers, const request_ids& ids) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  event.AddMember("type", "REQUEST", a);
  event.AddMember("methodArn", json_ref(connect_arn_), a);
  add_handshake(event, info, handshake_headers, true);
  Value vars(rapidjson::kObjectType);
  for (const auto& [name, value] : api_.stage.variables) vars.AddMember(json_ref(name), json_ref(value), a);
  event.AddMember("stageVariables", vars, a);
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, info, ids, "$connect", "CONNECT", a, nullptr, {});
  event.AddMember("requestContext", ctx, a);
}

void event_builder::message_event(rapidjson::Document& event, const connection_info& info,
                                  std::string_view route_key, const request_ids& ids,
                                  std::string_view body) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, info, ids, route_key, "MESSAGE", a, nullptr, {});
  event.AddMember("requestContext", ctx, a);
  event.AddMember("body", json_ref(body), a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event);
}

void event_builder::partial_event(rapidjson::Document& event, std::optional<std::string_view> body) {
  event.SetObject();
  if (body) event.AddMember("body", json_ref(*body), event.GetAllocator());
}

void event_builder::disconnect_event(rapidjson::Document& event, const connection_info& info,
                                     const request_ids& ids, int code, std::string_view reason) const {
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
  add_request_context(ctx, info, ids, "$disconnect", "DISCONNECT", a, &code, reason);
  event.AddMember("requestContext", ctx, a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event);
}

}  // namespace apigw::emulator
