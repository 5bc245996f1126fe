// Global and local secondary indexes on :memory: and on a file: Query and Scan with IndexName,
// projections, sparse indexes, every write keeping them current, DynamoDB's errors; and parallel
// Scan's segments.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

using testing::open_store;

// chat: room (S) HASH, ts (N) RANGE; byUser: user (S) HASH, ts (N) RANGE, INCLUDE text;
// byLikes (local): room, likes (N), KEYS_ONLY; byRoomAll: room (S) HASH, ALL.
constexpr std::string_view kChat = R"({"TableName": "chat", "BillingMode": "PAY_PER_REQUEST",
  "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
  "AttributeDefinitions": [{"AttributeName": "room", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"},
                           {"AttributeName": "user", "AttributeType": "S"}, {"AttributeName": "likes", "AttributeType": "N"}],
  "GlobalSecondaryIndexes": [
    {"IndexName": "byUser", "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["text"]}},
    {"IndexName": "byRoomAll", "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}],
     "Projection": {"ProjectionType": "ALL"}}],
  "LocalSecondaryIndexes": [
    {"IndexName": "byLikes", "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "likes", "KeyType": "RANGE"}],
     "Projection": {"ProjectionType": "KEYS_ONLY"}}]})";

class SecondaryIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string created = call("CreateTable", kChat);
    ASSERT_NE(created.find(R"("TableStatus":"ACTIVE")"), std::string::npos) << created;
  }

  std::string call(std::string_view op, std::string_view json) { return testing::run(*store_, op, json); }

  // Puts a chat message; USER and LIKES are left out when empty.
  void put(std::string_view room, int ts, std::string_view user, std::string_view likes = "",
           std::string_view text = "hi") {
    std::string item = R"({"room": {"S": ")" + std::string(room) + R"("}, "ts": {"N": ")" + std::to_string(ts) +
                       R"("}, "text": {"S": ")" + std::string(text) + R"("}, "extra": {"BOOL": true})";
    if (!user.empty()) item += R"(, "user": {"S": ")" + std::string(user) + R"("})";
    if (!likes.empty()) item += R"(, "likes": {"N": ")" + std::string(likes) + R"("})";
    item += "}";
    ASSERT_EQ(call("PutItem", R"({"TableName": "chat", "Item": )" + item + "}"), "{}");
  }

  std::string query_user(std::string_view user, std::string_view extra = "") {
    return call("Query", R"({"TableName": "chat", "IndexName": "byUser", "KeyConditionExpression": "#u = :u",
                            "ExpressionAttributeNames": {"#u": "user"},
                            "ExpressionAttributeValues": {":u": {"S": ")" + std::string(user) + R"("}})" +
                             std::string(extra) + "}");
  }

  std::unique_ptr<session_store> store_ = open_store();
};

TEST_F(SecondaryIndexTest, QueryOfAGlobalIndexGivesItsProjectionInIndexOrderAndPages) {
  put("r1", 3, "alice");
  put("r2", 1, "alice");
  put("r1", 2, "bob");
  put("r1", 4, "");  // no user: not in byUser
  // INCLUDE text: the keys of the table and the index, and text; not extra.
  EXPECT_EQ(query_user("alice"),
            R"({"Items":[{"room":{"S":"r2"},"ts":{"N":"1"},"text":{"S":"hi"},"user":{"S":"alice"}},)"
            R"({"room":{"S":"r1"},"ts":{"N":"3"},"text":{"S":"hi"},"user":{"S":"alice"}}],"Count":2,"ScannedCount":2})");
  EXPECT_EQ(query_user("alice", R"(, "ScanIndexForward": false, "Limit": 1, "ProjectionExpression": "ts")"),
            R"({"Items":[{"ts":{"N":"3"}}],"Count":1,"ScannedCount":1,)"
            R"("LastEvaluatedKey":{"room":{"S":"r1"},"ts":{"N":"3"},"user":{"S":"alice"}}})");
  // The LastEvaluatedKey (the table's key and the index's) continues where the page ended.
  EXPECT_EQ(query_user("alice", R"(, "ScanIndexForward": false, "ProjectionExpression": "ts",
                                   "ExclusiveStartKey": {"room": {"S": "r1"}, "ts": {"N": "3"}, "user": {"S": "alice"}})"),
            R"({"Items":[{"ts":{"N":"1"}}],"Count":1,"ScannedCount":1})");
  EXPECT_EQ(query_user("carol"), R"({"Items":[],"Count":0,"ScannedCount":0})");
  // A filter on a global index sees only what the index holds.
  EXPECT_EQ(query_user("alice", R"j(, "FilterExpression": "attribute_exists(extra)", "Select": "COUNT")j"),
            R"({"Count":0,"ScannedCount":2})");
  // The range key of the index takes the key operators.
  EXPECT_EQ(call("Query", R"({"TableName": "chat", "IndexName": "byUser", "KeyConditionExpression": "#u = :u AND ts > :t",
                             "ProjectionExpression": "ts", "ExpressionAttributeNames": {"#u": "user"},
                             "ExpressionAttributeValues": {":u": {"S": "alice"}, ":t": {"N": "1"}}})"),
            R"({"Items":[{"ts":{"N":"3"}}],"Count":1,"ScannedCount":1})");
}

