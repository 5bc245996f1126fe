#include "config/config_loader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <system_error>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::config {
namespace {

namespace rj = rapidjson;

// Validation stops at the first error: one precise message is easier to act on than a cascade
// of errors that follow from it. Checks run in a fixed order (top-level keys, name, apiId,
// routeSelectionExpression, stage, server, limits, integrations, authorizers, apiKeys,
// credentials, requireSignedManagementCalls, strictCredentials, tables, routes).

constexpr std::array<std::string_view, 15> top_level_keys = {
    "name",   "apiId",  "region", "routeSelectionExpression", "stage", "server",
    "limits", "routes", "integrations", "authorizers", "apiKeys", "credentials",
    "requireSignedManagementCalls", "strictCredentials", "tables"};
constexpr std::array<std::string_view, 4> stage_keys = {"name", "variables", "accessLogFormat",
                                                        "throttling"};
constexpr std::array<std::string_view, 2> throttling_keys = {"rateLimit", "burstLimit"};
constexpr std::array<std::string_view, 2> server_keys = {"host", "port"};
constexpr std::array<std::string_view, 5> limits_keys = {
    "maxMessageBytes", "maxFrameBytes", "idleTimeoutSeconds", "maxConnectionSeconds",
    "integrationTimeoutMillis"};
constexpr std::array<std::string_view, 6> route_keys = {
    "routeKey",          "integration",  "routeResponseSelectionExpression",
    "authorizationType", "authorizerId", "apiKeyRequired"};
constexpr std::array<std::string_view, 5> integration_keys = {"type", "handler", "options", "policy",
                                                             "library"};
constexpr std::array<std::string_view, 10> function_keys = {
    "type", "runtime", "handler", "codeUri", "layers", "environment", "timeout", "memorySize",
    "reservedConcurrency", "policy"};
// Lambda's limit of layers per function.
constexpr std::size_t max_function_layers = 5;
constexpr std::array<std::string_view, 11> function_runtimes = {
    "nodejs18.x", "nodejs20.x", "nodejs22.x", "python3.9", "python3.10", "python3.11",
    "python3.12", "python3.13", "provided.al2023", "provided.al2", "provided"};
// Variables Lambda sets itself and refuses in a function's configuration.
constexpr std::array<std::string_view, 18> reserved_function_variables = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
constexpr std::array<std::string_view, 5> authorizer_keys = {"type", "handler", "function", "identitySource",
                                                             "options"};
constexpr std::array<std::string_view, 4> credential_keys = {"accessKeyId", "secretAccessKey", "arn",
                                                             "policy"};
constexpr std::array<std::string_view, 3> authorization_types = {"NONE", "AWS_IAM", "CUSTOM"};

// The option an authorizer's factory receives from the emulator: the authorizer's identitySource.
constexpr std::string_view reserved_authorizer_option = "identitySource";

// Stage throttling values: AWS takes rates up to 10000 requests per second per account; a bound
// keeps the token bucket's arithmetic exact.
constexpr double max_throttling_value = 1e9;

// AWS: API names are 1..128 characters; stage names 1..128 of [A-Za-z0-9_-]; stage variable
// values at most 2048 characters.
constexpr std::size_t max_name_chars = 128;
constexpr std::size_t max_stage_name_chars = 128;
constexpr std::size_t max_stage_variable_value_chars = 2048;

// Time limits: at least one microsecond (the stored unit) and at most a year, so that
// "now + limit" can never overflow a clock's time_point.
constexpr double min_seconds = 0.000001;
constexpr double max_seconds = 31536000;
// AWS's integration timeout range for WebSocket APIs.
constexpr double min_integration_millis = 50;
constexpr double max_integration_millis = 29000;

std::string_view view(const rj::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// UTF-8 code points: what an editor shows as characters (the text is validated UTF-8).
std::size_t char_count(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The string as a JSON string literal, so that odd characters stay visible in messages.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 8> buf{};
          std::snprintf(buf.data(), buf.size(), "\\u%04x", static_cast<unsigned>(c));
          out += buf.data();
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string number_text(const rj::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v.GetDouble());
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), end);
}

// What a value is, for "found ..." in messages.
std::string describe(const rj::Value& v) {
  switch (v.GetType()) {
    case rj::kNullType: return "null";
    case rj::kFalseType: return "false";
    case rj::kTrueType: return "true";
    case rj::kObjectType: return "an object";
    case rj::kArrayType: return "an array";
    case rj::kStringType: {
      constexpr std::size_t shown = 60;
      std::string_view s = view(v);
      if (s.size() <= shown) return "string " + quote(s);
      // Cut on a character boundary so the message stays valid UTF-8.
      std::size_t cut = shown;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      return "string " + quote(s.substr(0, cut)) + "...";
    }
    case rj::kNumberType: return "number " + number_text(v);
  }
  return "a JSON value";
}

// Plain keys read as "a.b"; anything else as a["x y"], so the path stays unambiguous.
std::string member_path(const std::string& parent, std::string_view key) {
  bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '$';
  });
  if (!plain) return parent + "[" + quote(key) + "]";
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

const rj::Value* find(const rj::Value& object, std::string_view key) {
  auto it = object.FindMember(rj::Value(rj::StringRef(key.data(), key.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_stage_name(std::string_view s) {
  return !s.empty() && s.size() <= max_stage_name_chars &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_'; });
}

bool is_stage_variable_name(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_'; });
}

// AWS: stage variable values match [A-Za-z0-9-._~:/?#&=,]+.
bool is_stage_variable_value_char(char c) {
  return is_alnum(c) || std::string_view("-._~:/?#&=,").find(c) != std::string_view::npos;
}

std::string compact_json(const rj::Value& v) {
  rj::StringBuffer buffer;
  rj::Writer<rj::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// "us-east-1", "eu-central-2", "us-gov-west-1": lowercase words and a number, joined by hyphens.
bool is_region(std::string_view s) {
  if (s.size() < 4 || s.size() > 32 || s.front() == '-' || s.back() == '-') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return s.find('-') != std::string_view::npos && s.back() >= '0' && s.back() <= '9';
}

bool is_api_id(std::string_view s) {
  return s.size() == 10 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
         });
}

// An HTTP header name: RFC 9110's token characters.
bool is_header_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// A query string parameter name as it arrives percent-decoded: anything visible but '&' and '='.
bool is_query_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7F && c != '&' && c != '=';
  });
}

