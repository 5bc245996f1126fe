#include "emulator/gateway.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
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

// The lines Lambda ends an invocation with: the error (when FAILURE is not null), END, REPORT.
void write_invocation_end(routes::invocation_log& log, std::string_view function, const std::string& id,
                          double latency_ms, const char* failure) {
  if (failure != nullptr) {
    rapidjson::StringBuffer error;
    rapidjson::Writer<rapidjson::StringBuffer> w(error);
    w.StartObject();
    w.Key("errorType");
    w.String("Error");
    w.Key("errorMessage");
    w.String(failure);
    w.EndObject();
    log.write(function, id, "ERROR", std::string("Invoke Error \t") + error.GetString());
  }
  log.write(function, id, "", "END RequestId: " + id);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.2f", latency_ms);
  log.write(function, id, "",
            "REPORT RequestId: " + id + "\tDuration: " + duration + " ms" +
                (failure != nullptr ? "\tStatus: error" : ""));
}

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
  if (info.authorizer) {
    // As AWS delivers it: principalId, integrationLatency, then the context's keys flattened.
    Value authorizer(rapidjson::kObjectType);
    authorizer.AddMember("principalId", json_ref(info.authorizer->principal_id), a);
    authorizer.AddMember("integrationLatency", info.authorizer->integration_latency_ms, a);
    for (const auto& [key, value] : info.authorizer->context) {
      if (key == "principalId" || key == "integrationLatency") continue;
      authorizer.AddMember(json_ref(key), json_ref(value), a);
    }
    ctx.AddMember("authorizer", authorizer, a);
  }
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
  if (info.api_key) identity.AddMember("apiKey", json_ref(*info.api_key), a);
  if (info.iam) {
    identity.AddMember("accountId", json_ref(info.iam->account_id), a);
    identity.AddMember("caller", json_ref(info.iam->caller), a);
  }
  identity.AddMember("sourceIp", json_ref(info.source_ip), a);
  if (info.iam) {
    identity.AddMember("accessKey", json_ref(info.iam->access_key), a);
    identity.AddMember("userArn", json_ref(info.iam->user_arn), a);
  }
  if (info.user_agent) identity.AddMember("userAgent", json_ref(*info.user_agent), a);
  if (info.iam) identity.AddMember("user", json_ref(info.iam->caller), a);
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
  if (auto error = gw->build_authorization(registry); !error.empty()) return error;
  return gw;
}