TEST_F(SecondaryIndexTest, ItemsWithTheSameIndexKeyAreAllThereAndPageInTableKeyOrder) {
  for (const int ts : {3, 1, 2}) put("a", ts, "");
  put("b", 1, "");
  std::string start;
  std::vector<std::string> stamps;
  for (int page = 0; page < 5; ++page) {
    const std::string r = call("Query", R"({"TableName": "chat", "IndexName": "byRoomAll", "Limit": 1,
        "KeyConditionExpression": "room = :r", "ExpressionAttributeValues": {":r": {"S": "a"}})" + start + "}");
    rapidjson::Document d;
    d.Parse(r.c_str());
    ASSERT_TRUE(d.IsObject() && d.HasMember("Items")) << r;
    for (const auto& item : d["Items"].GetArray()) stamps.emplace_back(item["ts"]["N"].GetString());
    if (!d.HasMember("LastEvaluatedKey")) break;
    const auto& last = d["LastEvaluatedKey"];
    EXPECT_EQ(last.MemberCount(), 2u) << r;  // room (the hash key of both) and ts
    start = R"(, "ExclusiveStartKey": {"room": {"S": "a"}, "ts": {"N": ")" + std::string(last["ts"]["N"].GetString()) +
            R"("}})";
  }
  EXPECT_EQ(stamps, (std::vector<std::string>{"1", "2", "3"}));
  // Scan of the index: every item, by the index's key, then the table's.
  EXPECT_EQ(call("Scan", R"({"TableName": "chat", "IndexName": "byRoomAll", "ProjectionExpression": "room, ts"})"),
            R"({"Items":[{"room":{"S":"a"},"ts":{"N":"1"}},{"room":{"S":"a"},"ts":{"N":"2"}},)"
            R"({"room":{"S":"a"},"ts":{"N":"3"}},{"room":{"S":"b"},"ts":{"N":"1"}}],"Count":4,"ScannedCount":4})");
}

