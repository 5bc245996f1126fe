// What a handler's @connections calls are allowed by its IAM policy (emulator/auth/permissions):
// a policy that names single connections is judged on each call, one that takes every connection
// of a method once for all of them.
#include "emulator/auth/permissions.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

// Answers 200 to everything and keeps the ids it was asked about.
class accepting_connections final : public apigw::connections_api {
 public:
  apigw::management_result post_to_connection(std::string_view id, std::string_view) override {
    posted.emplace_back(id);
    return {200, "", ""};
  }
  apigw::management_result get_connection(std::string_view id, apigw::connection_description*) override {
    got.emplace_back(id);
    return {200, "", ""};
  }
  apigw::management_result delete_connection(std::string_view id) override {
    deleted.emplace_back(id);
    return {204, "", ""};
  }
  std::vector<std::string> posted, got, deleted;
};

std::shared_ptr<const iam_policy> policy(const std::string& statements) {
  rapidjson::Document d;
  d.Parse(("{\"Version\": \"2012-10-17\", \"Statement\": [" + statements + "]}").c_str());
  auto p = iam_policy::parse(d);
  if (!p) ADD_FAILURE() << p.error();
  return std::make_shared<const iam_policy>(p ? *std::move(p) : iam_policy{});
}

std::string statement(const std::string& effect, const std::string& resource) {
  return R"({"Effect": ")" + effect + R"(", "Action": "execute-api:ManageConnections", "Resource": ")" + resource +
         R"("})";
}

constexpr const char* kA = "AAAAAAAAAAAAAAA=";
constexpr const char* kB = "BBBBBBBBBBBBBBB=";
const std::string kStage = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/";

// The statuses of a POST to A and to B, and of a GET and a DELETE of B, under STATEMENTS.
std::vector<int> statuses(const std::string& statements) {
  config::api_spec api;
  api.api_id = "abc";
  api.stage.name = "Prod";
  accepting_connections inner;
  guarded_connections guarded(inner, policy(statements), caller_identity::for_integration(api, "Fn"), api);
  std::vector<int> out;
  apigw::connection_description description;
  for (int round = 0; round < 2; ++round) {  // the same answers the second time
    out.push_back(guarded.post_to_connection(kA, "hi").status);
    out.push_back(guarded.post_to_connection(kB, "hi").status);
    out.push_back(guarded.get_connection(kB, &description).status);
    out.push_back(guarded.delete_connection(kB).status);
  }
  return out;
}

TEST(GuardedConnectionsTest, EachConnectionIsJudgedWhenThePolicyNamesSome) {
  // Every connection of every method.
  EXPECT_EQ(statuses(statement("Allow", kStage + "*")), (std::vector<int>{200, 200, 200, 204, 200, 200, 200, 204}));
  // POSTs only.
  EXPECT_EQ(statuses(statement("Allow", kStage + "POST/@connections/*")),
            (std::vector<int>{200, 200, 403, 403, 200, 200, 403, 403}));
  // One connection, every method.
  EXPECT_EQ(statuses(statement("Allow", kStage + "*/@connections/" + kB)),
            (std::vector<int>{403, 200, 200, 204, 403, 200, 200, 204}));
  // POSTs to one connection.
  EXPECT_EQ(statuses(statement("Allow", kStage + "POST/@connections/" + kA)),
            (std::vector<int>{200, 403, 403, 403, 200, 403, 403, 403}));
  // Everything but one connection.
  EXPECT_EQ(statuses(statement("Allow", "*") + "," + statement("Deny", kStage + "POST/@connections/" + kA)),
            (std::vector<int>{403, 200, 200, 204, 403, 200, 200, 204}));
  // Nothing.
  EXPECT_EQ(statuses(statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:other/*")),
            (std::vector<int>{403, 403, 403, 403, 403, 403, 403, 403}));
}

TEST(GuardedConnectionsTest, ADenialNamesTheConnectionsResource) {
  config::api_spec api;
  api.api_id = "abc";
  api.stage.name = "Prod";
  accepting_connections inner;
  guarded_connections guarded(inner, policy(statement("Allow", kStage + "GET/@connections/*")),
                              caller_identity::for_integration(api, "Fn"), api);
  const auto r = guarded.post_to_connection(kA, "hi");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_type, "AccessDeniedException");
  EXPECT_EQ(r.message, "User: arn:aws:sts::123456789012:assumed-role/FnRole/Fn is not authorized to perform: "
                       "execute-api:ManageConnections on resource: " + kStage + "POST/@connections/" + kA);
  EXPECT_TRUE(inner.posted.empty());
}

}  // namespace
}  // namespace apigw::emulator
