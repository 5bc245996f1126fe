#include "emulator/integrations/token_authorizer.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/ascii.hpp"
#include "common/result.hpp"

namespace apigw::emulator {
namespace {

using create_result = std::variant<std::unique_ptr<authorizer>, std::string>;

std::string_view view(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }


std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Where the token is: an identity source split into the event member it reads and the name.
struct token_source {
  enum class kind { header, query, stage_variable, context } where = kind::header;
  std::string name;
};

std::optional<token_source> parse_source(std::string_view s) {
  const std::pair<std::string_view, token_source::kind> prefixes[] = {
      {"route.request.header.", token_source::kind::header},
      {"route.request.querystring.", token_source::kind::query},
      {"stageVariables.", token_source::kind::stage_variable},
      {"context.", token_source::kind::context}};
  for (const auto& [prefix, kind] : prefixes) {
    if (s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix) {
      return token_source{kind, std::string(s.substr(prefix.size()))};
    }
  }
  return std::nullopt;
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// The token in EVENT, or nullopt when the source is absent or not a string.
std::optional<std::string_view> find_token(const rapidjson::Value& event, const token_source& source) {
  const rapidjson::Value* found = nullptr;
  switch (source.where) {
    case token_source::kind::header:
      if (const rapidjson::Value* headers = member(event, "headers"); headers && headers->IsObject()) {
        for (auto m = headers->MemberBegin(); m != headers->MemberEnd(); ++m) {
          if (iequals(view(m->name), source.name)) found = &m->value;
        }
      }
      break;
    case token_source::kind::query:
      if (const rapidjson::Value* q = member(event, "queryStringParameters")) found = member(*q, source.name);
      break;
    case token_source::kind::stage_variable:
      if (const rapidjson::Value* vars = member(event, "stageVariables")) found = member(*vars, source.name);
      break;
    case token_source::kind::context: {
      found = member(event, "requestContext");
      std::string_view rest = source.name;
      while (found != nullptr && !rest.empty()) {
        const auto dot = rest.find('.');
        found = member(*found, rest.substr(0, dot));
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
      }
      break;
    }
  }
  if (found == nullptr || !found->IsString()) return std::nullopt;
  return view(*found);
}

class token_authorizer final : public authorizer {
 public:
  struct entry {
    bool deny = false;
    std::string principal_id;
    std::string context_json = "{}";
  };

  token_authorizer(token_source source, std::map<std::string, entry, std::less<>> tokens)
      : source_(std::move(source)), tokens_(std::move(tokens)) {}

  authorizer_result authorize(const rapidjson::Value& event, invocation_context&) override {
    const auto token = find_token(event, source_);
    if (!token) throw unauthorized();
    const auto it = tokens_.find(*token);
    if (it == tokens_.end()) throw unauthorized();
    std::string_view method_arn;
    if (const rapidjson::Value* arn = member(event, "methodArn"); arn && arn->IsString()) method_arn = view(*arn);

    authorizer_result r;
    r.principal_id = it->second.principal_id;
    r.context_json = it->second.context_json;
    rapidjson::StringBuffer policy;
    rapidjson::Writer<rapidjson::StringBuffer> w(policy);
    w.StartObject();
    w.Key("Version");
    w.String("2012-10-17");
    w.Key("Statement");
    w.StartArray();
    w.StartObject();
    w.Key("Action");
    w.String("execute-api:Invoke");
    w.Key("Effect");
    w.String(it->second.deny ? "Deny" : "Allow");
    w.Key("Resource");
    w.String(method_arn.data(), static_cast<rapidjson::SizeType>(method_arn.size()));
    w.EndObject();
    w.EndArray();
    w.EndObject();
    r.policy_json.assign(policy.GetString(), policy.GetSize());
    return r;
  }

  bool may_block() const override { return false; }

 private:
  token_source source_;
  std::map<std::string, entry, std::less<>> tokens_;
};

// Path of token TOKEN in messages: options.tokens.NAME, or options.tokens["odd name"].
std::string token_path(std::string_view token) {
  const bool plain = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (plain) return "options.tokens." + std::string(token);
  rapidjson::StringBuffer quoted;
  rapidjson::Writer<rapidjson::StringBuffer> w(quoted);
  w.String(token.data(), static_cast<rapidjson::SizeType>(token.size()));
  return "options.tokens[" + std::string(quoted.GetString(), quoted.GetSize()) + "]";
}

result<token_authorizer::entry> read_entry(std::string_view token, const rapidjson::Value& v) {
  const std::string path = token_path(token);
  if (!v.IsObject()) {
    return fail(path + ": expected {\"principalId\": \"…\", \"context\": {…}} or {\"deny\": true}");
  }
  token_authorizer::entry e;
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string_view key = view(m->name);
    if (key != "principalId" && key != "context" && key != "deny") {
      return fail(path + "." + std::string(key) + ": unknown option; allowed: principalId, context, deny");
    }
  }
  if (const rapidjson::Value* deny = member(v, "deny")) {
    if (!deny->IsBool()) return fail(path + ".deny: expected true or false");
    e.deny = deny->GetBool();
  }
  if (const rapidjson::Value* principal = member(v, "principalId")) {
    if (!principal->IsString() || principal->GetStringLength() == 0) {
      return fail(path + ".principalId: expected a non-empty string");
    }
    e.principal_id.assign(view(*principal));
  } else if (!e.deny) {
    return fail(path + ".principalId: missing; an allowed token names its principal, e.g. \"user-1\"");
  }
  if (const rapidjson::Value* context = member(v, "context")) {
    if (e.deny) return fail(path + ".context: a denied token has no context; remove it");
    if (!context->IsObject()) return fail(path + ".context: expected an object of strings, numbers and booleans");
    for (auto m = context->MemberBegin(); m != context->MemberEnd(); ++m) {
      if (!m->value.IsString() && !m->value.IsNumber() && !m->value.IsBool()) {
        return fail(path + ".context." + std::string(view(m->name)) +
                    ": expected a string, number or boolean (AWS allows no other context values)");
      }
    }
    e.context_json = compact(*context);
  }
  return e;
}

}  // namespace

create_result make_token_authorizer(const rapidjson::Value& options) {
  for (auto m = options.MemberBegin(); m != options.MemberEnd(); ++m) {
    const std::string_view key = view(m->name);
    if (key != "tokens" && key != "identitySource") {
      return "options." + std::string(key) + ": unknown option; allowed: tokens";
    }
  }
  const rapidjson::Value* sources = member(options, "identitySource");
  if (sources == nullptr || !sources->IsArray() || sources->Empty() || !(*sources)[0].IsString()) {
    return std::string(
        "identitySource: the token authorizer reads its token from the first identity source; "
        "list one, e.g. [\"route.request.querystring.token\"]");
  }
  auto source = parse_source(view((*sources)[0]));
  if (!source) return "identitySource[0]: not an identity source: " + std::string(view((*sources)[0]));

  const rapidjson::Value* tokens = member(options, "tokens");
  if (tokens == nullptr) {
    return std::string(
        "options.tokens: missing; map each token to {\"principalId\": \"…\", \"context\": {…}} or "
        "{\"deny\": true}");
  }
  if (!tokens->IsObject()) {
    return std::string("options.tokens: expected an object mapping tokens to {\"principalId\": \"…\"} or {\"deny\": true}");
  }
  std::map<std::string, token_authorizer::entry, std::less<>> entries;
  for (auto m = tokens->MemberBegin(); m != tokens->MemberEnd(); ++m) {
    const std::string_view token = view(m->name);
    if (token.empty()) return std::string("options.tokens[\"\"]: an empty token can never be presented; remove it");
    auto e = read_entry(token, m->value);
    if (!e) return std::move(e).error();
    if (!entries.emplace(std::string(token), *std::move(e)).second) {
      return token_path(token) + ": duplicate token; each token may appear once";
    }
  }
  return std::make_unique<token_authorizer>(std::move(*source), std::move(entries));
}

}  // namespace apigw::emulator