TEST_F(SecondaryIndexTest, EveryWriteKeepsTheIndexesCurrent) {
  put("r1", 1, "alice", "5");
  ASSERT_EQ(call("UpdateItem", R"({"TableName": "chat", "Key": {"room": {"S": "r1"}, "ts": {"N": "1"}},
                                   "UpdateExpression": "SET #u = :b", "ExpressionAttributeNames": {"#u": "user"},
                                   "ExpressionAttributeValues": {":b": {"S": "bob"}}})"),
            "{}");
  EXPECT_EQ(query_user("alice", R"(, "Select": "COUNT")"), R"({"Count":0,"ScannedCount":0})");
  EXPECT_EQ(query_user("bob", R"(, "Select": "COUNT")"), R"({"Count":1,"ScannedCount":1})");
  ASSERT_EQ(call("UpdateItem", R"({"TableName": "chat", "Key": {"room": {"S": "r1"}, "ts": {"N": "1"}},
                                   "UpdateExpression": "REMOVE #u", "ExpressionAttributeNames": {"#u": "user"}})"),
            "{}");
  EXPECT_EQ(query_user("bob", R"(, "Select": "COUNT")"), R"({"Count":0,"ScannedCount":0})");

  ASSERT_EQ(call("BatchWriteItem", R"({"RequestItems": {"chat": [
      {"PutRequest": {"Item": {"room": {"S": "r2"}, "ts": {"N": "1"}, "user": {"S": "carol"}}}},
      {"PutRequest": {"Item": {"room": {"S": "r2"}, "ts": {"N": "2"}, "user": {"S": "carol"}}}}]}})"),
            R"({"UnprocessedItems":{}})");
  EXPECT_EQ(query_user("carol", R"(, "Select": "COUNT")"), R"({"Count":2,"ScannedCount":2})");
  ASSERT_EQ(call("TransactWriteItems", R"({"TransactItems": [
      {"Delete": {"TableName": "chat", "Key": {"room": {"S": "r2"}, "ts": {"N": "1"}}}},
      {"Put": {"TableName": "chat", "Item": {"room": {"S": "r3"}, "ts": {"N": "9"}, "user": {"S": "carol"}}}}]})"),
            "{}");
  EXPECT_EQ(query_user("carol", R"(, "ProjectionExpression": "room")"),
            R"({"Items":[{"room":{"S":"r2"}},{"room":{"S":"r3"}}],"Count":2,"ScannedCount":2})");
  ASSERT_EQ(call("DeleteItem", R"({"TableName": "chat", "Key": {"room": {"S": "r3"}, "ts": {"N": "9"}}})"), "{}");
  EXPECT_EQ(query_user("carol", R"(, "Select": "COUNT")"), R"({"Count":1,"ScannedCount":1})");

  // A write that fails writes no index row either.
  EXPECT_EQ(call("TransactWriteItems", R"j({"TransactItems": [
      {"Put": {"TableName": "chat", "Item": {"room": {"S": "r4"}, "ts": {"N": "1"}, "user": {"S": "dave"}}}},
      {"ConditionCheck": {"TableName": "chat", "Key": {"room": {"S": "none"}, "ts": {"N": "1"}},
                          "ConditionExpression": "attribute_exists(room)"}}]})j")
                .substr(0, 30),
            "TransactionCanceledException: ");
  EXPECT_EQ(query_user("dave", R"(, "Select": "COUNT")"), R"({"Count":0,"ScannedCount":0})");
}

TEST_F(SecondaryIndexTest, ALocalIndexFetchesUnprojectedAttributesFromTheTable) {
  put("r1", 1, "alice", "7");
  put("r1", 2, "bob", "3");
  put("r1", 3, "carol");  // no likes: not in byLikes
  const std::string by_likes = R"({"TableName": "chat", "IndexName": "byLikes",
      "KeyConditionExpression": "room = :r AND likes >= :l", "ExpressionAttributeValues": {":r": {"S": "r1"}, ":l": {"N": "1"}})";
  EXPECT_EQ(call("Query", by_likes + "}"),
            R"({"Items":[{"room":{"S":"r1"},"ts":{"N":"2"},"likes":{"N":"3"}},)"
            R"({"room":{"S":"r1"},"ts":{"N":"1"},"likes":{"N":"7"}}],"Count":2,"ScannedCount":2})");
  EXPECT_EQ(call("Query", by_likes + R"(, "ProjectionExpression": "#u", "ExpressionAttributeNames": {"#u": "user"}})"),
            R"({"Items":[{"user":{"S":"bob"}},{"user":{"S":"alice"}}],"Count":2,"ScannedCount":2})");
  EXPECT_EQ(call("Query", by_likes + R"(, "Select": "ALL_ATTRIBUTES", "ConsistentRead": true, "Limit": 1})"),
            R"({"Items":[{"room":{"S":"r1"},"ts":{"N":"2"},"text":{"S":"hi"},"extra":{"BOOL":true},)"
            R"("user":{"S":"bob"},"likes":{"N":"3"}}],"Count":1,"ScannedCount":1,)"
            R"("LastEvaluatedKey":{"room":{"S":"r1"},"ts":{"N":"2"},"likes":{"N":"3"}}})");
}