namespace {

// The context variables an identity source may name ("context.identity.sourceIp").
constexpr std::string_view context_variables[] = {
    "apiId",     "connectionId", "domainName",       "eventType",         "extendedRequestId",
    "requestId", "routeKey",     "messageDirection", "identity.sourceIp", "identity.userAgent",
    "stage"};

std::optional<std::string> context_variable(std::string_view name, const gateway& gw,
                                            const connection_info& info,
                                            const gateway::request_ids& ids) {
  if (name == "apiId") return gw.api().api_id;
  if (name == "connectionId") return info.id;
  if (name == "domainName") return info.domain_name;
  if (name == "eventType") return "CONNECT";
  if (name == "extendedRequestId" || name == "requestId") return ids.request_id;
  if (name == "routeKey") return "$connect";
  if (name == "messageDirection") return "IN";
  if (name == "identity.sourceIp") return info.source_ip;
  if (name == "identity.userAgent") return info.user_agent;
  if (name == "stage") return gw.api().stage.name;
  return std::nullopt;
}

// The caller IAM reports for a principal ARN: the user's or role's name, or ROLE:SESSION for an
// assumed role (AWS reports the principal's unique id there, which the emulator does not have).
std::string caller_of(std::string_view arn) {
  std::string_view resource = arn;
  for (int i = 0; i < 5 && !resource.empty(); ++i) {
    const auto colon = resource.find(':');
    resource = colon == std::string_view::npos ? std::string_view{} : resource.substr(colon + 1);
  }
  constexpr std::string_view assumed = "assumed-role/";
  if (resource.substr(0, assumed.size()) == assumed) {
    std::string out(resource.substr(assumed.size()));
    if (const auto slash = out.find('/'); slash != std::string::npos) out[slash] = ':';
    return out;
  }
  const auto slash = resource.rfind('/');
  return std::string(slash == std::string_view::npos ? resource : resource.substr(slash + 1));
}

std::string account_of(std::string_view arn) {
  // arn:PARTITION:SERVICE::ACCOUNT:RESOURCE
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    start = arn.find(':', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const auto end = arn.find(':', start);
  return std::string(arn.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

}  // namespace

std::string gateway::build_authorization(const routes::handler_registry& registry) {
  const config::api_spec& api = api_;
  connect_arn_ = "arn:aws:execute-api:" + api.region + ":" + std::string(kAccountId) + ":" + api.api_id +
                 "/" + api.stage.name + "/$connect";

  for (const config::credential_spec& credential : api.credentials) {
    rapidjson::Document document;
    document.Parse(credential.policy_json.c_str());
    auto parsed = routes::iam_policy::parse(document);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      return api.source + ": " + credential.json_path + ".policy." + *message;
    }
    credential_policies_.push_back(std::get<routes::iam_policy>(std::move(parsed)));
  }

  for (const auto& [name, spec] : api.authorizers) {
    for (std::size_t i = 0; i < spec.identity_source.size(); ++i) {
      constexpr std::string_view prefix = "context.";
      const std::string& text = spec.identity_source[i];
      if (text.substr(0, prefix.size()) != prefix) continue;
      const std::string_view variable = std::string_view(text).substr(prefix.size());
      if (std::find(std::begin(context_variables), std::end(context_variables), variable) ==
          std::end(context_variables)) {
        std::string known;
        for (std::string_view v : context_variables) known += (known.empty() ? "" : ", ") + std::string(v);
        return api.source + ": " + spec.json_path + ".identitySource[" + std::to_string(i) +
               "]: unknown context variable \"" + std::string(variable) +
               "\"; the context variables of a $connect are " + known;
      }
    }
    // The factory gets the authorizer's options plus its identitySource (the loader keeps users
    // from setting that option themselves).
    rapidjson::Document options;
    options.Parse(spec.options_json.c_str());
    if (options.HasParseError() || !options.IsObject()) {
      return api.source + ": " + spec.json_path + ".options: not a JSON object";
    }
    auto& a = options.GetAllocator();
    Value sources(rapidjson::kArrayType);
    for (const std::string& source : spec.identity_source) sources.PushBack(Value(source.c_str(), a), a);
    options.AddMember("identitySource", sources, a);
    auto made = registry.create_authorizer(spec.handler, options);
    if (auto* message = std::get_if<std::string>(&made)) {
      const bool unknown = !registry.contains_authorizer(spec.handler);
      return api.source + ": " + spec.json_path + (unknown ? ".handler: " : ": ") + *message;
    }
    authorizers_.emplace(name, std::get<std::unique_ptr<routes::authorizer>>(std::move(made)));
  }

  for (const config::route_spec& spec : api.routes) {
    if (spec.route_key != "$connect") continue;
    authorization_.api_key_required = spec.api_key_required;
    if (spec.authorization_type == "AWS_IAM") authorization_.type = authorization_type::aws_iam;
    if (spec.authorization_type != "CUSTOM") continue;
    auto it = authorizers_.find(spec.authorizer_id);
    if (it == authorizers_.end()) {
      return api.source + ": " + spec.json_path + ".authorizerId: no authorizer named \"" +
             spec.authorizer_id + "\"";
    }
    authorization_.type = authorization_type::custom;
    authorization_.authorizer_name = spec.authorizer_id;
    authorization_.authorizer = it->second.get();
    for (const std::string& text : api.authorizers.at(spec.authorizer_id).identity_source) {
      identity_source source;
      source.text = text;
      const std::pair<std::string_view, identity_source::kind> prefixes[] = {
          {"route.request.header.", identity_source::kind::header},
          {"route.request.querystring.", identity_source::kind::query},
          {"stageVariables.", identity_source::kind::stage_variable},
          {"context.", identity_source::kind::context}};
      for (const auto& [prefix, kind] : prefixes) {
        if (text.compare(0, prefix.size(), prefix) == 0) {
          source.where = kind;
          source.name = text.substr(prefix.size());
          break;
        }
      }
      authorization_.identity_sources.push_back(std::move(source));
    }
  }
  return {};
}

const gateway::identity_source* gateway::missing_identity_source(const connection_info& info,
                                                                 const header_list& headers,
                                                                 const request_ids& ids) const {
  for (const identity_source& source : authorization_.identity_sources) {
    std::optional<std::string> value;
    switch (source.where) {
      case identity_source::kind::header:
        // As in the event's single-value map: the last of repeated fields.
        for (const auto& [name, v] : headers) {
          if (iequals(name, source.name)) value = v;
        }
        break;
      case identity_source::kind::query: {
        std::string_view rest = info.query;
        while (!rest.empty()) {
          const auto amp = rest.find('&');
          const std::string_view pair = rest.substr(0, amp);
          rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
          const auto eq = pair.find('=');
          if (pair.empty() || percent_decode_lenient(pair.substr(0, eq)) != source.name) continue;
          value = eq == std::string_view::npos ? std::string() : percent_decode_lenient(pair.substr(eq + 1));
        }
        break;
      }
      case identity_source::kind::stage_variable:
        for (const auto& [name, v] : api_.stage.variables) {
          if (name == source.name) value = v;
        }
        break;
      case identity_source::kind::context:
        value = context_variable(source.name, *this, info, ids);
        break;
    }
    if (!value || value->empty()) return &source;
  }
  return nullptr;
}

namespace {

// Judges what an authorizer answered: a malformed answer is a 500, a policy that does not allow
// execute-api:Invoke on ARN a 403.
gateway::authorization_outcome judge_answer(const routes::authorizer_result& answer, const std::string& arn) {
  gateway::authorization_outcome out;
  auto malformed = [&](std::string why) {
    out.status = 500;
    out.error = "malformed authorizer answer: " + std::move(why);
    return out;
  };
  rapidjson::Document policy_doc;
  policy_doc.Parse(answer.policy_json.c_str(), answer.policy_json.size());
  if (policy_doc.HasParseError() || !policy_doc.IsObject()) return malformed("policyDocument is not a JSON object");
  auto policy = routes::iam_policy::parse(policy_doc);
  if (auto* message = std::get_if<std::string>(&policy)) return malformed("policyDocument." + *message);

  authorizer_grant grant;
  grant.principal_id = answer.principal_id;
  if (!answer.context_json.empty()) {
    rapidjson::Document context;
    context.Parse(answer.context_json.c_str(), answer.context_json.size());
    if (context.HasParseError() || !context.IsObject()) return malformed("context is not a JSON object");
    for (auto m = context.MemberBegin(); m != context.MemberEnd(); ++m) {
      std::string key(m->name.GetString(), m->name.GetStringLength());
      const Value& v = m->value;
      if (v.IsString()) {
        grant.context.emplace_back(std::move(key), std::string(v.GetString(), v.GetStringLength()));
      } else if (v.IsBool()) {
        grant.context.emplace_back(std::move(key), v.GetBool() ? "true" : "false");
      } else if (v.IsNumber()) {
        rapidjson::StringBuffer text;
        rapidjson::Writer<rapidjson::StringBuffer> w(text);
        v.Accept(w);
        grant.context.emplace_back(std::move(key), std::string(text.GetString(), text.GetSize()));
      } else {
        return malformed("context." + key + " is not a string, number or boolean");
      }
    }
  }

  switch (std::get<routes::iam_policy>(policy).evaluate("execute-api:Invoke", arn)) {
    case routes::iam_policy::decision::allow:
      break;
    case routes::iam_policy::decision::explicit_deny:
      out.status = 403;
      out.error = "the authorizer's policy denies execute-api:Invoke on " + arn;
      return out;
    case routes::iam_policy::decision::implicit_deny:
      out.status = 403;
      out.error = "the authorizer's policy does not allow execute-api:Invoke on " + arn;
      return out;
  }
  if (grant.principal_id.empty()) return malformed("no principalId");
  out.grant = std::move(grant);
  return out;
}

}  // namespace

gateway::authorization_outcome gateway::authorize(const rapidjson::Value& event,
                                                  std::string_view request_id) const {
  const std::string& name = authorization_.authorizer_name;
  routes::invocation_context context(nullptr, nullptr, log_, name, request_id);
  const std::string id = log_ ? std::string(request_id) : std::string();
  if (log_) log_->write(name, id, "", "START RequestId: " + id + " Version: $LATEST");
  const auto began = std::chrono::steady_clock::now();
  routes::authorizer_result answer;
  std::optional<std::string> failure;
  try {
    answer = authorization_.authorizer->authorize(event, context);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  if (log_) write_invocation_end(*log_, name, id, latency_ms, failure ? failure->c_str() : nullptr);
  authorization_outcome out;
  if (failure) {
    // A Lambda authorizer refuses with 401 by failing with exactly "Unauthorized".
    out.status = *failure == "Unauthorized" ? 401 : 500;
    out.error = out.status == 401 ? "Unauthorized" : "authorizer failed: " + *failure;
  } else {
    out = judge_answer(answer, connect_arn_);
  }
  out.latency_ms = latency_ms;
  if (out.grant) out.grant->integration_latency_ms = std::llround(latency_ms);
  return out;
}

gateway::authorization_outcome gateway::judge_signature(const sigv4::verdict& verdict) const {
  authorization_outcome out;
  const auto& credentials = api_.credentials;
  if (!verdict.ok() || verdict.signer < credentials.data() ||
      verdict.signer >= credentials.data() + credentials.size()) {
    out.status = 403;
    // The first line: the verifier's message goes on with the canonical request, too long for
    // a trace line.
    const std::string_view error = std::string_view(verdict.error).substr(0, verdict.error.find('\n'));
    out.error = "signature: " + (verdict.error_type.empty() ? std::string() : verdict.error_type + ": ") +
                (error.empty() ? std::string("not signed by a known key") : std::string(error));
    return out;
  }
  const auto index = static_cast<std::size_t>(verdict.signer - credentials.data());
  const config::credential_spec& signer = credentials[index];
  if (!credential_policies_[index].allows("execute-api:Invoke", connect_arn_)) {
    out.status = 403;
    out.error = "User: " + signer.arn + " is not authorized to perform: execute-api:Invoke on resource: " +
                connect_arn_;
    return out;
  }
  iam_caller c;
  c.access_key = signer.access_key_id;
  c.account_id = account_of(signer.arn);
  c.caller = caller_of(signer.arn);
  c.user_arn = signer.arn;
  out.iam = std::move(c);
  return out;
}

bool gateway::accepts_api_key(const std::optional<std::string>& key) const {
  return key && !key->empty() && std::find(api_.api_keys.begin(), api_.api_keys.end(), *key) != api_.api_keys.end();
}

std::variant<std::unique_ptr<gateway>, std::string> gateway::create(
    const config::api_spec& api, const routes::handler_registry& registry) {
  return create(api, registry, services{});
}

gateway::selection gateway::resolve(std::string_view message) const {
  // Every message must be JSON to be routed: one that is empty or not JSON goes to $default,
  // whatever the expression (docs/route-selection.md). Typical messages parse without touching
  // the heap: RapidJSON's pools start in these stack buffers.
  char value_buffer[4096];
  char parse_buffer[1024];
  rapidjson::MemoryPoolAllocator<> value_pool(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_pool(parse_buffer, sizeof parse_buffer);
  rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                             rapidjson::MemoryPoolAllocator<>>
      body(&value_pool, sizeof parse_buffer, &parse_pool);
  // Iterative: a message nested thousands of levels deep must not exhaust the thread's stack.
  body.Parse<rapidjson::kParseIterativeFlag>(message.data(), message.size());
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

namespace {

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
}

}  // namespace

void gateway::build_connect_event(rapidjson::Document& event, const connection_info& info,
                                  const header_list& handshake_headers, const request_ids& ids) const {
  event.SetObject();
  auto& a = event.GetAllocator();
  add_handshake(event, info, handshake_headers, false);
  Value ctx(rapidjson::kObjectType);
  add_request_context(ctx, *this, info, ids, "$connect", "CONNECT", a, std::nullopt);
  event.AddMember("requestContext", ctx, a);
  event.AddMember("isBase64Encoded", false, a);
  add_stage_variables(event, api_);
}

void gateway::build_authorizer_event(rapidjson::Document& event, const connection_info& info,
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
  add_request_context(ctx, *this, info, ids, "$connect", "CONNECT", a, std::nullopt);
  event.AddMember("requestContext", ctx, a);
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
  if (log_) write_invocation_end(*log_, r.integration, id, o.latency_ms, o.failed ? o.error.c_str() : nullptr);
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
