#include "emulator/core/access_log.hpp"

#include <algorithm>
#include <cstdio>

#include "emulator/core/identifiers.hpp"

namespace apigw::emulator {

namespace {

constexpr std::string_view kPrefix = "$context.";

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

// Gateway responses as access logs name them.
std::string response_type(const std::optional<std::string>& error) {
  if (!error) return "-";
  if (*error == "Forbidden") return "DEFAULT_4XX";
  if (*error == "Endpoint request timed out") return "INTEGRATION_TIMEOUT";
  return "DEFAULT_5XX";
}

}  // namespace

const std::vector<std::string_view>& access_log_format::variables() {
  static const std::vector<std::string_view> names = {
      "apiId", "authorizer.principalId", "connectedAt", "connectionId", "domainName", "error.message",
      "error.responseType", "eventType", "extendedRequestId", "identity.sourceIp", "integrationLatency",
      "messageId", "requestId", "requestTime", "requestTimeEpoch", "routeKey", "stage", "status"};
  return names;
}

result<access_log_format> access_log_format::parse(std::string_view format) {
  access_log_format f;
  std::size_t i = 0;
  while (i < format.size()) {
    const auto at = format.find(kPrefix, i);
    if (at == std::string_view::npos) {
      f.parts_.push_back({false, std::string(format.substr(i))});
      break;
    }
    if (at > i) f.parts_.push_back({false, std::string(format.substr(i, at - i))});
    std::size_t end = at + kPrefix.size();
    while (end < format.size() && name_char(format[end])) ++end;
    std::string_view name = format.substr(at + kPrefix.size(), end - at - kPrefix.size());
    while (!name.empty() && name.back() == '.') name.remove_suffix(1);  // "$context.status." ends a sentence
    end = at + kPrefix.size() + name.size();
    const auto& known = variables();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (auto v : known) list += (list.empty() ? "" : ", ") + std::string(v);
      return fail("$context." + std::string(name) + " at position " + std::to_string(at) +
                  " is not a variable of WebSocket access logs; they are " + list);
    }
    f.parts_.push_back({true, std::string(name)});
    i = end;
  }
  return f;
}

std::string access_log_format::render(const trace_record& r, const api_context& api) const {
  std::string out;
  const auto put = [&out](const auto& v) {
    if (v && !v->empty()) {
      out += *v;
    } else {
      out += '-';
    }
  };
  for (const auto& p : parts_) {
    if (!p.is_variable) {
      out += p.text;
      continue;
    }
    const std::string_view n = p.text;
    if (n == "requestId" || n == "extendedRequestId") {
      out += r.request_id;
    } else if (n == "connectionId") {
      out += r.connection->id;
    } else if (n == "routeKey") {
      put(r.route_key);
    } else if (n == "eventType") {
      out += r.event_type;
    } else if (n == "messageId") {
      out += r.message_id.empty() ? "-" : r.message_id;
    } else if (n == "status") {
      out += r.status ? std::to_string(*r.status) : "-";
    } else if (n == "error.message") {
      put(r.error);
    } else if (n == "error.responseType") {
      out += response_type(r.error);
    } else if (n == "integrationLatency") {
      out += r.integration ? std::to_string(static_cast<long long>(r.latency_ms + 0.5)) : "-";
    } else if (n == "requestTime") {
      out += request_time(r.time);
    } else if (n == "requestTimeEpoch") {
      out += std::to_string(epoch_millis(r.time));
    } else if (n == "connectedAt") {
      out += std::to_string(epoch_millis(r.connection->connected_at));
    } else if (n == "identity.sourceIp") {
      out += r.connection->source_ip;
    } else if (n == "stage") {
      out += api.stage;
    } else if (n == "apiId") {
      out += api.api_id;
    } else if (n == "domainName") {
      out += r.connection->domain_name;
    } else if (n == "authorizer.principalId") {
      out += r.connection->authorizer() ? r.connection->authorizer()->principal_id : std::string("-");
    }
  }
  return out;
}

}  // namespace apigw::emulator