TEST_F(SecondaryIndexTest, ConsumedCapacityOfAnIndexReadShowsUnderTheIndex) {
  put("r1", 1, "alice");
  EXPECT_EQ(query_user("alice", R"(, "ReturnConsumedCapacity": "INDEXES", "Select": "COUNT")"),
            R"({"Count":1,"ScannedCount":1,"ConsumedCapacity":{"TableName":"chat","CapacityUnits":0.5,)"
            R"("Table":{"CapacityUnits":0.0},"GlobalSecondaryIndexes":{"byUser":{"CapacityUnits":0.5}}}})");
  EXPECT_EQ(query_user("alice", R"(, "ReturnConsumedCapacity": "TOTAL", "Select": "COUNT")"),
            R"({"Count":1,"ScannedCount":1,"ConsumedCapacity":{"TableName":"chat","CapacityUnits":0.5}})");
}

TEST_F(SecondaryIndexTest, DescribeTableShowsTheIndexesAndTheirItems) {
  put("r1", 1, "alice");
  put("r1", 2, "");
  rapidjson::Document d;
  const std::string described = call("DescribeTable", R"({"TableName": "chat"})");
  d.Parse(described.c_str());
  ASSERT_TRUE(d.IsObject() && d.HasMember("Table")) << described;
  const auto& table = d["Table"];
  ASSERT_TRUE(table.HasMember("GlobalSecondaryIndexes")) << described;
  const auto& gsis = table["GlobalSecondaryIndexes"];
  ASSERT_EQ(gsis.Size(), 2u);
  EXPECT_STREQ(gsis[0]["IndexName"].GetString(), "byUser");
  EXPECT_STREQ(gsis[0]["IndexStatus"].GetString(), "ACTIVE");
  EXPECT_EQ(gsis[0]["ItemCount"].GetInt(), 1);
  EXPECT_STREQ(gsis[0]["IndexArn"].GetString(), "arn:aws:dynamodb:us-east-1:123456789012:table/chat/index/byUser");
  EXPECT_STREQ(gsis[0]["Projection"]["ProjectionType"].GetString(), "INCLUDE");
  EXPECT_EQ(gsis[1]["ItemCount"].GetInt(), 2);
  const auto& lsis = table["LocalSecondaryIndexes"];
  ASSERT_EQ(lsis.Size(), 1u);
  EXPECT_STREQ(lsis[0]["IndexName"].GetString(), "byLikes");
  EXPECT_EQ(lsis[0]["ItemCount"].GetInt(), 0);
  EXPECT_FALSE(lsis[0].HasMember("IndexStatus"));
  EXPECT_EQ(table["AttributeDefinitions"].Size(), 4u);
}

