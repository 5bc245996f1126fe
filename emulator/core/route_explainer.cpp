#include "emulator/core/route_explainer.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/ascii.hpp"
#include "common/edit_distance.hpp"

namespace apigw::emulator {

namespace {

const char* outcome_name(route_explanation::outcome o) {
  switch (o) {
    case route_explanation::outcome::exact_match: return "exact match";
    case route_explanation::outcome::default_route: return "fell back to $default";
    case route_explanation::outcome::forbidden: return "no route";
  }
  return "";
}

std::string quoted(std::string_view s) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return b.GetString();
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

// The route whose key KEY probably meant, when no route has KEY (explain_route's rule); null when
// none is close.
const gateway::route* nearest_route(const gateway& gw, std::string_view key, bool& case_only) {
  const std::string typed = lowered(key);
  const gateway::route* best = nullptr;
  std::size_t best_ignoring_case = 0;
  std::size_t best_with_case = 0;
  for (const auto& r : gw.routes()) {
    if (r->key == "$connect" || r->key == "$disconnect" || r->key == "$default") continue;
    const std::size_t ignoring_case = edit_distance(typed, lowered(r->key));
    if (ignoring_case > 1 || (ignoring_case == 1 && r->key.size() < 3)) continue;
    const std::size_t with_case = edit_distance(key, r->key);
    if (best == nullptr || ignoring_case < best_ignoring_case ||
        (ignoring_case == best_ignoring_case && with_case < best_with_case)) {
      best = r.get();
      best_ignoring_case = ignoring_case;
      best_with_case = with_case;
    }
  }
  case_only = best != nullptr && best_ignoring_case == 0;
  return best;
}

// What the client receives when no route takes the message.
const char* const kForbiddenFrame = R"({"message": "Forbidden", "connectionId":"…", "requestId":"…"})";

}  // namespace

route_explanation explain_route(const gateway& gw, std::string_view message) {
  route_explanation x;
  x.expression = gw.expression().text();
  x.message = std::string(message);
  const gateway::selection chosen = gw.resolve(message);
  x.message_is_json = chosen.json;
  x.selection = chosen.key;

  rapidjson::Document body;
  if (chosen.json) body.Parse<rapidjson::kParseIterativeFlag>(message.data(), message.size());
  for (const auto& p : gw.expression().parts()) {
    route_explanation::part part;
    part.source = p.source;
    part.is_path = p.is_path;
    if (!p.is_path) {
      part.found = true;
      part.value = p.literal;
    } else if (chosen.json) {
      const auto found = routes::selection_expression::find(p, &body);
      part.found = found.found;
      part.value = found.value;
    }
    x.parts.push_back(std::move(part));
  }

  const bool exact = chosen.chosen != nullptr && chosen.json && chosen.chosen->key == chosen.key;
  if (chosen.json && !exact) {
    if (const auto* meant = nearest_route(gw, chosen.key, x.did_you_mean_case_only)) x.did_you_mean_key = meant->key;
  }
  if (chosen.chosen == nullptr) {
    x.result = route_explanation::outcome::forbidden;
    return x;
  }
  x.result = exact ? route_explanation::outcome::exact_match : route_explanation::outcome::default_route;
  x.route_key = chosen.chosen->key;
  x.two_way = chosen.chosen->two_way;
  x.integration = chosen.chosen->integration;
  if (auto it = gw.api().integrations.find(x.integration); it != gw.api().integrations.end()) {
    x.handler = it->second.handler;
    if (it->second.function) {
      x.function_runtime = it->second.function->runtime;
      x.function_code = it->second.function->code_dir;
    }
  }
  return x;
}

std::string route_explanation::to_text() const {
  // After why no route took the message: the route it probably meant.
  const std::string hint =
      did_you_mean_key.empty()
          ? std::string()
          : std::string("; ") + (did_you_mean_case_only ? "route keys are case-sensitive; " : "") + "did you mean " +
                quoted(did_you_mean_key) + "?";
  std::string out;
  out += "expression  " + expression + "\n";
  out += "message     " + message + (message_is_json ? "" : "  (not JSON)") + "\n";
  for (const auto& p : parts) {
    if (!p.is_path) {
      out += "  literal   " + quoted(p.value) + "\n";
    } else if (!message_is_json) {
      out += "  " + p.source + "  not evaluated: the message is not JSON\n";
    } else if (!p.found) {
      out += "  " + p.source + "  not found: \"\"\n";
    } else {
      out += "  " + p.source + "  found " + quoted(p.value) + "\n";
    }
  }
  if (message_is_json) out += "selection   " + quoted(selection) + "\n";
  switch (result) {
    case outcome::exact_match:
      out += "route       " + route_key + "  (exact match)\n";
      break;
    case outcome::default_route:
      out += "route       $default  (" +
             (message_is_json ? "no route has the key " + quoted(selection) + hint
                              : std::string("a message that is not JSON always goes to $default")) +
             ")\n";
      break;
    case outcome::forbidden:
      out += "route       none: " +
             (message_is_json ? "no route has the key " + quoted(selection) + " and there is no $default route" + hint
                              : std::string("the message is not JSON and there is no $default route")) +
             "\n";
      out += "client gets " + std::string(kForbiddenFrame) + "\n";
      return out;
  }
  out += "response    " + std::string(two_way ? "two-way: the handler's body is sent back"
                                               : "one-way: the handler's result is dropped") + "\n";
  if (!function_runtime.empty()) {
    out += "integration " + integration + " (Lambda function, " + function_runtime + ", handler " + handler + " in " +
           function_code + ")\n";
  } else {
    out += "integration " + integration + " (handler " + handler + ")\n";
  }
  return out;
}

std::string route_explanation::to_json() const {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  const auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("expression");
  str(expression);
  w.Key("message");
  str(message);
  w.Key("messageIsJson");
  w.Bool(message_is_json);
  w.Key("parts");
  w.StartArray();
  for (const auto& p : parts) {
    w.StartObject();
    w.Key("part");
    str(p.source);
    w.Key("kind");
    w.String(p.is_path ? "path" : "literal");
    if (p.is_path) {
      w.Key("found");
      w.Bool(p.found);
    }
    w.Key("value");
    str(p.value);
    w.EndObject();
  }
  w.EndArray();
  w.Key("selection");
  if (message_is_json) str(selection); else w.Null();
  w.Key("outcome");
  w.String(outcome_name(result));
  w.Key("routeKey");
  if (result == outcome::forbidden) w.Null(); else str(route_key);
  if (!did_you_mean_key.empty()) {
    w.Key("didYouMean");
    w.StartObject();
    w.Key("routeKey");
    str(did_you_mean_key);
    w.Key("caseOnly");
    w.Bool(did_you_mean_case_only);
    w.EndObject();
  }
  if (result != outcome::forbidden) {
    w.Key("twoWay");
    w.Bool(two_way);
    w.Key("integration");
    str(integration);
    w.Key("handler");
    str(handler);
    if (!function_runtime.empty()) {
      w.Key("function");
      w.StartObject();
      w.Key("runtime");
      str(function_runtime);
      w.Key("codeUri");
      str(function_code);
      w.EndObject();
    }
  } else {
    w.Key("clientGets");
    w.String(kForbiddenFrame);
  }
  w.EndObject();
  return b.GetString();
}

}  // namespace apigw::emulator
