#include "emulator/auth/authorization.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/ascii.hpp"
#include "emulator/auth/arn.hpp"
#include "emulator/auth/percent_decoding.hpp"

namespace apigw::emulator {
namespace {

using rapidjson::Value;

Value json_ref(std::string_view s) {
  return Value(rapidjson::StringRef(s.data(), static_cast<rapidjson::SizeType>(s.size())));
}

// The context variables an identity source may name ("context.identity.sourceIp").
constexpr std::string_view context_variables[] = {
    "apiId",     "connectionId", "domainName",       "eventType",         "extendedRequestId",
    "requestId", "routeKey",     "messageDirection", "identity.sourceIp", "identity.userAgent",
    "stage"};

std::optional<std::string> context_variable(std::string_view name, const config::api_spec& api,
                                            const connection_info& info, const request_ids& ids) {
  if (name == "apiId") return api.api_id;
  if (name == "connectionId") return info.id;
  if (name == "domainName") return info.domain_name;
  if (name == "eventType") return "CONNECT";
  if (name == "extendedRequestId" || name == "requestId") return ids.request_id.str();
  if (name == "routeKey") return "$connect";
  if (name == "messageDirection") return "IN";
  if (name == "identity.sourceIp") return info.source_ip;
  if (name == "identity.userAgent") return info.user_agent;
  if (name == "stage") return api.stage.name;
  return std::nullopt;
}

// Judges what an authorizer answered: a malformed answer is a 500, a policy that does not allow
// execute-api:Invoke on ARN a 403.
authorization_outcome judge_answer(const apigw::authorizer_result& answer, const std::string& arn) {
  authorization_outcome out;
  auto malformed = [&](std::string why) {
    out.status = 500;
    out.error = "malformed authorizer answer: " + std::move(why);
    return out;
  };
  rapidjson::Document policy_doc;
  policy_doc.Parse(answer.policy_json.c_str(), answer.policy_json.size());
  if (policy_doc.HasParseError() || !policy_doc.IsObject()) return malformed("policyDocument is not a JSON object");
  auto policy = iam_policy::parse(policy_doc);
  if (!policy) return malformed("policyDocument." + policy.error());

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

  switch (policy->evaluate("execute-api:Invoke", arn)) {
    case iam_policy::decision::allow:
      break;
    case iam_policy::decision::explicit_deny:
      out.status = 403;
      out.error = "the authorizer's policy denies execute-api:Invoke on " + arn;
      return out;
    case iam_policy::decision::implicit_deny:
      out.status = 403;
      out.error = "the authorizer's policy does not allow execute-api:Invoke on " + arn;
      return out;
  }
  if (grant.principal_id.empty()) return malformed("no principalId");
  out.grant = std::move(grant);
  return out;
}

}  // namespace

authorization::authorization(const config::api_spec& api, apigw::invocation_log* log)
    : api_(api), log_(log), connect_arn_(emulator::connect_arn(api)) {}

result<std::unique_ptr<authorization>> authorization::create(const config::api_spec& api,
                                                             const apigw::handler_registry& registry,
                                                             apigw::invocation_log* log,
                                                             const function_authorizer_maker& make_function) {
  std::unique_ptr<authorization> auth(new authorization(api, log));

  auto policies = parse_credential_policies(api);
  if (!policies) return fail(std::move(policies).error());
  auth->credential_policies_ = std::move(*policies);

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
        return fail(api.source + ": " + spec.json_path + ".identitySource[" + std::to_string(i) +
                    "]: unknown context variable \"" + std::string(variable) +
                    "\"; the context variables of a $connect are " + known);
      }
    }
    if (!spec.function.empty()) {
      std::unique_ptr<apigw::authorizer> function;
      if (make_function) function = make_function(spec.function);
      if (!function) {
        return fail(api.source + ": " + spec.json_path + ".function: Lambda authorizers run only in the emulator's "
                    "server (apigw-ws-emulator), not here");
      }
      auth->authorizers_.emplace(name, std::move(function));
      continue;
    }
    // The factory gets the authorizer's options plus its identitySource (the loader keeps users
    // from setting that option themselves).
    rapidjson::Document options;
    options.Parse(spec.options_json.c_str());
    if (options.HasParseError() || !options.IsObject()) {
      return fail(api.source + ": " + spec.json_path + ".options: not a JSON object");
    }
    auto& a = options.GetAllocator();
    Value sources(rapidjson::kArrayType);
    for (const std::string& source : spec.identity_source) sources.PushBack(Value(source.c_str(), a), a);
    options.AddMember("identitySource", sources, a);
    auto made = registry.create_authorizer(spec.handler, options);
    if (auto* message = std::get_if<std::string>(&made)) {
      const bool unknown = !registry.contains_authorizer(spec.handler);
      return fail(api.source + ": " + spec.json_path + (unknown ? ".handler: " : ": ") + *message);
    }
    auth->authorizers_.emplace(name, std::get<std::unique_ptr<apigw::authorizer>>(std::move(made)));
  }

  for (const config::route_spec& spec : api.routes) {
    if (spec.route_key != "$connect") continue;
    auth->api_key_required_ = spec.api_key_required;
    if (spec.authorization_type == "AWS_IAM") auth->type_ = authorization_type::aws_iam;
    if (spec.authorization_type != "CUSTOM") continue;
    auto it = auth->authorizers_.find(spec.authorizer_id);
    if (it == auth->authorizers_.end()) {
      return fail(api.source + ": " + spec.json_path + ".authorizerId: no authorizer named \"" +
                  spec.authorizer_id + "\"");
    }
    auth->type_ = authorization_type::custom;
    auth->authorizer_name_ = spec.authorizer_id;
    auth->authorizer_ = it->second.get();
    auth->authorizer_logs_itself_ = !api.authorizers.at(spec.authorizer_id).function.empty();
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
      auth->identity_sources_.push_back(std::move(source));
    }
  }
  return auth;
}

