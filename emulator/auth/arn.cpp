#include "emulator/auth/arn.hpp"

namespace apigw::emulator {

std::string execute_api_arn_prefix(const config::api_spec& api) {
  return "arn:aws:execute-api:" + api.region + ":" + std::string(kAccountId) + ":" + api.api_id + "/" +
         api.stage.name + "/";
}

std::string connect_arn(const config::api_spec& api) { return execute_api_arn_prefix(api) + "$connect"; }

std::string connections_arn(std::string_view prefix, std::string_view method, std::string_view id) {
  std::string arn;
  write_connections_arn(arn, prefix, method, id);
  return arn;
}

void write_connections_arn(std::string& out, std::string_view prefix, std::string_view method, std::string_view id) {
  constexpr std::string_view kConnections = "/@connections/";
  out.clear();
  out.reserve(prefix.size() + method.size() + kConnections.size() + id.size());  // at most one allocation
  out += prefix;
  out += method;
  out += kConnections;
  out += id;
}

std::string dynamodb_table_arn(std::string_view region, std::string_view table) {
  return "arn:aws:dynamodb:" + std::string(region) + ":" + std::string(kAccountId) + ":table/" + std::string(table);
}

std::string assumed_role_arn(std::string_view role, std::string_view session) {
  return "arn:aws:sts::" + std::string(kAccountId) + ":assumed-role/" + std::string(role) + "/" +
         std::string(session);
}

std::string account_of(std::string_view arn) {
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    start = arn.find(':', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const auto end = arn.find(':', start);
  return std::string(arn.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

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

}  // namespace apigw::emulator
