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
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apigw::config {
namespace {

namespace rj = rapidjson;

// Validation stops at the first error: one precise message is easier to act on than a cascade
// of errors that follow from it. Checks run in a fixed order (top-level keys, name, apiId,
// routeSelectionExpression, stage, server, limits, integrations, routes).

constexpr std::array<std::string_view, 10> top_level_keys = {
    "name",   "apiId",  "region", "routeSelectionExpression", "stage", "server",
    "limits", "routes", "integrations", "tables"};
constexpr std::array<std::string_view, 3> stage_keys = {"name", "variables", "accessLogFormat"};
constexpr std::array<std::string_view, 2> server_keys = {"host", "port"};
constexpr std::array<std::string_view, 5> limits_keys = {
    "maxMessageBytes", "maxFrameBytes", "idleTimeoutSeconds", "maxConnectionSeconds",
    "integrationTimeoutMillis"};
constexpr std::array<std::string_view, 3> route_keys = {"routeKey", "integration",
                                                        "routeResponseSelectionExpression"};
constexpr std::array<std::string_view, 5> integration_keys = {"type", "handler", "options", "policy",
                                                             "library"};

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

// One load: holds the source name and the first error.
class loader {
 public:
  loader(std::string_view source, std::filesystem::path base_dir)
      : source_(source), base_dir_(std::move(base_dir)) {}

  load_result run(std::string_view text) {
    rj::Document doc;
    doc.Parse<rj::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) return syntax_error(text, doc.GetErrorOffset(), doc.GetParseError());

    api_spec api;
    api.source = source_;
    if (!read_api(doc, api)) return std::move(*error_);
    return api;
  }

 private:
  load_error syntax_error(std::string_view text, std::size_t offset, rj::ParseErrorCode code) const {
    offset = std::min(offset, text.size());
    std::string_view before = text.substr(0, offset);
    std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    std::size_t line_start = before.rfind('\n');
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    std::size_t column = 1 + char_count(before.substr(line_start));
    return load_error{source_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                      rj::GetParseError_En(code)};
  }

  // Records the error and returns false, so callers can write "return fail(...)".
  bool fail(const std::string& path, const std::string& message) {
    if (!error_) {
      error_ = load_error{path.empty() ? source_ + ": " + message
                                       : source_ + ": " + path + ": " + message};
    }
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
    if (!check_keys(v, path, integration_keys, "in an integration")) return false;

    if (!read_string(v, "type", path, spec.type)) return false;
    if (spec.type != "builtin" && spec.type != "plugin") {
      return fail(member_path(path, "type"),
                  "unknown integration type " + quote(spec.type) +
                      "; the types are \"builtin\" (a handler of the emulator) and \"plugin\" "
                      "(a handler from a shared library named by \"library\")");
    }
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
  std::optional<load_error> error_;
};

struct file_closer {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

load_result load_text(std::string_view json, std::string_view source_name) {
  return loader(source_name, {}).run(json);
}

load_result load_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  auto os_reason = [](int err) { return std::error_code(err, std::generic_category()).message(); };

  errno = 0;
  std::unique_ptr<std::FILE, file_closer> f(std::fopen(name.c_str(), "rb"));
  if (!f) return load_error{name + ": cannot open the file: " + os_reason(errno)};

  std::string text;
  std::array<char, 8192> buf{};
  for (;;) {
    errno = 0;
    std::size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    text.append(buf.data(), n);
    if (n < buf.size()) {
      if (std::ferror(f.get())) {
        return load_error{name + ": cannot read the file: " + os_reason(errno ? errno : EIO)};
      }
      break;
    }
  }
  return loader(name, file.parent_path()).run(text);
}

load_result load_default() { return load_text(default_api_json(), built_in_source); }

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