const identity_source* authorization::missing_identity_source(const connection_info& info,
                                                              const header_list& headers,
                                                              const request_ids& ids) const {
  for (const identity_source& source : identity_sources_) {
    std::optional<std::string> value;
    switch (source.where) {
      case identity_source::kind::header:
        // As in the event's single-value map: the last of repeated fields.
        for (const auto& [name, v] : headers) {
          if (iequals(name, source.name)) value = v;
        }
        break;
      case identity_source::kind::query:
        for_each_query_parameter(info.query, [&](const std::string& name, const std::string& v) {
          if (name == source.name) value = v;
        });
        break;
      case identity_source::kind::stage_variable:
        for (const auto& [name, v] : api_.stage.variables) {
          if (name == source.name) value = v;
        }
        break;
      case identity_source::kind::context:
        value = context_variable(source.name, api_, info, ids);
        break;
    }
    if (!value || value->empty()) return &source;
  }
  return nullptr;
}

authorization_outcome authorization::authorize(const rapidjson::Value& event, std::string_view request_id) const {
  apigw::invocation_context context(nullptr, nullptr, log_, authorizer_name_, request_id);
  apigw::authorizer_result answer;
  const auto call = [&] { return guarded([&](outcome&) { answer = authorizer_->authorize(event, context); }); };
  outcome called;
  if (authorizer_logs_itself_) {
    const auto began = std::chrono::steady_clock::now();
    called = call();
    called.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began).count();
  } else {
    called = run_logged(log_, authorizer_name_, request_id, call);
  }
  authorization_outcome out;
  if (called.failed) {
    // A Lambda authorizer refuses with 401 by failing with exactly "Unauthorized".
    out.status = called.error == "Unauthorized" ? 401 : 500;
    out.error = out.status == 401 ? "Unauthorized" : "authorizer failed: " + called.error;
  } else {
    out = judge_answer(answer, connect_arn_);
  }
  out.latency_ms = called.latency_ms;
  if (out.grant) out.grant->integration_latency_ms = std::llround(called.latency_ms);
  return out;
}

authorization_outcome authorization::judge_signature(const sigv4::verdict& verdict) const {
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

bool authorization::accepts_api_key(const std::optional<std::string>& key) const {
  return key && !key->empty() && std::find(api_.api_keys.begin(), api_.api_keys.end(), *key) != api_.api_keys.end();
}

result<std::vector<iam_policy>> parse_credential_policies(const config::api_spec& api) {
  std::vector<iam_policy> policies;
  for (const config::credential_spec& credential : api.credentials) {
    rapidjson::Document document;
    document.Parse(credential.policy_json.c_str());
    auto parsed = iam_policy::parse(document);
    if (!parsed) return fail(api.source + ": " + credential.json_path + ".policy." + parsed.error());
    policies.push_back(*std::move(parsed));
  }
  return policies;
}

std::optional<std::string> api_key_of(const header_list& headers) {
  std::optional<std::string> key;
  for (const auto& [name, value] : headers) {
    if (iequals(name, "x-api-key")) key = value;
  }
  return key;
}

rapidjson::Value authorizer_object(const authorizer_grant& grant, rapidjson::Document::AllocatorType& a) {
  Value authorizer(rapidjson::kObjectType);
  authorizer.AddMember("principalId", json_ref(grant.principal_id), a);
  authorizer.AddMember("integrationLatency", grant.integration_latency_ms, a);
  for (const auto& [key, value] : grant.context) {
    if (key == "principalId" || key == "integrationLatency") continue;
    authorizer.AddMember(json_ref(key), json_ref(value), a);
  }
  return authorizer;
}

}  // namespace apigw::emulator
