// An integration's view of the management API and the tables, checked against its IAM policy the
// way AWS checks a Lambda's execution role: denied calls fail with AccessDeniedException and
// AWS's wording, naming the role, the action and the resource ARN.
// Thread-safety: immutable after construction; safe from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/api_config.hpp"
#include "emulator/auth/arn.hpp"
#include "apigw/connections_api.hpp"
#include "emulator/auth/iam_policy.hpp"
#include "apigw/tables_api.hpp"
#include "store/session_store.hpp"

namespace apigw::emulator {

// The account every ARN of the emulator is in.

// Who calls: the function (the integration's name) and its role, in ARNs.
struct caller_identity {
  std::string function;
  std::string role;
  std::string region;

  static caller_identity for_integration(const config::api_spec& api, std::string_view integration);
  // arn:aws:sts::123456789012:assumed-role/ROLE/FUNCTION
  std::string assumed_role_arn() const;
};

class guarded_connections final : public apigw::connections_api {
 public:
  // POLICY may be null: the integration may do everything.
  guarded_connections(apigw::connections_api& inner, std::shared_ptr<const emulator::iam_policy> policy,
                      caller_identity who, const config::api_spec& api);

  apigw::management_result post_to_connection(std::string_view id, std::string_view data) override;
  apigw::management_result get_connection(std::string_view id, apigw::connection_description* out) override;
  apigw::management_result delete_connection(std::string_view id) override;

 private:
  // Empty when allowed; else the AccessDeniedException to answer.
  std::optional<apigw::management_result> denied(std::string_view method, std::string_view id) const;

  apigw::connections_api& inner_;
  std::shared_ptr<const emulator::iam_policy> policy_;
  caller_identity who_;
  std::string arn_prefix_;  // arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/
  // The policy's decision for every connection of POST, GET and DELETE, when it names none alone
  // (found once: a broadcast asks for each connection); nullopt: each call is judged on its own.
  std::optional<emulator::iam_policy::decision> for_every_[3];
};

class guarded_tables final : public apigw::tables_api {
 public:
  // POLICY may be null: the integration may do everything.
  guarded_tables(store::session_store& store, std::shared_ptr<const emulator::iam_policy> policy,
                 caller_identity who);

  apigw::dynamo_result call(std::string_view operation, const rapidjson::Value& request) override;

  // AWS's AccessDeniedException when the policy does not allow dynamodb:OPERATION on the table
  // REQUEST names (each table of a batch's RequestItems; any table when it names none); nullopt
  // when it does.
  std::optional<apigw::dynamo_result> denied(std::string_view operation, const rapidjson::Value& request) const;

 private:
  std::optional<apigw::dynamo_result> denied_on(std::string_view operation, const std::string& table) const;

  store::session_store& store_;
  std::shared_ptr<const emulator::iam_policy> policy_;
  caller_identity who_;
};

}  // namespace apigw::emulator
