#include "store/table_schema.hpp"

#include <string>

#include <gtest/gtest.h>

namespace apigw::store {
namespace {

result<table_schema> parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json;
  return parse_table_schema(d, "tables[0]");
}

TEST(TableSchemaTest, ParsesHashKeyTable) {
  auto r = parse(R"({"TableName": "simplechat_connections",
      "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
      "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
      "BillingMode": "PAY_PER_REQUEST"})");
  ASSERT_TRUE(r.has_value()) << r.error();
  const table_schema& t = *r;
  EXPECT_EQ(t.name, "simplechat_connections");
  EXPECT_EQ(t.hash_key, (key_attribute{"connectionId", key_type::S}));
  EXPECT_FALSE(t.range_key.has_value());
  EXPECT_EQ(describe_keys(t), "connectionId (S) HASH");
}

TEST(TableSchemaTest, ParsesRangeKeyTableWithDefinitionsInAnyOrder) {
  auto r = parse(R"({"TableName": "messages",
      "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "ts", "AttributeType": "N"},
                               {"AttributeName": "room", "AttributeType": "B"}],
      "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}})");
  ASSERT_TRUE(r.has_value()) << r.error();
  const table_schema& t = *r;
  EXPECT_EQ(t.hash_key, (key_attribute{"room", key_type::B}));
  EXPECT_EQ(t.range_key, (key_attribute{"ts", key_type::N}));
  EXPECT_EQ(describe_keys(t), "room (B) HASH, ts (N) RANGE");
}

TEST(TableSchemaTest, RoundTripsThroughCreateTableJson) {
  table_schema t{"messages", {"a", key_type::S}, key_attribute{"b", key_type::N}, "", {}};
  t.indexes.push_back({"byUser", true, {"user", key_type::S}, key_attribute{"b", key_type::N},
                       projection_type::include, {"text", "sent"}});
  t.indexes.push_back({"byLength", false, {"a", key_type::S}, key_attribute{"length", key_type::N},
                       projection_type::keys_only, {}});
  std::string json = to_create_table_json(t);
  auto back = parse(json);
  ASSERT_TRUE(back.has_value()) << back.error() << "\n" << json;
  EXPECT_EQ(back->name, "messages");
  EXPECT_TRUE(back->same_keys(t));
  EXPECT_EQ(back->indexes, t.indexes);
}

TEST(TableSchemaTest, ParsesGlobalAndLocalSecondaryIndexes) {
  auto r = parse(R"({"TableName": "messages",
      "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "room", "AttributeType": "S"},
                               {"AttributeName": "ts", "AttributeType": "N"},
                               {"AttributeName": "user", "AttributeType": "S"},
                               {"AttributeName": "likes", "AttributeType": "N"}],
      "GlobalSecondaryIndexes": [{"IndexName": "byUser", "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "KEYS_ONLY"},
                                  "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
      "LocalSecondaryIndexes": [{"IndexName": "byLikes",
                                 "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"},
                                               {"AttributeName": "likes", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["text"]}}]})");
  ASSERT_TRUE(r.has_value()) << r.error();
  ASSERT_EQ(r->indexes.size(), 2u);
  const secondary_index* by_user = r->find_index("byUser");
  ASSERT_NE(by_user, nullptr);
  EXPECT_TRUE(by_user->global);
  EXPECT_EQ(by_user->hash_key, (key_attribute{"user", key_type::S}));
  EXPECT_FALSE(by_user->range_key.has_value());
  EXPECT_EQ(by_user->projection, projection_type::keys_only);
  const secondary_index* by_likes = r->find_index("byLikes");
  ASSERT_NE(by_likes, nullptr);
  EXPECT_FALSE(by_likes->global);
  EXPECT_EQ(by_likes->range_key, (key_attribute{"likes", key_type::N}));
  EXPECT_EQ(by_likes->projection, projection_type::include);
  EXPECT_EQ(by_likes->non_key_attributes, std::vector<std::string>{"text"});
  EXPECT_EQ(r->find_index("other"), nullptr);
}