TEST_F(SecondaryIndexTest, RefusesWhatDynamoDbRefuses) {
  struct test_case {
    std::string_view operation;
    std::string json;
    std::string error;
  };
  const std::vector<test_case> cases = {
      {"PutItem", R"({"TableName": "chat", "Item": {"room": {"S": "r"}, "ts": {"N": "1"}, "user": {"N": "5"}}})",
       "ValidationException: One or more parameter values were invalid: Type mismatch for Index Key user Expected: S "
       "Actual: N IndexName: byUser"},
      {"PutItem", R"({"TableName": "chat", "Item": {"room": {"S": "r"}, "ts": {"N": "1"}, "user": {"S": ""}}})",
       "ValidationException: One or more parameter values are not valid. A value specified for a secondary index key "
       "is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: "
       "byUser, IndexKey: user"},
      {"UpdateItem", R"({"TableName": "chat", "Key": {"room": {"S": "r"}, "ts": {"N": "1"}},
                         "UpdateExpression": "SET likes = :x", "ExpressionAttributeValues": {":x": {"S": "many"}}})",
       "ValidationException: One or more parameter values were invalid: Type mismatch for Index Key likes Expected: N "
       "Actual: S IndexName: byLikes"},
      {"Query", R"({"TableName": "chat", "IndexName": "byNothing", "KeyConditionExpression": "room = :r",
                    "ExpressionAttributeValues": {":r": {"S": "r"}}})",
       "ValidationException: The table does not have the specified index: byNothing"},
      {"Query", R"({"TableName": "chat", "IndexName": "byUser", "ConsistentRead": true,
                    "KeyConditionExpression": "#u = :u", "ExpressionAttributeNames": {"#u": "user"},
                    "ExpressionAttributeValues": {":u": {"S": "a"}}})",
       "ValidationException: Consistent reads are not supported on global secondary indexes"},
      {"Query", R"({"TableName": "chat", "IndexName": "byUser", "Select": "ALL_ATTRIBUTES",
                    "KeyConditionExpression": "#u = :u", "ExpressionAttributeNames": {"#u": "user"},
                    "ExpressionAttributeValues": {":u": {"S": "a"}}})",
       "ValidationException: One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
       "for global secondary index byUser because its projection type is not ALL"},
      {"Query", R"({"TableName": "chat", "IndexName": "byUser", "KeyConditionExpression": "room = :r",
                    "ExpressionAttributeValues": {":r": {"S": "r"}}})",
       "ValidationException: Query condition missed key schema element: ts"},
      {"Query", R"({"TableName": "chat", "IndexName": "byUser", "KeyConditionExpression": "#u = :u",
                    "ExpressionAttributeNames": {"#u": "user"}, "ExpressionAttributeValues": {":u": {"S": "a"}},
                    "ExclusiveStartKey": {"room": {"S": "r"}, "ts": {"N": "1"}}})",
       "ValidationException: The provided starting key is invalid: The provided key element does not match the "
       "schema"},
      {"Scan", R"({"TableName": "chat", "Select": "ALL_PROJECTED_ATTRIBUTES"})",
       "ValidationException: ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"},
      {"Scan", R"({"TableName": "chat", "Segment": 1})",
       "ValidationException: The TotalSegments parameter is required but was not present in the request when "
       "Segment parameter is present"},
      {"Scan", R"({"TableName": "chat", "TotalSegments": 2})",
       "ValidationException: The Segment parameter is required but was not present in the request when parameter "
       "TotalSegments is present"},
      {"Scan", R"({"TableName": "chat", "Segment": 2, "TotalSegments": 2})",
       "ValidationException: The Segment parameter is zero-based and must be less than parameter TotalSegments: "
       "Segment: 2 is not less than TotalSegments: 2"},
      {"Scan", R"({"TableName": "chat", "Segment": 0, "TotalSegments": 1000001})",
       "ValidationException: 1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy "
       "constraint: Member must have value less than or equal to 1000000"},
      {"CreateTable", R"({"TableName": "tab2", "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                          "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
                          "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                          "GlobalSecondaryIndexes": [{"IndexName": "byA", "Projection": {"ProjectionType": "ALL"},
                            "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}]}]})",
       "ValidationException: One or more parameter values were invalid: ProvisionedThroughput must be specified for "
       "index: byA"},
      {"UpdateTable", R"({"TableName": "chat", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "byUser"}}]})",
       "ValidationException: GlobalSecondaryIndexUpdates is not supported by the emulator: declare the table's "
       "indexes when it is created (CreateTable or the configuration), or delete and create it again"},
  };
  for (const test_case& c : cases) EXPECT_EQ(call(c.operation, c.json), c.error) << c.json;
  // Nothing was written by the refused writes.
  EXPECT_EQ(call("Scan", R"({"TableName": "chat", "Select": "COUNT"})"), R"({"Count":0,"ScannedCount":0})");
  EXPECT_EQ(call("Scan", R"({"TableName": "chat", "IndexName": "byRoomAll", "Select": "COUNT"})"),
            R"({"Count":0,"ScannedCount":0})");
}

