// A backend's CI test: its "shout" route upper-cases a message and sends it to everybody in the
// room; the emulator runs inside the test with the backend's handlers.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <apigw/testing.hpp>

namespace {

// The backend's API: who connects joins the "members" table; "shout" broadcasts.
constexpr const char* kApi = R"({
  "name": "shout",
  "routeSelectionExpression": "$request.body.action",
  "stage": {"name": "dev"},
  "tables": [{"TableName": "members",
              "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
              "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}],
  "routes": [
    {"routeKey": "$connect", "integration": "join"},
    {"routeKey": "shout", "integration": "shout"}
  ],
  "integrations": {
    "join": {"handler": "join"},
    "shout": {"handler": "shout"}
  }
})";

std::string id_of(const rapidjson::Value& event) { return event["requestContext"]["connectionId"].GetString(); }

// $connect: refuses a client without ?name=, else records it.
class join final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    apigw::handler_result r;
    const auto query = event.FindMember("queryStringParameters");
    if (query == event.MemberEnd() || !query->value.IsObject() || !query->value.HasMember("name")) {
      r.status_code = 403;
      return r;
    }
    rapidjson::Document put;
    put.Parse(R"({"TableName": "members", "Item": {"id": {"S": ""}}})");
    put["Item"]["id"]["S"].SetString(id_of(event).c_str(), put.GetAllocator());
    r.status_code = context.tables().call("PutItem", put).ok() ? 200 : 500;
    return r;
  }
};

// {"action": "shout", "data": TEXT}: TEXT in capitals to every member.
class shout final : public apigw::handler {
 public:
  apigw::handler_result invoke(const rapidjson::Value& event, apigw::invocation_context& context) override {
    rapidjson::Document message;
    message.Parse(event["body"].GetString());
    std::string text = message["data"].GetString();
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
    rapidjson::Document scan;
    scan.Parse(R"({"TableName": "members"})");
    auto members = context.tables().call("Scan", scan);
    for (const auto& item : members.body()["Items"].GetArray()) {
      context.connections().post_to_connection(item["id"]["S"].GetString(), text);
    }
    apigw::handler_result r;
    r.status_code = 200;
    return r;
  }
};

void add_handlers(apigw::handler_registry& registry) {
  registry.add_instance("join", std::make_shared<join>());
  registry.add_instance("shout", std::make_shared<shout>());
}

TEST(ShoutTest, ReachesEveryMemberInCapitals) {
  apigw::testing::test_emulator emu(kApi, add_handlers);
  ASSERT_TRUE(emu.started());
  auto alice = emu.connect("/dev?name=alice");
  auto bob = emu.connect("/dev?name=bob");
  ASSERT_TRUE(alice.connected());
  ASSERT_TRUE(bob.connected());
  EXPECT_EQ(emu.item_count("members"), 2);

  ASSERT_TRUE(alice.send(R"({"action": "shout", "data": "hello"})"));
  EXPECT_TRUE(alice.expect_frame("HELLO"));
  EXPECT_TRUE(bob.expect_frame("HELLO"));
}

TEST(ShoutTest, RefusesAnonymousClients) {
  apigw::testing::test_emulator emu(kApi, add_handlers);
  ASSERT_TRUE(emu.started());
  auto anonymous = emu.connect("/dev");
  EXPECT_TRUE(anonymous.refused_with(403));
  EXPECT_EQ(emu.item_count("members"), 0);
}

TEST(ShoutTest, UnknownActionGetsTheGatewaysForbidden) {
  apigw::testing::test_emulator emu(kApi, add_handlers);
  ASSERT_TRUE(emu.started());
  auto alice = emu.connect("/dev?name=alice");
  ASSERT_TRUE(alice.connected());
  ASSERT_TRUE(alice.send(R"({"action": "whisper"})"));
  const auto answer = alice.receive();
  EXPECT_EQ(answer.type, apigw::frame::kind::text);
  EXPECT_NE(answer.data.find("Forbidden"), std::string::npos) << answer;
}

}  // namespace
