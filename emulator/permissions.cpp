#include "emulator/permissions.hpp"

namespace apigw::emulator {

caller_identity caller_identity::for_integration(const config::api_spec& api, std::string_view integration) {
  caller_identity who;
  who.function = std::string(integration);
  who.role = who.function + "Role";
  who.region = api.region;
  return who;
}

std::string caller_identity::assumed_role_arn() const {
  return "arn:aws:sts::" + std::string(kAccountId) + ":assumed-role/" + role + "/" + function;
}

guarded_connections::guarded_connections(routes::connections_api& inner,
                                         std::shared_ptr<const routes::iam_policy> policy,
                                         caller_identity who, const config::api_spec& api)
    : inner_(inner), policy_(std::move(policy)), who_(std::move(who)),
      arn_prefix_("arn:aws:execute-api:" + api.region + ":" + std::string(kAccountId) + ":" + api.api_id +
                  "/" + api.stage.name + "/") {}

std::optional<routes::management_result> guarded_connections::denied(std::string_view method,
                                                                     std::string_view id) const {
  if (!policy_) return std::nullopt;
  const std::string resource = arn_prefix_ + std::string(method) + "/@connections/" + std::string(id);
  if (policy_->allows("execute-api:ManageConnections", resource)) return std::nullopt;
  return routes::management_result{
      403, "AccessDeniedException",
      "User: " + who_.assumed_role_arn() +
          " is not authorized to perform: execute-api:ManageConnections on resource: " + resource};
}

routes::management_result guarded_connections::post_to_connection(std::string_view id, std::string_view data) {
  if (auto d = denied("POST", id)) return std::move(*d);
  return inner_.post_to_connection(id, data);
}

routes::management_result guarded_connections::get_connection(std::string_view id,
                                                               routes::connection_description* out) {
  if (auto d = denied("GET", id)) return std::move(*d);
  return inner_.get_connection(id, out);
}

routes::management_result guarded_connections::delete_connection(std::string_view id) {
  if (auto d = denied("DELETE", id)) return std::move(*d);
  return inner_.delete_connection(id);
}

guarded_tables::guarded_tables(store::session_store& store, std::shared_ptr<const routes::iam_policy> policy,
                               caller_identity who)
    : store_(store), policy_(std::move(policy)), who_(std::move(who)) {}

routes::dynamo_result guarded_tables::call(std::string_view operation, const rapidjson::Value& request) {
  if (policy_) {
    std::string table = "*";
    if (request.IsObject()) {
      auto name = request.FindMember("TableName");
      if (name != request.MemberEnd() && name->value.IsString()) table = name->value.GetString();
    }
    const std::string action = "dynamodb:" + std::string(operation);
    const std::string resource = "arn:aws:dynamodb:" + who_.region + ":" + std::string(kAccountId) + ":table/" + table;
    const auto decision = policy_->evaluate(action, resource);
    if (decision != routes::iam_policy::decision::allow) {
      return routes::dynamo_result(
          "AccessDeniedException",
          "User: " + who_.assumed_role_arn() + " is not authorized to perform: " + action + " on resource: " +
              resource +
              (decision == routes::iam_policy::decision::explicit_deny
                   ? " with an explicit deny in an identity-based policy"
                   : " because no identity-based policy allows the " + action + " action"));
    }
  }
  return store_.call(operation, request);
}

}  // namespace apigw::emulator
