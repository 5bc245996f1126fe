#include "emulator/auth/iam_policy.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

iam_policy parse(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  auto p = iam_policy::parse(d);
  if (!p) {
    ADD_FAILURE() << p.error();
    return iam_policy{};
  }
  return *std::move(p);
}

std::string parse_error(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  auto p = iam_policy::parse(d);
  return p ? "(parsed)" : p.error();
}

TEST(IamPolicyTest, Wildcards) {
  struct row {
    const char* pattern;
    const char* text;
    bool ignore_case;
    bool match;
  } rows[] = {
      {"*", "anything", false, true},
      {"dynamodb:*", "dynamodb:PutItem", true, true},
      {"dynamodb:*Item", "dynamodb:PutItem", true, true},
      {"dynamodb:*Item", "dynamodb:Scan", true, false},
      {"DynamoDB:putitem", "dynamodb:PutItem", true, true},
      {"arn:aws:dynamodb:*:*:table/Chat", "arn:aws:dynamodb:us-east-1:123456789012:table/chat", false, false},
      {"arn:aws:dynamodb:*:*:table/Ch?t", "arn:aws:dynamodb:us-east-1:123456789012:table/Chat", false, true},
      {"a*b*c", "aXXbYYc", false, true},
      {"a*b*c", "aXXbYY", false, false},
      {"a?", "a", false, false},
      {"", "", false, true},
      // Patterns without wildcards, and the literal run before the first one.
      {"execute-api:ManageConnections", "execute-api:ManageConnections", true, true},
      {"execute-api:ManageConnections", "EXECUTE-API:manageconnections", true, true},
      {"execute-api:ManageConnections", "execute-api:ManageConnection", true, false},
      {"execute-api:ManageConnection", "execute-api:ManageConnections", true, false},
      {"arn:aws:execute-api:us-east-1:123456789012:abc/*", "arn:aws:execute-api:us-east-1:123456789012:abc/dev/POST/@connections/x", false, true},
      {"arn:aws:execute-api:us-east-1:123456789012:abc/*", "arn:aws:execute-api:us-east-1:123456789012:abc", false, false},
      {"arn:aws:execute-api:us-east-1:123456789012:abc/*", "arn:aws:execute-api:us-east-1:123456789012:ABC/dev", false, false},
      {"abc*", "abc", false, true},
      {"abc*d", "abcxd", false, true},
      {"abc*d", "abxd", false, false},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(iam_policy::matches(r.pattern, r.text, r.ignore_case), r.match) << r.pattern << " ~ " << r.text;
  }
}

TEST(IamPolicyTest, ExplicitDenyWinsAndDefaultIsDeny) {
  const auto p = parse(R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["dynamodb:*", "execute-api:ManageConnections"], "Resource": "*"},
      {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "arn:aws:dynamodb:*:*:table/keep"}]})");
  EXPECT_EQ(p.evaluate("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:1:table/keep"), iam_policy::decision::allow);
  EXPECT_EQ(p.evaluate("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:1:table/keep"),
            iam_policy::decision::explicit_deny);
  EXPECT_EQ(p.evaluate("dynamodb:DeleteItem", "arn:aws:dynamodb:us-east-1:1:table/other"), iam_policy::decision::allow);
  EXPECT_EQ(p.evaluate("s3:GetObject", "arn:aws:s3:::b/k"), iam_policy::decision::implicit_deny);
}

// Actions without case, in the policy and in the call, before and after a wildcard, however long;
// resources with it.
TEST(IamPolicyTest, EvaluateComparesActionsWithoutCaseAndResourcesWithIt) {
  const auto p = parse(R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["DynamoDB:PutItem", "dynamodb:*ITEM", "SVC:*"], "Resource": "arn:aws:x:::Table/*"}]})");
  EXPECT_EQ(p.evaluate("dynamodb:putITEM", "arn:aws:x:::Table/t"), iam_policy::decision::allow);
  EXPECT_EQ(p.evaluate("DYNAMODB:GetItem", "arn:aws:x:::Table/t"), iam_policy::decision::allow);
  EXPECT_EQ(p.evaluate("dynamodb:Scan", "arn:aws:x:::Table/t"), iam_policy::decision::implicit_deny);
  EXPECT_EQ(p.evaluate("svc:" + std::string(300, 'A'), "arn:aws:x:::Table/t"), iam_policy::decision::allow);
  EXPECT_EQ(p.evaluate("other:" + std::string(300, 'A'), "arn:aws:x:::Table/t"), iam_policy::decision::implicit_deny);
  EXPECT_EQ(p.evaluate("dynamodb:PutItem", "arn:aws:x:::table/t"), iam_policy::decision::implicit_deny);
}