// $context variable names: "requestId", "identity.sourceIp".
bool is_context_name(std::string_view s) {
  return !s.empty() && s.front() != '.' && s.back() != '.' &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '_'; });
}

// route.request.header.NAME, route.request.querystring.NAME, stageVariables.NAME, context.NAME.
bool is_identity_source(std::string_view s) {
  auto rest = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (s.substr(0, prefix.size()) != prefix) return std::nullopt;
    return s.substr(prefix.size());
  };
  if (auto name = rest("route.request.header.")) return is_header_name(*name);
  if (auto name = rest("route.request.querystring.")) return is_query_name(*name);
  if (auto name = rest("stageVariables.")) return is_stage_variable_name(*name);
  if (auto name = rest("context.")) return is_context_name(*name);
  return false;
}

// API key values travel in the x-api-key header: visible ASCII, no spaces.
bool is_api_key(std::string_view s) {
  return !s.empty() && s.size() <= 1024 && std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F;
  });
}

// Access key ids appear in the SigV4 credential scope ("AKID/20240101/us-east-1/..."): letters
// and digits only, as AWS's own ("AKIAIOSFODNN7EXAMPLE").
bool is_access_key_id(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), is_alnum);
}

// An IAM principal: arn:PARTITION:iam::ACCOUNT:user/NAME (or role/NAME), or
// arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION.
bool is_principal_arn(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    std::size_t colon = s.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts.push_back(s.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view resource = s.substr(start);
  std::string_view account = parts[4];
  if (parts[0] != "arn" || parts[1].empty() || !parts[3].empty()) return false;
  if (account.size() != 12 ||
      !std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto named = [&](std::string_view prefix) {
    return resource.size() > prefix.size() && resource.substr(0, prefix.size()) == prefix;
  };
  if (parts[2] == "iam") return named("user/") || named("role/");
  if (parts[2] == "sts") return named("assumed-role/");
  return false;
}

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

bool is_word_char(char c) { return is_word_start(c) || (c >= '0' && c <= '9') || c == '-'; }

// A character that can start a JSON value, or a mistaken one (a single-quoted string, a bare word).
bool starts_value(char c) {
  return c == '"' || c == '\'' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') ||
         is_word_start(c);
}

// A JSON syntax error in plain words: where (an offset into the text) and what.
struct syntax_problem {
  std::size_t offset;
  std::string message;
};

// RapidJSON's message, reworded for the mistakes people make when editing JSON by hand (trailing
// and missing commas, unquoted keys, single quotes, comments), pointing at the offending character.
syntax_problem explain_syntax_error(std::string_view text, std::size_t offset, rj::ParseErrorCode code) {
  offset = std::min(offset, text.size());
  const std::string_view rest = text.substr(offset);
  const char next = rest.empty() ? '\0' : rest.front();
  if (rest.substr(0, 2) == "//") return {offset, "// comment (JSON allows none)"};
  if (rest.substr(0, 2) == "/*") return {offset, "/* */ comment (JSON allows none)"};

  // The last character before the error that is not whitespace: a trailing comma's position.
  std::size_t before = offset;
  while (before > 0 && is_json_space(text[before - 1])) --before;
  const bool after_comma = before > 0 && text[before - 1] == ',';

  switch (code) {
    case rj::kParseErrorValueInvalid:
      // Only an array's closing bracket can follow a comma where a value is expected.
      if (next == ']' && after_comma) return {before - 1, "trailing comma before ']' (JSON allows none)"};
      if (next == '\'') return {offset, "single-quoted string (JSON needs double quotes)"};
      break;
    case rj::kParseErrorObjectMissName:
      if (next == '}' && after_comma) return {before - 1, "trailing comma before '}' (JSON allows none)"};
      if (next == '\'') return {offset, "single-quoted string (JSON needs double quotes)"};
      if (is_word_start(next)) {
        std::size_t end = 0;
        while (end < rest.size() && is_word_char(rest[end])) ++end;
        const std::string key(rest.substr(0, end));
        return {offset, "unquoted key " + key + " (JSON needs " + quote(key) + ")"};
      }
      break;
    case rj::kParseErrorObjectMissCommaOrCurlyBracket:
      if (next == '"' || next == '\'' || is_word_start(next)) {
        return {offset, "missing comma between object members"};
      }
      break;
    case rj::kParseErrorArrayMissCommaOrSquareBracket:
      if (starts_value(next)) return {offset, "missing comma between array elements"};
      break;
    default:
      break;
  }
  return {offset, rj::GetParseError_En(code)};
}

// One load: holds the source name and the first error.
class loader {
 public:
  loader(std::string_view source, std::filesystem::path base_dir)
      : source_(source), base_dir_(std::move(base_dir)) {}

  result<api_spec> run(std::string_view text) {
    rj::Document doc;
    doc.Parse<rj::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) return apigw::fail(syntax_error(text, doc.GetErrorOffset(), doc.GetParseError()));

    api_spec api;
    api.source = source_;
    if (!read_api(doc, api)) return apigw::fail(std::move(*error_));
    return api;
  }

 private:
  std::string syntax_error(std::string_view text, std::size_t error_offset, rj::ParseErrorCode code) const {
    const syntax_problem problem = explain_syntax_error(text, error_offset, code);
    std::string_view before = text.substr(0, problem.offset);
    std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    std::size_t line_start = before.rfind('\n');
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    std::size_t column = 1 + char_count(before.substr(line_start));
    return source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + problem.message;
  }

  // Records the error and returns false, so callers can write "return fail(...)".
  bool fail(const std::string& path, const std::string& message) {
    if (!error_) error_ = path.empty() ? source_ + ": " + message : source_ + ": " + path + ": " + message;
    return false;
  }

  bool fail_type(const std::string& path, const std::string& expected, const rj::Value& found) {
    return fail(path, "expected " + expected + ", found " + describe(found));
  }

  // Every key must be one of ALLOWED and appear once. WHERE reads "in stage", "at the top level".
  template <std::size_t N>
  bool check_keys(const rj::Value& object, const std::string& path,
                  const std::array<std::string_view, N>& allowed, const std::string& where) {
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
      std::string_view key = view(m->name);
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return fail(member_path(path, key),
                    "unknown key; the keys allowed " + where + " are " + join(allowed));
      }
    }
    return check_unique_keys(object, path);
  }

  // RapidJSON keeps duplicate keys; a second value would silently win or lose, so reject it.
  bool check_unique_keys(const rj::Value& object, const std::string& path) {
    std::set<std::string_view> seen;
    for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
      if (!seen.insert(view(m->name)).second) {
        return fail(member_path(path, view(m->name)),
                    "duplicate key; each key may appear only once in an object");
      }
    }
    return true;
  }

  // An optional string member: absent leaves OUT as it is.
  bool read_string(const rj::Value& object, std::string_view key, const std::string& parent,
                   std::string& out) {
    const rj::Value* v = find(object, key);
    if (!v) return true;
    if (!v->IsString()) return fail_type(member_path(parent, key), "a string", *v);
    out.assign(view(*v));
    return true;
  }

  // A required string member. HINT says what the key is for.
  bool require_string(const rj::Value& object, std::string_view key, const std::string& parent,
                      const std::string& hint, std::string& out) {
    if (!find(object, key)) return fail(member_path(parent, key), "missing; " + hint);
    return read_string(object, key, parent, out);
  }

  bool read_api(const rj::Value& doc, api_spec& api) {
    if (!doc.IsObject()) return fail_type("", "a JSON object at the top level", doc);
    if (!check_keys(doc, "", top_level_keys, "at the top level")) return false;

    if (!read_string(doc, "name", "", api.name)) return false;
    if (api.name.empty() || char_count(api.name) > max_name_chars) {
      return fail("name", "expected 1 to 128 characters, found " + describe(*find(doc, "name")));
    }

    if (const rj::Value* id = find(doc, "apiId")) {
      if (!id->IsString() || !is_api_id(view(*id))) {
        return fail_type("apiId", "10 lowercase letters or digits, like \"z7aqfmpd0c\"", *id);
      }
      api.api_id.assign(view(*id));
    } else {
      api.api_id = derive_api_id(api.name);
    }

    if (!require_string(doc, "routeSelectionExpression", "",
                        "it is required, e.g. \"$request.body.action\"",
                        api.route_selection_expression)) {
      return false;
    }
    if (api.route_selection_expression.empty()) {
      return fail("routeSelectionExpression", "must not be empty, e.g. \"$request.body.action\"");
    }

    if (!read_string(doc, "region", "", api.region)) return false;
    if (!is_region(api.region)) {
      return fail("region", "expected an AWS region name such as \"us-east-1\", found " +
                                describe(*find(doc, "region")));
    }

    if (const rj::Value* v = find(doc, "stage"); v && !read_stage(*v, api.stage)) return false;
    if (const rj::Value* v = find(doc, "server"); v && !read_server(*v, api.server)) return false;
    if (const rj::Value* v = find(doc, "limits"); v && !read_limits(*v, api.limits)) return false;
    if (const rj::Value* v = find(doc, "integrations"); v && !read_integrations(*v, api)) {
      return false;
    }
    if (const rj::Value* v = find(doc, "authorizers"); v && !read_authorizers(*v, api)) return false;
    if (const rj::Value* v = find(doc, "apiKeys"); v && !read_api_keys(*v, api)) return false;
    if (const rj::Value* v = find(doc, "credentials"); v && !read_credentials(*v, api)) return false;
    if (const rj::Value* v = find(doc, "requireSignedManagementCalls")) {
      if (!v->IsBool()) return fail_type("requireSignedManagementCalls", "true or false", *v);
      api.require_signed_management_calls = v->GetBool();
      if (api.require_signed_management_calls && api.credentials.empty()) {
        return fail("requireSignedManagementCalls",
                    "true needs at least one entry in \"credentials\" to sign @connections calls "
                    "with; add one or set it to false");
      }
    }

    if (const rj::Value* v = find(doc, "strictCredentials")) {
      if (!v->IsBool()) return fail_type("strictCredentials", "true or false", *v);
      api.strict_credentials = v->GetBool();
    }

    if (const rj::Value* v = find(doc, "tables"); v && !read_tables(*v, api)) return false;

    const rj::Value* routes = find(doc, "routes");
    if (!routes) {
      return fail("routes", "missing; it is required: an array of routes such as "
                            "{\"routeKey\": \"$default\", \"integration\": \"echo\"}");
    }
    return read_routes(*routes, api);
  }

  bool read_stage(const rj::Value& v, stage_settings& stage) {
    const std::string path = "stage";
    if (!v.IsObject()) return fail_type(path, "an object with name and variables", v);
    if (!check_keys(v, path, stage_keys, "in stage")) return false;

    if (const rj::Value* name = find(v, "name")) {
      if (!name->IsString() || !is_stage_name(view(*name))) {
        return fail_type("stage.name",
                         "a stage name of 1 to 128 letters, digits, hyphens or underscores", *name);
      }
      stage.name.assign(view(*name));
    }

    if (const rj::Value* vars = find(v, "variables")) {
      const std::string vars_path = "stage.variables";
      if (!vars->IsObject()) return fail_type(vars_path, "an object of string values", *vars);
      if (!check_unique_keys(*vars, vars_path)) return false;
      for (auto m = vars->MemberBegin(); m != vars->MemberEnd(); ++m) {
        std::string_view name = view(m->name);
        std::string var_path = member_path(vars_path, name);
        if (!is_stage_variable_name(name)) {
          return fail(var_path, "stage variable names may contain only letters, digits and underscores");
        }
        if (!m->value.IsString()) return fail_type(var_path, "a string", m->value);
        std::string_view value = view(m->value);
        if (value.empty() || value.size() > max_stage_variable_value_chars ||
            !std::all_of(value.begin(), value.end(), is_stage_variable_value_char)) {
          return fail_type(var_path,
                           "1 to 2048 of the characters AWS allows in stage variable values: "
                           "letters, digits and - . _ ~ : / ? # & = ,",
                           m->value);
        }
        stage.variables.emplace_back(std::string(name), std::string(value));
      }
    }
    // The $context variables are checked by the server, which knows what it can fill in.
    if (!read_string(v, "accessLogFormat", path, stage.access_log_format)) return false;
    if (const rj::Value* t = find(v, "throttling")) return read_throttling(*t, stage);
    return true;
  }

  bool read_throttling(const rj::Value& v, stage_settings& stage) {
    const std::string path = "stage.throttling";
    if (!v.IsObject()) {
      return fail_type(path, "an object with rateLimit and burstLimit, e.g. "
                             "{\"rateLimit\": 100, \"burstLimit\": 50}", v);
    }
    if (!check_keys(v, path, throttling_keys, "in stage.throttling")) return false;
    stage_settings::throttling_settings t;
    auto read = [&](std::string_view key, const std::string& what, double& out) {
      const rj::Value* n = find(v, key);
      if (!n) {
        return fail(member_path(path, key),
                    "missing; throttling needs both rateLimit (requests per second) and burstLimit "
                    "(the most requests at once)");
      }
      if (!n->IsNumber() || n->GetDouble() < 0 || n->GetDouble() > max_throttling_value) {
        return fail_type(member_path(path, key), what, *n);
      }
      out = n->GetDouble();
      return true;
    };
    if (!read("rateLimit", "a number of requests per second from 0 to 1000000000", t.rate_limit)) {
      return false;
    }
    if (!read("burstLimit", "a number of requests from 0 to 1000000000 (the bucket's size)",
              t.burst_limit)) {
      return false;
    }
    stage.throttling = t;
    return true;
  }

  bool read_server(const rj::Value& v, server_settings& server) {
    const std::string path = "server";
    if (!v.IsObject()) return fail_type(path, "an object with host and port", v);
    if (!check_keys(v, path, server_keys, "in server")) return false;

    if (const rj::Value* host = find(v, "host")) {
      if (!host->IsString() || host->GetStringLength() == 0) {
        return fail_type("server.host", "a host name or IP address, e.g. \"127.0.0.1\"", *host);
      }
      server.host.assign(view(*host));
    }
    if (const rj::Value* port = find(v, "port")) {
      if (!port->IsUint() || port->GetUint() > 65535) {
        return fail_type("server.port", "an integer from 0 to 65535 (0 picks a free port)", *port);
      }
      server.port = static_cast<std::uint16_t>(port->GetUint());
    }
    return true;
  }

  bool read_bytes(const rj::Value& object, std::string_view key, std::size_t& out) {
    const rj::Value* v = find(object, key);
    if (!v) return true;
    if (!v->IsUint64() || v->GetUint64() == 0) {
      return fail_type(member_path("limits", key), "a positive integer (bytes)", *v);
    }
    out = static_cast<std::size_t>(v->GetUint64());
    return true;
  }

  bool read_duration(const rj::Value& object, std::string_view key, double min, double max,
                     double micros_per_unit, const std::string& expected,
                     std::chrono::microseconds& out) {
    const rj::Value* v = find(object, key);
    if (!v) return true;
    if (!v->IsNumber() || v->GetDouble() < min || v->GetDouble() > max) {
      return fail_type(member_path("limits", key), expected, *v);
    }
    out = std::chrono::microseconds(std::llround(v->GetDouble() * micros_per_unit));
    return true;
  }

  bool read_limits(const rj::Value& v, limits& lim) {
    const std::string path = "limits";
    if (!v.IsObject()) return fail_type(path, "an object", v);
    if (!check_keys(v, path, limits_keys, "in limits")) return false;

    if (!read_bytes(v, "maxMessageBytes", lim.max_message_bytes)) return false;
    if (!read_bytes(v, "maxFrameBytes", lim.max_frame_bytes)) return false;
    if (lim.max_frame_bytes > lim.max_message_bytes) {
      return fail("limits.maxFrameBytes",
                  std::to_string(lim.max_frame_bytes) + " must not exceed maxMessageBytes (" +
                      std::to_string(lim.max_message_bytes) + "): a message is at least one frame");
    }

    const std::string seconds =
        "a number of seconds from 0.000001 to 31536000 (fractions allowed, e.g. 0.3)";
    if (!read_duration(v, "idleTimeoutSeconds", min_seconds, max_seconds, 1e6, seconds,
                       lim.idle_timeout)) {
      return false;
    }
    if (!read_duration(v, "maxConnectionSeconds", min_seconds, max_seconds, 1e6, seconds,
                       lim.max_connection_duration)) {
      return false;
    }
    return read_duration(v, "integrationTimeoutMillis", min_integration_millis,
                         max_integration_millis, 1e3,
                         "a number of milliseconds from 50 to 29000 (AWS's range)",
                         lim.integration_timeout);
  }

  bool read_integrations(const rj::Value& v, api_spec& api) {
    const std::string path = "integrations";
    if (!v.IsObject()) {
      return fail_type(path, "an object mapping integration names to integrations", v);
    }
    if (!check_unique_keys(v, path)) return false;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      integration_spec spec;
      spec.name.assign(view(m->name));
      spec.json_path = member_path(path, spec.name);
      if (spec.name.empty()) return fail(spec.json_path, "integration names must not be empty");
      if (!read_integration(m->value, spec)) return false;
      api.integrations.emplace(spec.name, std::move(spec));
    }
    return true;
  }

  bool read_integration(const rj::Value& v, integration_spec& spec) {
    const std::string& path = spec.json_path;
    if (!v.IsObject()) return fail_type(path, "an object with type, handler and options", v);
    if (!read_string(v, "type", path, spec.type)) return false;
    if (spec.type != "lambda" && !check_keys(v, path, integration_keys, "in an integration")) return false;
    if (spec.type != "builtin" && spec.type != "plugin" && spec.type != "lambda") {
      return fail(member_path(path, "type"),
                  "unknown integration type " + quote(spec.type) +
                      "; the types are \"builtin\" (a handler of the emulator), \"plugin\" "
                      "(a handler from a shared library named by \"library\") and \"lambda\" "
                      "(a Lambda function's code: runtime, handler, codeUri)");
    }
    if (spec.type == "lambda") return read_function(v, spec);
    const rj::Value* library = find(v, "library");
    if (spec.type == "plugin") {
      if (library == nullptr || !library->IsString() || library->GetStringLength() == 0) {
        return fail(member_path(path, "library"),
                    "a plugin integration names its shared library, e.g. \"library\": "
                    "\"build/libmyhandlers.so\" (relative to the config file)");
      }
      spec.library = resolve_relative(std::string(view(*library)));
    } else if (library != nullptr) {
      return fail(member_path(path, "library"),
                  "only a \"plugin\" integration loads a library; set \"type\": \"plugin\" or "
                  "remove \"library\"");
    }

    if (!require_string(v, "handler", path,
                        "name the handler that serves this integration, e.g. \"echo\", "
                        "\"inspect\" or \"mock\"",
                        spec.handler)) {
      return false;
    }
    if (spec.handler.empty()) {
      return fail(member_path(path, "handler"),
                  "must not be empty; name a handler, e.g. \"echo\", \"inspect\" or \"mock\"");
    }

    if (const rj::Value* options = find(v, "options")) {
      if (!options->IsObject()) return fail_type(member_path(path, "options"), "an object", *options);
      spec.options_json = compact_json(*options);
    }
    if (const rj::Value* policy = find(v, "policy")) {
      if (!policy->IsObject()) {
        return fail_type(member_path(path, "policy"),
                         "an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}", *policy);
      }
      spec.policy_json = compact_json(*policy);
    }
    return true;
  }

  // "type": "lambda": a function run from its code as Lambda runs it (docs/functions.md).
  bool read_function(const rj::Value& v, integration_spec& spec) {
    const std::string& path = spec.json_path;
    if (!check_keys(v, path, function_keys, "in a \"lambda\" integration")) return false;
    function_spec f;
    if (!require_string(v, "runtime", path,
                        "name the function's runtime, one of " + join(function_runtimes), f.runtime)) {
      return false;
    }
    if (std::find(function_runtimes.begin(), function_runtimes.end(), f.runtime) == function_runtimes.end()) {
      return fail(member_path(path, "runtime"),
                  "unknown runtime " + quote(f.runtime) + "; the runtimes are " + join(function_runtimes));
    }
    const bool provided = f.runtime.rfind("provided", 0) == 0;
    if (!provided) {
      const std::string example = f.runtime.rfind("python", 0) == 0 ? "\"lambda_function.lambda_handler\""
                                                                      : "\"app.handler\"";
      if (!require_string(v, "handler", path,
                          "name the file and the function it exports, e.g. " + example, f.handler)) {
        return false;
      }
      const auto dot = f.handler.rfind('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == f.handler.size()) {
        return fail(member_path(path, "handler"),
                    quote(f.handler) + " is not FILE.FUNCTION; e.g. " + example);
      }
    } else if (!read_string(v, "handler", path, f.handler)) {
      return false;
    }

    std::string code;
    if (!require_string(v, "codeUri", path,
                        "the folder that holds the function's code, relative to this file, e.g. "
                        "\"functions/sendmessage/\"",
                        code)) {
      return false;
    }
    // Absolute: the function's process runs in this folder, and LAMBDA_TASK_ROOT names it.
    std::error_code ec;
    f.code_dir = std::filesystem::absolute(resolve_relative(code.empty() ? std::string(".") : code), ec)
                     .lexically_normal()
                     .string();
    while (f.code_dir.size() > 1 && f.code_dir.back() == '/') f.code_dir.pop_back();
    if (!std::filesystem::is_directory(f.code_dir, ec)) {
      return fail(member_path(path, "codeUri"),
                  quote(code) + ": no such folder (" + f.code_dir + "); codeUri names the folder that "
                  "holds the function's code, relative to this file");
    }

    if (const rj::Value* layers = find(v, "layers")) {
      const std::string layers_path = member_path(path, "layers");
      if (!layers->IsArray() || layers->Size() > max_function_layers) {
        return fail_type(layers_path,
                         "a list of at most " + std::to_string(max_function_layers) +
                             " folders, each a layer's content as Lambda puts it in /opt (nodejs/node_modules/..., "
                             "python/..., bin/, lib/)",
                         *layers);
      }
      for (rj::SizeType i = 0; i < layers->Size(); ++i) {
        const std::string layer_path = layers_path + "[" + std::to_string(i) + "]";
        const rj::Value& layer = (*layers)[i];
        if (!layer.IsString() || layer.GetStringLength() == 0) return fail_type(layer_path, "a folder", layer);
        std::string folder = std::filesystem::absolute(resolve_relative(std::string(view(layer))), ec)
                                 .lexically_normal()
                                 .string();
        while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
        if (!std::filesystem::is_directory(folder, ec)) {
          return fail(layer_path, quote(std::string(view(layer))) + ": no such folder (" + folder +
                                      "); a layer is a folder, relative to this file");
        }
        f.layers.push_back(std::move(folder));
      }
    }

    if (const rj::Value* env = find(v, "environment")) {
      const std::string env_path = member_path(path, "environment");
      if (!env->IsObject()) return fail_type(env_path, "an object of variable names to string values", *env);
      if (!check_unique_keys(*env, env_path)) return false;
      for (auto m = env->MemberBegin(); m != env->MemberEnd(); ++m) {
        const std::string name(view(m->name));
        const std::string var_path = member_path(env_path, name);
        const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
        const bool well_formed =
            name.size() >= 2 && letter(name[0]) && std::all_of(name.begin(), name.end(), [&](char c) {
              return letter(c) || (c >= '0' && c <= '9') || c == '_';
            });
        if (!well_formed) {
          return fail(var_path, "Lambda's variable names are a letter followed by at least one letter, "
                                "digit or underscore");
        }
        if (std::find(reserved_function_variables.begin(), reserved_function_variables.end(), name) !=
            reserved_function_variables.end()) {
          return fail(var_path, "reserved: Lambda sets " + name + " itself; choose another name");
        }
        if (!m->value.IsString()) {
          return fail_type(var_path, "a string (write \"8080\", not 8080)", m->value);
        }
        f.environment.emplace_back(name, std::string(view(m->value)));
      }
    }
    if (const rj::Value* t = find(v, "timeout")) {
      if (!t->IsNumber() || t->GetDouble() < 0.05 || t->GetDouble() > 900) {
        return fail_type(member_path(path, "timeout"),
                         "a number of seconds from 0.05 to 900 (Lambda's maximum; fractions allowed)", *t);
      }
      f.timeout_seconds = t->GetDouble();
    }
    if (const rj::Value* m = find(v, "memorySize")) {
      if (!m->IsUint() || m->GetUint() < 128 || m->GetUint() > 10240) {
        return fail_type(member_path(path, "memorySize"), "an integer from 128 to 10240 (MB, Lambda's range)", *m);
      }
      f.memory_mb = m->GetUint();
    }
    if (const rj::Value* c = find(v, "reservedConcurrency")) {
      if (!c->IsUint() || c->GetUint() < 1 || c->GetUint() > 1000) {
        return fail_type(member_path(path, "reservedConcurrency"),
                         "an integer from 1 to 1000: how many invocations run at once", *c);
      }
      f.reserved_concurrency = c->GetUint();
    }
    if (const rj::Value* policy = find(v, "policy")) {
      if (!policy->IsObject()) {
        return fail_type(member_path(path, "policy"),
                         "an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}", *policy);
      }
      spec.policy_json = compact_json(*policy);
    }
    spec.handler = f.handler;
    spec.function = std::move(f);
    return true;
  }

  bool read_authorizers(const rj::Value& v, api_spec& api) {
    const std::string path = "authorizers";
    if (!v.IsObject()) return fail_type(path, "an object mapping authorizer names to authorizers", v);
    if (!check_unique_keys(v, path)) return false;
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      authorizer_spec spec;
      spec.name.assign(view(m->name));
      spec.json_path = member_path(path, spec.name);
      if (spec.name.empty()) return fail(spec.json_path, "authorizer names must not be empty");
      if (!read_authorizer(m->value, spec, api)) return false;
      api.authorizers.emplace(spec.name, std::move(spec));
    }
    return true;
  }

  bool read_authorizer(const rj::Value& v, authorizer_spec& spec, const api_spec& api) {
    const std::string& path = spec.json_path;
    if (!v.IsObject()) return fail_type(path, "an object with type, handler, identitySource and options", v);
    if (!check_keys(v, path, authorizer_keys, "in an authorizer")) return false;

    std::string type = "REQUEST";
    if (!read_string(v, "type", path, type)) return false;
    if (type != "REQUEST") {
      return fail(member_path(path, "type"),
                  "unknown authorizer type " + quote(type) +
                      "; WebSocket APIs have only \"REQUEST\" authorizers (TOKEN and JWT "
                      "authorizers do not exist for them)");
    }

    if (!read_string(v, "function", path, spec.function)) return false;
    if (find(v, "function") != nullptr) {
      // A Lambda function decides: it must be one of the API's "lambda" integrations.
      auto it = api.integrations.find(spec.function);
      if (it == api.integrations.end() || !it->second.function) {
        std::string known;
        for (const auto& [name, integration] : api.integrations) {
          if (integration.function) known += (known.empty() ? "" : ", ") + quote(name);
        }
        return fail(member_path(path, "function"),
                    "no \"lambda\" integration named " + quote(spec.function) +
                        (known.empty() ? std::string("; \"integrations\" defines none")
                                       : "; the lambda integrations are " + known));
      }
      if (find(v, "handler") != nullptr) {
        return fail(member_path(path, "handler"),
                    "an authorizer is either a handler of the emulator (\"handler\") or a Lambda "
                    "function (\"function\"), not both");
      }
    } else {
      if (!require_string(v, "handler", path,
                          "name the authorizer that decides, e.g. \"token\", or a \"lambda\" integration "
                          "as \"function\"",
                          spec.handler)) {
        return false;
      }
      if (spec.handler.empty()) {
        return fail(member_path(path, "handler"), "must not be empty; name an authorizer, e.g. \"token\"");
      }
    }

    if (const rj::Value* sources = find(v, "identitySource")) {
      const std::string sources_path = member_path(path, "identitySource");
      if (!sources->IsArray()) {
        return fail_type(sources_path,
                         "an array of identity sources, e.g. [\"route.request.header.Auth\"]",
                         *sources);
      }
      for (rj::SizeType i = 0; i < sources->Size(); ++i) {
        const rj::Value& s = (*sources)[i];
        if (!s.IsString() || !is_identity_source(view(s))) {
          return fail_type(index_path(sources_path, i),
                           "route.request.header.NAME, route.request.querystring.NAME, "
                           "stageVariables.NAME or context.NAME",
                           s);
        }
        spec.identity_source.emplace_back(view(s));
      }
    }

    if (const rj::Value* options = find(v, "options")) {
      const std::string options_path = member_path(path, "options");
      if (!options->IsObject()) return fail_type(options_path, "an object", *options);
      if (find(*options, reserved_authorizer_option)) {
        return fail(member_path(options_path, reserved_authorizer_option),
                    "is given to the authorizer by the emulator from the authorizer's "
                    "identitySource; set " + member_path(path, "identitySource") + " instead");
      }
      spec.options_json = compact_json(*options);
    }
    return true;
  }

  bool read_api_keys(const rj::Value& v, api_spec& api) {
    const std::string path = "apiKeys";
    if (!v.IsArray()) return fail_type(path, "an array of API key values", v);
    for (rj::SizeType i = 0; i < v.Size(); ++i) {
      const std::string key_path = index_path(path, i);
      if (!v[i].IsString() || !is_api_key(view(v[i]))) {
        return fail(key_path, "expected an API key: 1 to 1024 visible ASCII characters without "
                              "spaces (it travels in the x-api-key header), found " +
                                  (v[i].IsString() ? std::string("a string that is not one")
                                                   : describe(v[i])));
      }
      std::string key(view(v[i]));
      auto earlier = std::find(api.api_keys.begin(), api.api_keys.end(), key);
      if (earlier != api.api_keys.end()) {
        return fail(key_path, "duplicate API key; " +
                                  index_path(path, static_cast<std::size_t>(earlier - api.api_keys.begin())) +
                                  " already has it");
      }
      api.api_keys.push_back(std::move(key));
    }
    return true;
  }

  bool read_credentials(const rj::Value& v, api_spec& api) {
    const std::string path = "credentials";
    if (!v.IsArray()) {
      return fail_type(path, "an array of credentials, each with accessKeyId, secretAccessKey, arn "
                             "and policy", v);
    }
    for (rj::SizeType i = 0; i < v.Size(); ++i) {
      credential_spec c;
      c.json_path = index_path(path, i);
      if (!read_credential(v[i], api, c)) return false;
      api.credentials.push_back(std::move(c));
    }
    return true;
  }

  bool read_credential(const rj::Value& v, const api_spec& api, credential_spec& c) {
    const std::string& path = c.json_path;
    if (!v.IsObject()) {
      return fail_type(path, "an object with accessKeyId, secretAccessKey, arn and policy", v);
    }
    if (!check_keys(v, path, credential_keys, "in a credential")) return false;

    if (!require_string(v, "accessKeyId", path,
                        "every credential has one, e.g. \"AKIAIOSFODNN7EXAMPLE\"", c.access_key_id)) {
      return false;
    }
    if (!is_access_key_id(c.access_key_id)) {
      return fail_type(member_path(path, "accessKeyId"), "1 to 128 letters or digits, like \"AKIAIOSFODNN7EXAMPLE\"",
                       *find(v, "accessKeyId"));
    }
    for (const credential_spec& earlier : api.credentials) {
      if (earlier.access_key_id == c.access_key_id) {
        return fail(member_path(path, "accessKeyId"),
                    "duplicate access key id " + quote(c.access_key_id) + "; " + earlier.json_path +
                        " already has it");
      }
    }

    // The secret is never quoted back: messages end up in logs.
    if (!find(v, "secretAccessKey")) {
      return fail(member_path(path, "secretAccessKey"), "missing; every credential has the secret it signs with");
    }
    const rj::Value& secret = *find(v, "secretAccessKey");
    if (!secret.IsString() || secret.GetStringLength() == 0) {
      return fail(member_path(path, "secretAccessKey"),
                  "expected a non-empty string (the secret the key signs with)");
    }
    c.secret_access_key.assign(view(secret));

    if (!require_string(v, "arn", path,
                        "the IAM user or role the key belongs to, e.g. "
                        "\"arn:aws:iam::123456789012:user/alice\"",
                        c.arn)) {
      return false;
    }
    if (!is_principal_arn(c.arn)) {
      return fail_type(member_path(path, "arn"),
                       "an IAM principal ARN: arn:aws:iam::ACCOUNT:user/NAME, "
                       "arn:aws:iam::ACCOUNT:role/NAME or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION "
                       "(ACCOUNT: 12 digits)",
                       *find(v, "arn"));
    }

    const rj::Value* policy = find(v, "policy");
    if (!policy) {
      return fail(member_path(path, "policy"),
                  "missing; an IAM policy document says what the key may call, e.g. "
                  "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
                  "\"Action\": \"execute-api:*\", \"Resource\": \"*\"}]}");
    }
    if (!policy->IsObject()) {
      return fail_type(member_path(path, "policy"),
                       "an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
                       *policy);
    }
    c.policy_json = compact_json(*policy);
    return true;
  }

  // Tables keep DynamoDB's CreateTable shape; the store checks the shape itself, since it owns
  // what a key schema may be. Here: an array of objects, each kept as compact JSON.
  bool read_tables(const rj::Value& v, api_spec& api) {
    const std::string path = "tables";
    if (!v.IsArray()) return fail_type(path, "an array of DynamoDB CreateTable definitions", v);
    for (rj::SizeType i = 0; i < v.Size(); ++i) {
      table_spec table;
      table.json_path = index_path(path, i);
      if (!v[i].IsObject()) {
        return fail_type(table.json_path,
                         "an object like {\"TableName\": \"t\", \"KeySchema\": [...], \"AttributeDefinitions\": [...]}",
                         v[i]);
      }
      if (!check_unique_keys(v[i], table.json_path)) return false;
      table.definition_json = compact_json(v[i]);
      api.tables.push_back(std::move(table));
    }
    return true;
  }

  bool read_routes(const rj::Value& v, api_spec& api) {
    const std::string path = "routes";
    if (!v.IsArray()) return fail_type(path, "an array of routes", v);
    if (v.Empty()) {
      return fail(path, "must hold at least one route (AWS cannot deploy an API without routes)");
    }
    for (rj::SizeType i = 0; i < v.Size(); ++i) {
      route_spec route;
      route.json_path = index_path(path, i);
      if (!read_route(v[i], api, route)) return false;
      api.routes.push_back(std::move(route));
    }
    return true;
  }

  bool read_route(const rj::Value& v, const api_spec& api, route_spec& route) {
    const std::string& path = route.json_path;
    if (!v.IsObject()) {
      return fail_type(path, "an object with routeKey, integration and optionally "
                             "routeResponseSelectionExpression", v);
    }
    if (!check_keys(v, path, route_keys, "in a route")) return false;

    const std::string key_path = member_path(path, "routeKey");
    if (!require_string(v, "routeKey", path,
                        "every route needs one, e.g. \"$default\" or \"sendmessage\"",
                        route.route_key)) {
      return false;
    }
    const std::string& key = route.route_key;
    if (key.empty()) return fail(key_path, "must not be empty");
    if (key[0] == '$' && key != "$connect" && key != "$disconnect" && key != "$default") {
      return fail(key_path, "custom route key " + quote(key) +
                                " must not start with '$'; only $connect, $disconnect and $default do");
    }
    for (const route_spec& earlier : api.routes) {
      if (earlier.route_key == key) {
        return fail(key_path, "duplicate route key " + quote(key) + "; " + earlier.json_path +
                                  " already has it");
      }
    }

    const std::string integration_path = member_path(path, "integration");
    if (!require_string(v, "integration", path,
                        "every route names an entry of \"integrations\"", route.integration)) {
      return false;
    }
    if (api.integrations.find(route.integration) == api.integrations.end()) {
      std::string known;
      for (const auto& [name, spec] : api.integrations) {
        if (!known.empty()) known += ", ";
        known += name;
      }
      return fail(integration_path,
                  "no integration named " + quote(route.integration) +
                      (known.empty() ? std::string("; \"integrations\" defines none")
                                     : "; the integrations are " + known));
    }

    if (const rj::Value* rrse = find(v, "routeResponseSelectionExpression")) {
      const std::string rrse_path = member_path(path, "routeResponseSelectionExpression");
      if (!rrse->IsString() || view(*rrse) != "$default") {
        return fail_type(rrse_path,
                         "\"$default\" (the only value WebSocket APIs support: it makes the route "
                         "two-way; leave the key out for a one-way route)",
                         *rrse);
      }
      route.route_response_selection_expression = "$default";
    }
    return read_route_authorization(v, api, route);
  }

  // authorizationType, authorizerId and apiKeyRequired: WebSocket APIs authorize the connection,
  // so only $connect takes them.
  bool read_route_authorization(const rj::Value& v, const api_spec& api, route_spec& route) {
    const std::string& path = route.json_path;
    const bool is_connect = route.route_key == "$connect";
    auto only_on_connect = [&](std::string_view key) {
      return fail(member_path(path, key),
                  "only the $connect route takes " + std::string(key) +
                      ": a WebSocket API authorizes the connection, not each message");
    };

    const std::string type_path = member_path(path, "authorizationType");
    if (const rj::Value* type = find(v, "authorizationType")) {
      if (!type->IsString() ||
          std::find(authorization_types.begin(), authorization_types.end(), view(*type)) ==
              authorization_types.end()) {
        return fail_type(type_path, "one of " + join(authorization_types), *type);
      }
      route.authorization_type.assign(view(*type));
      if (!is_connect && route.authorization_type != "NONE") return only_on_connect("authorizationType");
    }

    if (const rj::Value* id = find(v, "authorizerId")) {
      if (!is_connect) return only_on_connect("authorizerId");
      if (!id->IsString()) return fail_type(member_path(path, "authorizerId"), "a string", *id);
      route.authorizer_id.assign(view(*id));
      if (route.authorization_type != "CUSTOM") {
        return fail(member_path(path, "authorizerId"),
                    "applies only with \"authorizationType\": \"CUSTOM\"; set that or remove "
                    "authorizerId");
      }
    }
    if (route.authorization_type == "CUSTOM") {
      const std::string id_path = member_path(path, "authorizerId");
      if (!find(v, "authorizerId")) {
        return fail(id_path, "missing; \"authorizationType\": \"CUSTOM\" names an entry of "
                             "\"authorizers\"");
      }
      if (api.authorizers.find(route.authorizer_id) == api.authorizers.end()) {
        std::string known;
        for (const auto& [name, spec] : api.authorizers) {
          if (!known.empty()) known += ", ";
          known += name;
        }
        return fail(id_path, "no authorizer named " + quote(route.authorizer_id) +
                                 (known.empty() ? std::string("; \"authorizers\" defines none")
                                                : "; the authorizers are " + known));
      }
    }
    if (route.authorization_type == "AWS_IAM" && api.credentials.empty()) {
      return fail(type_path, "\"AWS_IAM\" needs at least one entry in \"credentials\": the keys "
                             "that may sign the handshake");
    }

    if (const rj::Value* required = find(v, "apiKeyRequired")) {
      const std::string required_path = member_path(path, "apiKeyRequired");
      if (!required->IsBool()) return fail_type(required_path, "true or false", *required);
      route.api_key_required = required->GetBool();
      if (!is_connect && route.api_key_required) return only_on_connect("apiKeyRequired");
      if (route.api_key_required && api.api_keys.empty()) {
        return fail(required_path, "true needs at least one key in \"apiKeys\"; without one "
                                   "every connection would be refused");
      }
    }
    return true;
  }

  // A path from the file, relative to the folder of the file (or, for text, the working directory).
  std::string resolve_relative(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative() && !base_dir_.empty()) p = base_dir_ / p;
    return p.lexically_normal().string();
  }

  std::string source_;
  std::filesystem::path base_dir_;
  std::optional<std::string> error_;  // the first error
};

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

result<api_spec> load_text(std::string_view json, std::string_view source_name) {
  return loader(source_name, {}).run(json);
}

result<api_spec> load_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  auto os_reason = [](int err) { return std::error_code(err, std::generic_category()).message(); };

  errno = 0;
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(name.c_str(), "rb"));
  if (!f) return fail(name + ": cannot open the file: " + os_reason(errno));

  std::string text;
  std::array<char, 8192> buf{};
  for (;;) {
    errno = 0;
    std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    text.append(buf.data(), n);
    if (n < buf.size()) {
      if (std::ferror(f.get())) {
        return fail(name + ": cannot read the file: " + os_reason(errno ? errno : EIO));
      }
      break;
    }
  }
  return loader(name, file.parent_path()).run(text);
}

result<api_spec> load_default() { return load_text(default_api_json(), built_in_source); }

std::string derive_api_id(std::string_view name) {
  // FNV-1a (64 bit): stable across platforms and standard libraries, unlike std::hash.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  static constexpr std::string_view digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id(10, '0');
  for (auto it = id.rbegin(); it != id.rend(); ++it) {
    *it = digits[hash % digits.size()];
    hash /= digits.size();
  }
  return id;
}

}  // namespace apigw::config