TEST(TableSchemaTest, RejectsMalformedDefinitionsWithTheirJsonPath) {
  const std::string keys = R"("KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}])";
  const std::string defs = R"("AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}])";
  struct test_case {
    std::string json;
    std::string message;
  };
  const test_case cases[] = {
      {"[]", "tables[0]: expected an object like {\"TableName\": ..., \"KeySchema\": [...], "
             "\"AttributeDefinitions\": [...]}, found an array"},
      {"{" + keys + ", " + defs + "}", "tables[0].TableName: missing; every table needs a name"},
      {R"({"TableName": "a b c", )" + keys + ", " + defs + "}",
       "tables[0].TableName: expected 3 to 255 letters, digits, '_', '-' or '.', found \"a b c\""},
      {R"({"TableName": "ab", )" + keys + ", " + defs + "}",
       "tables[0].TableName: expected 3 to 255 letters, digits, '_', '-' or '.', found \"ab\""},
      {R"({"TableName": "conns", )" + defs + "}",
       "tables[0].KeySchema: missing; e.g. [{\"AttributeName\": \"connectionId\", \"KeyType\": \"HASH\"}]"},
      {R"({"TableName": "conns", )" + keys + "}",
       "tables[0].AttributeDefinitions: missing; declare the type (S, N or B) of each key attribute"},
      {R"({"TableName": "conns", "KeySchema": [], )" + defs + "}",
       "tables[0].KeySchema: expected an array of 1 or 2 elements (HASH, then optional RANGE), found 0 elements"},
      {R"({"TableName": "conns", "KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}], )" + defs + "}",
       "tables[0].KeySchema[0].KeyType: expected \"HASH\" (the first key is HASH, the second RANGE), found \"RANGE\""},
      {R"({"TableName": "conns", "KeySchema": [{"AttributeName": "other", "KeyType": "HASH"}], )" + defs + "}",
       "tables[0].KeySchema[0].AttributeName: attribute other has no entry in AttributeDefinitions; add its type there"},
      {R"({"TableName": "conns", )" + keys + R"(, "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "BOOL"}]})",
       "tables[0].AttributeDefinitions[0].AttributeType: expected \"S\", \"N\" or \"B\", found \"BOOL\""},
      {R"({"TableName": "conns", )" + keys + R"(, "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
          {"AttributeName": "x", "AttributeType": "S"}]})",
       "tables[0].AttributeDefinitions: defines 2 attributes but the key schemas use 1 (id); define only key "
       "attributes (DynamoDB rejects the others)"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": []})",
       "tables[0].GlobalSecondaryIndexes: expected an array of 1 to 20 indexes, found 0 elements"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": [{"IndexName": "byId",
          "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "SOME"}}]})",
       "tables[0].GlobalSecondaryIndexes[0].Projection.ProjectionType: expected \"ALL\", \"KEYS_ONLY\" or "
       "\"INCLUDE\", found \"SOME\""},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": [{"IndexName": "byId",
          "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "INCLUDE"}}]})",
       "tables[0].GlobalSecondaryIndexes[0].Projection.NonKeyAttributes: an INCLUDE projection needs a non-empty "
       "array of attribute names"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": [{"IndexName": "byX",
          "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]})",
       "tables[0].GlobalSecondaryIndexes[0].KeySchema[0].AttributeName: attribute x has no entry in "
       "AttributeDefinitions; add its type there"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "LocalSecondaryIndexes": [{"IndexName": "byId",
          "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}]})",
       "tables[0].LocalSecondaryIndexes[0]: a local secondary index needs a table with a RANGE key (DynamoDB: "
       "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex)"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": [{"IndexName": "byId",
          "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}},
          {"IndexName": "byId", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
           "Projection": {"ProjectionType": "ALL"}}]})",
       "tables[0].GlobalSecondaryIndexes[1].IndexName: two indexes are named byId"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "Tabel": 1})",
       "tables[0].Tabel: unknown key; a table takes TableName, KeySchema, AttributeDefinitions and secondary "
       "indexes (CreateTable's other settings are ignored)"},
  };
  for (const test_case& c : cases) {
    auto r = parse(c.json);
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace apigw::store