TEST(IamPolicyTest, SingleStatementObject) {
  const auto p = parse(R"({"Statement": {"Effect": "Allow", "Action": "execute-api:ManageConnections",
      "Resource": "arn:aws:execute-api:*:*:abc/Prod/POST/@connections/*"}})");
  EXPECT_TRUE(p.allows("execute-api:ManageConnections", "arn:aws:execute-api:us-east-1:1:abc/Prod/POST/@connections/x="));
  EXPECT_FALSE(p.allows("execute-api:ManageConnections", "arn:aws:execute-api:us-east-1:1:abc/Prod/DELETE/@connections/x="));
}

// The decision for every connection under an @connections ARN prefix, found once for a
// broadcast's posts: given only when no statement taking the action names some connections and
// not others; and then it is evaluate()'s for any connection id.
TEST(IamPolicyTest, DecisionForEveryConnectionOnlyWhenNoStatementNamesSome) {
  const std::string prefix = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/POST/@connections/";
  const std::string action = "execute-api:ManageConnections";
  using d = iam_policy::decision;
  struct row {
    std::string statements;
    std::optional<d> expected;
  };
  const auto allow = [](const std::string& resource, const std::string& effect = "Allow",
                        const std::string& act = "execute-api:ManageConnections") {
    return R"({"Effect": ")" + effect + R"(", "Action": ")" + act + R"(", "Resource": ")" + resource + R"("})";
  };
  const row rows[] = {
      {allow("*"), d::allow},
      {allow("arn:aws:execute-api:us-east-1:123456789012:abc/*"), d::allow},
      {allow(prefix + "*"), d::allow},
      {allow("arn:aws:execute-api:us-east-1:123456789012:abc/Prod/GET/@connections/*"), d::implicit_deny},
      {allow("arn:aws:execute-api:us-east-1:123456789012:other/*"), d::implicit_deny},
      {allow(prefix + "*", "Allow", "dynamodb:*"), d::implicit_deny},
      {allow(prefix), d::implicit_deny},                          // the prefix alone: no connection
      {allow(prefix + "AAAAAAAAAAAAAAA="), std::nullopt},          // one connection
      {allow(prefix + "A*"), std::nullopt},                        // those that start with A
      {allow("arn:aws:execute-api:*:*:abc/Prod/POST/@connections/*"), std::nullopt},  // not reasoned about
      {allow(prefix + "????????????????"), std::nullopt},
      {allow("*") + "," + allow(prefix + "BBBBBBBBBBBBBBB=", "Deny"), std::nullopt},
      {R"({"Effect": "Allow", "Action": "execute-api:ManageConnections", "Resource": [")" + prefix +
           R"(BBBBBBBBBBBBBBB=", "*"]})",
       d::allow},  // one statement: its second pattern takes all
      {allow(prefix + "BBBBBBBBBBBBBBB=") + "," + allow("*"), std::nullopt},  // the first names one
      {allow("*") + "," + allow(prefix + "*", "Deny"), d::explicit_deny},
      {allow("arn:aws:execute-api:us-east-1:123456789012:abc/Prod/*/@connections/*") + "," + allow("*", "Deny"),
       std::nullopt},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.statements);
    const auto p = parse(("{\"Version\": \"2012-10-17\", \"Statement\": [" + r.statements + "]}").c_str());
    const auto got = p.decision_for_every(action, prefix);
    EXPECT_EQ(got, r.expected);
    if (got) {
      for (const std::string id : {"AAAAAAAAAAAAAAA=", "BBBBBBBBBBBBBBB=", "x", "A-_=/more"}) {
        EXPECT_EQ(p.evaluate(action, prefix + id), *got) << id;
      }
    }
  }
}

TEST(IamPolicyTest, ErrorsNameThePath) {
  EXPECT_EQ(parse_error(R"([])"), "expected a policy document (a JSON object)");
  EXPECT_EQ(parse_error(R"({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})"),
            "Statement[0].Effect: expected \"Allow\" or \"Deny\"");
  EXPECT_EQ(parse_error(R"({"Statement": [{"Effect": "Allow", "Resource": "*"}]})"), "Statement[0].Action: missing");
  EXPECT_EQ(parse_error(R"({"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]})"),
            "Statement[0].Action: expected a string or a non-empty array of strings");
  EXPECT_EQ(parse_error(R"({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}]})"),
            "Statement[0].Condition: not supported; a statement has Sid, Effect, Action and Resource");
  EXPECT_EQ(parse_error(R"({"Version": "2020-01-01", "Statement": []})"),
            "Version: expected \"2012-10-17\" or \"2008-10-17\"");
  EXPECT_EQ(parse_error(R"({"Statment": []})"), "Statment: unknown key; a policy document has Version, Id and Statement");
}

}  // namespace
}  // namespace apigw::emulator