TEST_F(SecondaryIndexTest, ParallelScanSegmentsAreDisjointAndCoverTheTable) {
  for (int i = 0; i < 40; ++i) put("room" + std::to_string(i), i % 3, "");
  std::multiset<std::string> seen;
  std::size_t non_empty = 0;
  for (int segment = 0; segment < 4; ++segment) {
    std::string start;
    std::size_t in_segment = 0;
    for (int page = 0; page < 50; ++page) {
      const std::string r = call("Scan", R"({"TableName": "chat", "Limit": 3, "TotalSegments": 4, "Segment": )" +
                                             std::to_string(segment) + start + "}");
      rapidjson::Document d;
      d.Parse(r.c_str());
      ASSERT_TRUE(d.IsObject() && d.HasMember("Items")) << r;
      EXPECT_LE(d["ScannedCount"].GetInt(), 3);
      for (const auto& item : d["Items"].GetArray()) seen.insert(item["room"]["S"].GetString());
      in_segment += d["Items"].Size();
      if (!d.HasMember("LastEvaluatedKey")) break;
      const auto& last = d["LastEvaluatedKey"];
      start = R"(, "ExclusiveStartKey": {"room": {"S": ")" + std::string(last["room"]["S"].GetString()) +
              R"("}, "ts": {"N": ")" + last["ts"]["N"].GetString() + R"("}})";
    }
    non_empty += in_segment > 0 ? 1 : 0;
  }
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 40u);  // each item in one segment only
  EXPECT_GE(non_empty, 2u);  // the items are spread
}

TEST(SecondaryIndexFileTest, IndexesDeclaredLaterIndexTheItemsAlreadyThere) {
  testing::temp_dir dir;
  const std::string path = dir.file("store.db").string();
  const std::string keys = R"("TableName": "msgs",
      "KeySchema": [{"AttributeName": "room", "KeyType": "HASH"}, {"AttributeName": "ts", "KeyType": "RANGE"}])";
  {
    auto store = open_store(path, {testing::schema("{" + keys + R"(, "AttributeDefinitions": [
        {"AttributeName": "room", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"}]})")});
    for (const char* item : {R"({"room": {"S": "a"}, "ts": {"N": "1"}, "user": {"S": "u1"}})",
                             R"({"room": {"S": "b"}, "ts": {"N": "2"}, "user": {"S": "u1"}})",
                             R"({"room": {"S": "c"}, "ts": {"N": "3"}, "user": {"N": "7"}})",  // another type
                             R"({"room": {"S": "d"}, "ts": {"N": "4"}})"}) {
      ASSERT_EQ(testing::run(*store, "PutItem", R"({"TableName": "msgs", "Item": )" + std::string(item) + "}"), "{}");
    }
  }
  auto store = open_store(path, {testing::schema("{" + keys + R"(, "AttributeDefinitions": [
      {"AttributeName": "room", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"},
      {"AttributeName": "user", "AttributeType": "S"}],
      "GlobalSecondaryIndexes": [{"IndexName": "byUser", "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "KEYS_ONLY"}}]})")});
  EXPECT_EQ(testing::run(*store, "Scan", R"({"TableName": "msgs", "IndexName": "byUser"})"),
            R"({"Items":[{"room":{"S":"a"},"ts":{"N":"1"},"user":{"S":"u1"}},)"
            R"({"room":{"S":"b"},"ts":{"N":"2"},"user":{"S":"u1"}}],"Count":2,"ScannedCount":2})");
  // Deleting the table takes its index rows with it.
  ASSERT_NE(testing::run(*store, "DeleteTable", R"({"TableName": "msgs"})").find("DELETING"), std::string::npos);
  EXPECT_EQ(testing::run(*store, "CreateTable", "{" + keys + R"(, "BillingMode": "PAY_PER_REQUEST",
      "AttributeDefinitions": [{"AttributeName": "room", "AttributeType": "S"}, {"AttributeName": "ts", "AttributeType": "N"},
      {"AttributeName": "user", "AttributeType": "S"}],
      "GlobalSecondaryIndexes": [{"IndexName": "byUser", "KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}],
                                  "Projection": {"ProjectionType": "KEYS_ONLY"}}]})").find("ACTIVE") == std::string::npos,
            false);
  EXPECT_EQ(testing::run(*store, "Scan", R"({"TableName": "msgs", "IndexName": "byUser", "Select": "COUNT"})"),
            R"({"Count":0,"ScannedCount":0})");
}

}  // namespace
}  // namespace apigw::store
