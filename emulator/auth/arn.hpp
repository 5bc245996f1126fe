// ARNs the emulator builds and reads, written once: the execute-api resources that IAM policies
// name (a stage's $connect, its @connections), DynamoDB tables, the role a function assumes, and
// the parts of a principal's ARN that requestContext.identity reports.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "config/api_config.hpp"

namespace apigw::emulator {

// The account every emulated resource belongs to.
inline constexpr std::string_view kAccountId = "123456789012";

// arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/ — what a route key or "POST/@connections/ID"
// follows.
std::string execute_api_arn_prefix(const config::api_spec& api);
// arn:aws:execute-api:REGION:ACCOUNT:APIID/STAGE/$connect: what authorization asks for.
std::string connect_arn(const config::api_spec& api);
// The resource of a management call: PREFIX + "POST/@connections/" + ID.
std::string connections_arn(std::string_view prefix, std::string_view method, std::string_view id);
// The same, written over OUT: a caller that keeps OUT from call to call reuses its memory.
void write_connections_arn(std::string& out, std::string_view prefix, std::string_view method, std::string_view id);
// arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE
std::string dynamodb_table_arn(std::string_view region, std::string_view table);
// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
std::string assumed_role_arn(std::string_view role, std::string_view session);

// The account of a principal's ARN (arn:PARTITION:SERVICE::ACCOUNT:RESOURCE); empty when none.
std::string account_of(std::string_view arn);
// The caller IAM reports for a principal ARN: the user's or role's name, or ROLE:SESSION for an
// assumed role (AWS reports the principal's unique id there, which the emulator does not have).
std::string caller_of(std::string_view arn);

}  // namespace apigw::emulator
