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
  table_schema t{"messages", {"a", key_type::S}, key_attribute{"b", key_type::N}, ""};
  std::string json = to_create_table_json(t);
  auto back = parse(json);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->name, "messages");
  EXPECT_TRUE(back->same_keys(t));
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
       "tables[0].AttributeDefinitions: defines 2 attributes but KeySchema uses 1; define only key attributes "
       "(DynamoDB rejects the others)"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "GlobalSecondaryIndexes": []})",
       "tables[0].GlobalSecondaryIndexes: secondary indexes are not emulated; remove GlobalSecondaryIndexes "
       "(Query the table's own key instead)"},
      {R"({"TableName": "conns", )" + keys + ", " + defs + R"(, "Tabel": 1})",
       "tables[0].Tabel: unknown key; a table takes TableName, KeySchema and AttributeDefinitions "
       "(CreateTable's other settings are ignored)"},
  };
  for (const test_case& c : cases) {
    auto r = parse(c.json);
    ASSERT_FALSE(r.has_value()) << c.json;
    EXPECT_EQ(r.error(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace apigw::store
