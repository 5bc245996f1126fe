#include "emulator/auth/permissions.hpp"

#include "emulator/auth/arn.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace apigw::emulator {

namespace {

constexpr std::string_view kManageConnections = "execute-api:ManageConnections";
// The methods of @connections, in the order of guarded_connections::for_every_.
constexpr std::string_view kMethods[] = {"POST", "GET", "DELETE"};

}  // namespace

caller_identity caller_identity::for_integration(const config::api_spec& api, std::string_view integration) {
  caller_identity who;
  who.function = std::string(integration);
  who.role = who.function + "Role";
  who.region = api.region;
  return who;
}

std::string caller_identity::assumed_role_arn() const {
  return emulator::assumed_role_arn(role, function);
}

guarded_connections::guarded_connections(apigw::connections_api& inner,
                                         std::shared_ptr<const emulator::iam_policy> policy,
                                         caller_identity who, const config::api_spec& api)
    : inner_(inner), policy_(std::move(policy)), who_(std::move(who)),
      arn_prefix_(execute_api_arn_prefix(api)) {
  if (!policy_) return;
  std::string prefix;
  for (std::size_t i = 0; i < std::size(kMethods); ++i) {
    write_connections_arn(prefix, arn_prefix_, kMethods[i], "");
    for_every_[i] = policy_->decision_for_every(kManageConnections, prefix);
  }
}

std::optional<apigw::management_result> guarded_connections::denied(std::string_view method,
                                                                     std::string_view id) const {
  if (!policy_) return std::nullopt;
  // (An empty id is the prefix alone, which the decision for every connection does not cover.)
  std::optional<emulator::iam_policy::decision> for_every;
  const auto* known = std::find(std::begin(kMethods), std::end(kMethods), method);
  if (known != std::end(kMethods) && !id.empty()) for_every = for_every_[known - std::begin(kMethods)];
  if (for_every == emulator::iam_policy::decision::allow) return std::nullopt;
  // A broadcast asks once per connection: the resource is written into the thread's own buffer,
  // whose memory the next call reuses.
  thread_local std::string resource;
  write_connections_arn(resource, arn_prefix_, method, id);
  if (!for_every && policy_->allows(kManageConnections, resource)) return std::nullopt;
  return apigw::management_result{
      403, "AccessDeniedException",
      "User: " + who_.assumed_role_arn() +
          " is not authorized to perform: execute-api:ManageConnections on resource: " + resource};
}

apigw::management_result guarded_connections::post_to_connection(std::string_view id, std::string_view data) {
  if (auto d = denied("POST", id)) return std::move(*d);
  return inner_.post_to_connection(id, data);
}

apigw::management_result guarded_connections::get_connection(std::string_view id,
                                                               apigw::connection_description* out) {
  if (auto d = denied("GET", id)) return std::move(*d);
  return inner_.get_connection(id, out);
}

apigw::management_result guarded_connections::delete_connection(std::string_view id) {
  if (auto d = denied("DELETE", id)) return std::move(*d);
  return inner_.delete_connection(id);
}

guarded_tables::guarded_tables(store::session_store& store, std::shared_ptr<const emulator::iam_policy> policy,
                               caller_identity who)
    : store_(store), policy_(std::move(policy)), who_(std::move(who)) {}

std::optional<apigw::dynamo_result> guarded_tables::denied(std::string_view operation,
                                                          const rapidjson::Value& request) const {
  if (!policy_) return std::nullopt;
  if (request.IsObject()) {
    // A batch is judged on each table it names, as AWS judges it.
    auto batch = request.FindMember("RequestItems");
    if (batch != request.MemberEnd() && batch->value.IsObject()) {
      for (auto t = batch->value.MemberBegin(); t != batch->value.MemberEnd(); ++t) {
        if (auto refusal = denied_on(operation, t->name.GetString())) return refusal;
      }
      return std::nullopt;
    }
    // A transaction is judged on each of its actions, as the item operation it is: a Put needs
    // dynamodb:PutItem on its table, a ConditionCheck dynamodb:ConditionCheckItem, a Get
    // dynamodb:GetItem (there is no dynamodb:TransactWriteItems action).
    auto transaction = request.FindMember("TransactItems");
    if (transaction != request.MemberEnd() && transaction->value.IsArray()) {
      for (const auto& entry : transaction->value.GetArray()) {
        if (!entry.IsObject() || entry.MemberCount() != 1) continue;  // the store refuses it
        const auto& action = *entry.MemberBegin();
        const std::string_view kind(action.name.GetString(), action.name.GetStringLength());
        const std::string_view item_operation = kind == "Put"              ? "PutItem"
                                                : kind == "Update"         ? "UpdateItem"
                                                : kind == "Delete"         ? "DeleteItem"
                                                : kind == "ConditionCheck" ? "ConditionCheckItem"
                                                                           : "GetItem";
        auto table = action.value.IsObject() ? action.value.FindMember("TableName") : action.value.MemberEnd();
        const bool named = action.value.IsObject() && table != action.value.MemberEnd() && table->value.IsString();
        if (auto refusal = denied_on(item_operation, named ? table->value.GetString() : "*")) return refusal;
      }
      return std::nullopt;
    }
    // A Query or Scan of an index is judged on the index's ARN (TABLE_ARN/index/NAME).
    auto name = request.FindMember("TableName");
    if (name != request.MemberEnd() && name->value.IsString()) {
      std::string resource = name->value.GetString();
      auto index = request.FindMember("IndexName");
      if (index != request.MemberEnd() && index->value.IsString()) resource += "/index/" + std::string(index->value.GetString());
      return denied_on(operation, resource);
    }
  }
  return denied_on(operation, "*");
}

std::optional<apigw::dynamo_result> guarded_tables::denied_on(std::string_view operation, const std::string& table) const {
  const std::string action = "dynamodb:" + std::string(operation);
  const std::string resource = dynamodb_table_arn(who_.region, table);
  const auto decision = policy_->evaluate(action, resource);
  if (decision == emulator::iam_policy::decision::allow) return std::nullopt;
  return apigw::dynamo_result(
      "AccessDeniedException",
      "User: " + who_.assumed_role_arn() + " is not authorized to perform: " + action + " on resource: " + resource +
          (decision == emulator::iam_policy::decision::explicit_deny
               ? " with an explicit deny in an identity-based policy"
               : " because no identity-based policy allows the " + action + " action"));
}

apigw::dynamo_result guarded_tables::call(std::string_view operation, const rapidjson::Value& request) {
  if (auto refusal = denied(operation, request)) return std::move(*refusal);
  return store_.call(operation, request);
}

}  // namespace apigw::emulator
