// PutItem, GetItem, DeleteItem, UpdateItem, Query, Scan, BatchWriteItem, BatchGetItem,
// TransactWriteItems and TransactGetItems on :memory:, with DynamoDB's errors.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

using testing::open_store;

class ItemTablesTest : public ::testing::Test {
 protected:
  std::string call(std::string_view op, std::string_view json) { return testing::run(*store_, op, json); }

  // Puts a msgs item {room, ts, text}.
  void put_message(std::string_view room, std::string_view ts, std::string_view text = "hi") {
    std::string json = R"({"TableName": "msgs", "Item": {"room": {"S": ")" + std::string(room) +
                       R"("}, "ts": {"N": ")" + std::string(ts) + R"("}, "text": {"S": ")" + std::string(text) +
                       R"("}}})";
    ASSERT_EQ(call("PutItem", json), "{}");
  }

  // The payloads of ATTRIBUTE in the response's Items, in order.
  static std::vector<std::string> column(const std::string& response, const char* attribute) {
    rapidjson::Document d;
    d.Parse(response.c_str());
    std::vector<std::string> out;
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("Items")) {
      ADD_FAILURE() << "not a page: " << response;
      return out;
    }
    for (const auto& item : d["Items"].GetArray()) {
      auto it = item.FindMember(attribute);
      out.push_back(it == item.MemberEnd() ? "<none>" : it->value.MemberBegin()->value.GetString());
    }
    return out;
  }

  std::unique_ptr<session_store> store_ = open_store();
};

using strings = std::vector<std::string>;

TEST_F(ItemTablesTest, PutThenGetReturnsEveryTypeLosslessly) {
  const std::string item =
      R"({"connectionId":{"S":"abc="},"n":{"N":"1.50"},"b":{"B":"AAEC/w=="},"t":{"BOOL":true},)"
      R"("z":{"NULL":true},"l":{"L":[{"S":"x"},{"N":"-2"},{"L":[]}]},"m":{"M":{"k":{"SS":["a","b"]}}},)"
      R"("ss":{"SS":["x","y"]},"ns":{"NS":["1","2.5"]},"bs":{"BS":["AA==","AQ=="]},"u":{"S":"h\u00e9 \"q\""}})";
  EXPECT_EQ(call("PutItem", R"({"TableName": "conns", "Item": )" + item + "}"), "{}");
  std::string got = call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "abc="}}})");
  rapidjson::Document expected, actual;
  expected.Parse(("{\"Item\":" + item + "}").c_str());
  actual.Parse(got.c_str());
  EXPECT_TRUE(expected == actual) << got;
}

TEST_F(ItemTablesTest, GetOfAMissingItemIsAnEmptyResponse) {
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "nope"}}})"), "{}");
}

TEST_F(ItemTablesTest, PutReplacesTheWholeItem) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"S": "1"}}})");
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "y": {"S": "2"}}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"),
            R"({"Item":{"connectionId":{"S":"a"},"y":{"S":"2"}}})");
}

TEST_F(ItemTablesTest, GetProjectsTopLevelNames) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"S": "1"}, "name": {"S": "n"}}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
                               "ProjectionExpression": "x, #n", "ExpressionAttributeNames": {"#n": "name"}})"),
            R"({"Item":{"x":{"S":"1"},"name":{"S":"n"}}})");
}

TEST_F(ItemTablesTest, PutConditionsOnTheKey) {
  const std::string put_new =
      R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(connectionId) "})";
  EXPECT_EQ(call("PutItem", put_new), "{}");
  EXPECT_EQ(call("PutItem", put_new), "ConditionalCheckFailedException: The conditional request failed");

  const std::string put_existing =
      R"({"TableName": "conns", "Item": {"connectionId": {"S": "%"}, "v": {"N": "2"}},
          "ConditionExpression": "attribute_exists(#k) ", "ExpressionAttributeNames": {"#k": "connectionId"}})";
  std::string on_a = put_existing, on_b = put_existing;
  on_a.replace(on_a.find('%'), 1, "a");
  on_b.replace(on_b.find('%'), 1, "b");
  EXPECT_EQ(call("PutItem", on_a), "{}");
  EXPECT_EQ(call("PutItem", on_b), "ConditionalCheckFailedException: The conditional request failed");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "b"}}})"), "{}");
}

TEST_F(ItemTablesTest, ConditionsCombineAndCompare) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "v": {"N": "5"}, "s": {"S": "hello"}}})");
  struct test_case {
    std::string condition;
    bool passes;
  };
  const test_case cases[] = {
      {"v = :five", true},
      {"v = :s5", false},
      {"v <> :five", false},
      {"v < :ten", true},
      {"v >= :ten", false},
      {"begins_with(s, :he)", true},
      {"attribute_exists(v) AND attribute_not_exists(w)", true},
      {"attribute_exists(w) OR v > :ten", false},
      {"NOT (attribute_exists(w) OR v > :ten)", true},
      {"absent = :five", false},
  };
  for (const test_case& c : cases) {
    std::string values = R"({":five": {"N": "5.0"}, ":s5": {"S": "5"}, ":ten": {"N": "10"}, ":he": {"S": "he"}})";
    // Only the placeholders the condition uses may be passed.
    rapidjson::Document v;
    v.Parse(values.c_str());
    for (auto it = v.MemberBegin(); it != v.MemberEnd();) {
      if (c.condition.find(it->name.GetString()) == std::string::npos) {
        it = v.EraseMember(it);
      } else {
        ++it;
      }
    }
    rapidjson::Document req;
    req.Parse(R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET touched = :t",
                  "ExpressionAttributeValues": {":t": {"BOOL": true}}})");
    req.AddMember("ConditionExpression", rapidjson::Value(c.condition.c_str(), req.GetAllocator()), req.GetAllocator());
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      req["ExpressionAttributeValues"].AddMember(rapidjson::Value(it->name, req.GetAllocator()),
                                                 rapidjson::Value(it->value, req.GetAllocator()), req.GetAllocator());
    }
    dynamo_result r = store_->update_item(req);
    if (c.passes) {
      EXPECT_TRUE(r.ok()) << c.condition << ": " << r.to_json();
    } else {
      ASSERT_FALSE(r.ok()) << c.condition;
      EXPECT_EQ(r.error().type, "ConditionalCheckFailedException") << c.condition << ": " << r.error().message;
    }
  }
}

TEST_F(ItemTablesTest, PutAndDeleteReturnTheOldItemOnRequest) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "v": {"N": "1"}}})");
  EXPECT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "v": {"N": "2"}},
                               "ReturnValues": "ALL_OLD"})"),
            R"({"Attributes":{"connectionId":{"S":"a"},"v":{"N":"1"}}})");
  EXPECT_EQ(call("DeleteItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "ReturnValues": "ALL_OLD"})"),
            R"({"Attributes":{"connectionId":{"S":"a"},"v":{"N":"2"}}})");
  EXPECT_EQ(call("DeleteItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "ReturnValues": "ALL_OLD"})"),
            "{}");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"), "{}");
}

TEST_F(ItemTablesTest, DeleteChecksItsCondition) {
  const std::string del = R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
                              "ConditionExpression": "attribute_exists(connectionId) "})";
  EXPECT_EQ(call("DeleteItem", del), "ConditionalCheckFailedException: The conditional request failed");
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}}})");
  EXPECT_EQ(call("DeleteItem", del), "{}");
}

TEST_F(ItemTablesTest, UpdateSetsAddsAndRemoves) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "stale": {"S": "x"}, "count": {"N": "1"}}})");
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
      "UpdateExpression": "SET #n = :name, room = :room ADD #c :inc REMOVE stale",
      "ExpressionAttributeNames": {"#n": "name", "#c": "count"},
      "ExpressionAttributeValues": {":name": {"S": "ann"}, ":room": {"S": "lobby"}, ":inc": {"N": "2.5"}},
      "ReturnValues": "ALL_NEW"})"),
            R"({"Attributes":{"connectionId":{"S":"a"},"count":{"N":"3.5"},"name":{"S":"ann"},"room":{"S":"lobby"}}})");
}

TEST_F(ItemTablesTest, UpdateCreatesAMissingItem) {
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "msgs", "Key": {"room": {"S": "r"}, "ts": {"N": "7"}},
      "UpdateExpression": "ADD hits :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"})"),
            R"({"Attributes":{"room":{"S":"r"},"ts":{"N":"7"},"hits":{"N":"1"}}})");
}

TEST_F(ItemTablesTest, UpdateReturnValues) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "keep"}}})");
  const std::string update = R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
      "UpdateExpression": "SET x = x + :one, z = if_not_exists(z, :zero) ",
      "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}}, "ReturnValues": "%"})";
  struct test_case {
    std::string return_values;
    std::string response;
  };
  const test_case cases[] = {
      {"NONE", "{}"},
      {"UPDATED_OLD", R"({"Attributes":{"x":{"N":"2"},"z":{"N":"0"}}})"},
      {"UPDATED_NEW", R"({"Attributes":{"x":{"N":"4"},"z":{"N":"0"}}})"},
      {"ALL_OLD", R"({"Attributes":{"connectionId":{"S":"a"},"x":{"N":"4"},"y":{"S":"keep"},"z":{"N":"0"}}})"},
      {"ALL_NEW", R"({"Attributes":{"connectionId":{"S":"a"},"x":{"N":"6"},"y":{"S":"keep"},"z":{"N":"0"}}})"},
  };
  // The first update (NONE) sets x to 2 and creates z; each later one adds 1 more.
  for (const test_case& c : cases) {
    std::string req = update;
    req.replace(req.find('%'), 1, c.return_values);
    EXPECT_EQ(call("UpdateItem", req), c.response) << c.return_values;
  }
}

TEST_F(ItemTablesTest, UpdateAddsAndDeletesSetElements) {
  call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "tags": {"SS": ["x"]}, "ns": {"NS": ["1"]}}})");
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
      "UpdateExpression": "ADD tags :more, ns :n DELETE gone :g",
      "ExpressionAttributeValues": {":more": {"SS": ["x", "y"]}, ":n": {"NS": ["1.0", "2"]}, ":g": {"SS": ["q"]}},
      "ReturnValues": "UPDATED_NEW"})"),
            R"({"Attributes":{"tags":{"SS":["x","y"]},"ns":{"NS":["1","2"]}}})");
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
      "UpdateExpression": "DELETE tags :all", "ExpressionAttributeValues": {":all": {"SS": ["x", "y"]}},
      "ReturnValues": "ALL_NEW"})"),
            R"({"Attributes":{"connectionId":{"S":"a"},"ns":{"NS":["1","2"]}}})");
}

TEST_F(ItemTablesTest, UpdateChecksItsCondition) {
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
      "UpdateExpression": "SET x = :v", "ConditionExpression": "attribute_exists(connectionId) ",
      "ExpressionAttributeValues": {":v": {"S": "1"}}})"),
            "ConditionalCheckFailedException: The conditional request failed");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"), "{}");
}

TEST_F(ItemTablesTest, QueryOrdersNumericRangeKeysAndAppliesEachOperator) {
  for (std::string_view ts : {"10", "9", "-1", "2.5", "100", "0"}) put_message("lobby", ts);
  put_message("other", "5");
  struct test_case {
    std::string condition;
    std::string values;  // besides :room
    strings expected;
  };
  const test_case cases[] = {
      {"room = :room", "", {"-1", "0", "2.5", "9", "10", "100"}},
      {"room = :room AND ts = :a", R"(, ":a": {"N": "9.0"})", {"9"}},
      {"room = :room AND ts < :a", R"(, ":a": {"N": "9"})", {"-1", "0", "2.5"}},
      {"room = :room AND ts <= :a", R"(, ":a": {"N": "9"})", {"-1", "0", "2.5", "9"}},
      {"room = :room AND ts > :a", R"(, ":a": {"N": "9"})", {"10", "100"}},
      {"ts >= :a AND room = :room", R"(, ":a": {"N": "9"})", {"9", "10", "100"}},
      {"room = :room AND ts BETWEEN :a AND :b", R"(, ":a": {"N": "0"}, ":b": {"N": "10"})", {"0", "2.5", "9", "10"}},
  };
  for (const test_case& c : cases) {
    std::string req = R"({"TableName": "msgs", "KeyConditionExpression": ")" + c.condition +
                      R"(", "ExpressionAttributeValues": {":room": {"S": "lobby"})" + c.values + "}}";
    EXPECT_EQ(column(call("Query", req), "ts"), c.expected) << c.condition;
  }
  EXPECT_EQ(column(call("Query", R"({"TableName": "msgs", "KeyConditionExpression": "#r = :room AND #t BETWEEN :a AND :b",
      "ExpressionAttributeNames": {"#r": "room", "#t": "ts"},
      "ExpressionAttributeValues": {":room": {"S": "lobby"}, ":a": {"N": "-5"}, ":b": {"N": "1E1"}}})"), "ts"),
            (strings{"-1", "0", "2.5", "9", "10"}));
  EXPECT_EQ(column(call("Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :room",
      "ExpressionAttributeValues": {":room": {"S": "lobby"}}, "ScanIndexForward": false})"), "ts"),
            (strings{"100", "10", "9", "2.5", "0", "-1"}));
}

TEST_F(ItemTablesTest, QueryPagesWithLimitAndExclusiveStartKey) {
  for (std::string_view ts : {"1", "2", "3", "4", "5"}) put_message("lobby", ts);
  for (bool forward : {true, false}) {
    strings seen;
    std::string start;
    int pages = 0;
    while (true) {
      std::string req = R"({"TableName": "msgs", "KeyConditionExpression": "room = :room",
          "ExpressionAttributeValues": {":room": {"S": "lobby"}}, "Limit": 2, "ScanIndexForward": )" +
                        std::string(forward ? "true" : "false") + start + "}";
      std::string response = call("Query", req);
      ++pages;
      for (const std::string& ts : column(response, "ts")) seen.push_back(ts);
      rapidjson::Document d;
      d.Parse(response.c_str());
      if (!d.HasMember("LastEvaluatedKey")) break;
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      d["LastEvaluatedKey"].Accept(w);
      start = std::string(R"(, "ExclusiveStartKey": )") + buf.GetString();
      ASSERT_LT(pages, 10);
    }
    // Limit 2 over 5 items: pages of 2, 2 and 1.
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, forward ? (strings{"1", "2", "3", "4", "5"}) : (strings{"5", "4", "3", "2", "1"}));
  }
}

TEST_F(ItemTablesTest, QueryBeginsWithOnStringAndBinaryKeys) {
  for (std::string_view r : {"a", "ab", "abc", "abd", "b", "a\xff", "ac"}) {
    std::string json = R"({"TableName": "blobs", "Item": {"k": {"B": "AAE="}, "r": {"S": ")" + std::string(r) + R"("}}})";
    // "a\xff" is not UTF-8: RapidJSON does not validate by default, and DynamoDB keys are bytes.
    ASSERT_EQ(call("PutItem", json), "{}");
  }
  EXPECT_EQ(column(call("Query", R"({"TableName": "blobs", "KeyConditionExpression": "k = :k AND begins_with(r, :p) ",
      "ExpressionAttributeValues": {":k": {"B": "AAE="}, ":p": {"S": "ab"}}})"), "r"),
            (strings{"ab", "abc", "abd"}));
  EXPECT_EQ(column(call("Query", R"({"TableName": "blobs", "KeyConditionExpression": "k = :k AND begins_with(r, :p) ",
      "ExpressionAttributeValues": {":k": {"B": "AAE="}, ":p": {"S": "a"}}, "ScanIndexForward": false})"), "r"),
            (strings{"a\xff", "ac", "abd", "abc", "ab", "a"}));
  EXPECT_EQ(column(call("Query", R"({"TableName": "blobs", "KeyConditionExpression": "k = :k",
      "ExpressionAttributeValues": {":k": {"B": "AAI="}}})"), "r"),
            strings{});
}

TEST_F(ItemTablesTest, QueryFiltersAndCounts) {
  put_message("lobby", "1", "keep");
  put_message("lobby", "2", "drop");
  put_message("lobby", "3", "keep");
  EXPECT_EQ(call("Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :room",
      "FilterExpression": "#t = :keep", "ExpressionAttributeNames": {"#t": "text"},
      "ExpressionAttributeValues": {":room": {"S": "lobby"}, ":keep": {"S": "keep"}}, "Select": "COUNT"})"),
            R"({"Count":2,"ScannedCount":3})");
}

TEST_F(ItemTablesTest, ScanPagesInKeyOrderAndProjects) {
  for (std::string_view id : {"c", "a", "b"}) {
    call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": ")" + std::string(id) +
                        R"("}, "x": {"N": "1"}, "y": {"N": "2"}}})");
  }
  EXPECT_EQ(call("Scan", R"({"TableName": "conns", "ProjectionExpression": "connectionId, y", "Limit": 2})"),
            R"({"Items":[{"connectionId":{"S":"a"},"y":{"N":"2"}},{"connectionId":{"S":"b"},"y":{"N":"2"}}],)"
            R"("Count":2,"ScannedCount":2,"LastEvaluatedKey":{"connectionId":{"S":"b"}}})");
  EXPECT_EQ(call("Scan", R"({"TableName": "conns", "ProjectionExpression": "x", "Limit": 2,
                            "ExclusiveStartKey": {"connectionId": {"S": "b"}}})"),
            R"({"Items":[{"x":{"N":"1"}}],"Count":1,"ScannedCount":1})");
  EXPECT_EQ(call("Scan", R"({"TableName": "msgs"})"), R"({"Items":[],"Count":0,"ScannedCount":0})");
}

TEST_F(ItemTablesTest, AcceptsTheXAmzTargetOperationName) {
  EXPECT_EQ(call("DynamoDB_20120810.PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}}})"), "{}");
  EXPECT_EQ(call("DescribeBackup", "{}"),
            "UnknownOperationException: The emulator's store supports PutItem, GetItem, DeleteItem, UpdateItem, "
            "Query, Scan, BatchWriteItem, BatchGetItem, TransactWriteItems, TransactGetItems, CreateTable, "
            "DeleteTable, DescribeTable, UpdateTable, ListTables, UpdateTimeToLive and DescribeTimeToLive, not "
            "DescribeBackup");
  EXPECT_EQ(call("GetItem", "{not json"), "SerializationException: The request is not JSON: Missing a name for object member. at offset 1");
}

TEST_F(ItemTablesTest, BatchWriteItemPutsAndDeletesAcrossTables) {
  put_message("lobby", "1");
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {
      "conns": [{"PutRequest": {"Item": {"connectionId": {"S": "a"}, "n": {"N": "1"}}}},
                {"PutRequest": {"Item": {"connectionId": {"S": "b"}}}}],
      "msgs": [{"DeleteRequest": {"Key": {"room": {"S": "lobby"}, "ts": {"N": "1"}}}},
               {"PutRequest": {"Item": {"room": {"S": "lobby"}, "ts": {"N": "2"}, "text": {"S": "yo"}}}}]}})"),
            R"({"UnprocessedItems":{}})");
  EXPECT_EQ(column(call("Scan", R"({"TableName": "conns"})"), "connectionId"), (strings{"a", "b"}));
  EXPECT_EQ(column(call("Scan", R"({"TableName": "msgs"})"), "text"), (strings{"yo"}));
}

TEST_F(ItemTablesTest, BatchWriteItemRefusesTheWholeBatchAsDynamoDbDoes) {
  const auto one_put = [](const std::string& id) {
    return R"({"PutRequest": {"Item": {"connectionId": {"S": ")" + id + R"("}}}})";
  };
  std::string many;
  for (int i = 0; i < 26; ++i) many += (i ? "," : "") + one_put("c" + std::to_string(i));
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {"conns": [)" + many + "]}}"),
            "ValidationException: Too many items requested for the BatchWriteItem call");
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {"conns": [)" + one_put("a") + "," + one_put("a") + "]}}"),
            "ValidationException: Provided list of item keys contains duplicates");
  // A bad entry anywhere fails the batch before anything is written.
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {"conns": [)" + one_put("a") +
                                       R"(], "msgs": [{"PutRequest": {"Item": {"room": {"S": "x"}}}}]}})"),
            "ValidationException: One or more parameter values were invalid: Missing the key ts in the item");
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {"conns": [)" + one_put("a") + R"(], "nope": [)" +
                                       one_put("b") + "]}}"),
            "ResourceNotFoundException: Requested resource not found");
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {"conns": [{"PutRequest": {"Item": {"connectionId": {"S": "a"}}},
                                       "DeleteRequest": {"Key": {"connectionId": {"S": "a"}}}}]}})"),
            "ValidationException: Supplied WriteRequest must have exactly one of PutRequest or DeleteRequest, in table "
            "conns");
  EXPECT_EQ(call("BatchWriteItem", R"({"RequestItems": {}})"),
            "ValidationException: 1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
  EXPECT_EQ(call("Scan", R"({"TableName": "conns"})"), R"({"Items":[],"Count":0,"ScannedCount":0})");
}

TEST_F(ItemTablesTest, BatchGetItemReadsKeysOfSeveralTablesWithTheirProjections) {
  put_message("lobby", "1", "hello");
  put_message("lobby", "2", "again");
  ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "n": {"N": "7"}}})"), "{}");
  EXPECT_EQ(call("BatchGetItem", R"({"RequestItems": {
      "msgs": {"Keys": [{"room": {"S": "lobby"}, "ts": {"N": "2"}}, {"room": {"S": "lobby"}, "ts": {"N": "9"}}],
               "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "text"}},
      "conns": {"Keys": [{"connectionId": {"S": "a"}}], "ConsistentRead": true}}})"),
            R"({"Responses":{"msgs":[{"text":{"S":"again"}}],"conns":[{"connectionId":{"S":"a"},"n":{"N":"7"}}]},)"
            R"("UnprocessedKeys":{}})");
  EXPECT_EQ(call("BatchGetItem", R"({"RequestItems": {"conns": {"Keys": [{"connectionId": {"S": "a"}},
                                                                          {"connectionId": {"S": "a"}}]}}})"),
            "ValidationException: Provided list of item keys contains duplicates");
  std::string keys;
  for (int i = 0; i < 101; ++i) keys += std::string(i ? "," : "") + R"({"connectionId": {"S": "k)" + std::to_string(i) + R"("}})";
  EXPECT_EQ(call("BatchGetItem", R"({"RequestItems": {"conns": {"Keys": [)" + keys + "]}}}"),
            "ValidationException: Too many items requested for the BatchGetItem call");
  EXPECT_EQ(call("BatchGetItem", R"({"RequestItems": {"conns": {"Keys": [{"connectionId": {"S": "a"}}],
                                                                "ExpressionAttributeNames": {"#x": "n"}}}})"),
            "ValidationException: Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}");
}

// Every error a handler can meet, with DynamoDB's wording.
TEST_F(ItemTablesTest, ReportsDynamoDbErrors) {
  struct test_case {
    std::string operation;
    std::string request;
    std::string error;
  };
  const std::string v = "ValidationException: ";
  const test_case cases[] = {
      {"GetItem", R"({"TableName": "nope", "Key": {"id": {"S": "a"}}})",
       "ResourceNotFoundException: Requested resource not found"},
      {"PutItem", R"({"Item": {"connectionId": {"S": "a"}}})",
       v + "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"},
      {"PutItem", R"({"TableName": "conns"})",
       v + "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null"},
      {"GetItem", R"({"TableName": "conns"})",
       v + "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null"},
      {"PutItem", R"({"TableName": "conns", "Item": {"other": {"S": "a"}}})",
       v + "One or more parameter values were invalid: Missing the key connectionId in the item"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"N": "1"}}})",
       v + "One or more parameter values were invalid: Type mismatch for key connectionId expected: S actual: N"},
      {"PutItem", R"({"TableName": "msgs", "Item": {"room": {"S": "r"}, "ts": {"S": "1"}}})",
       v + "One or more parameter values were invalid: Type mismatch for key ts expected: N actual: S"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": ""}}})",
       v + "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
           "empty string value. Key: connectionId"},
      {"GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"N": "1"}}})",
       v + "The provided key element does not match the schema"},
      {"GetItem", R"({"TableName": "conns", "Key": {"id": {"S": "a"}}})",
       v + "The provided key element does not match the schema"},
      {"GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}, "x": {"S": "b"}}})",
       v + "The provided key element does not match the schema"},
      {"DeleteItem", R"({"TableName": "msgs", "Key": {"room": {"S": "a"}}})",
       v + "The provided key element does not match the schema"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {}}})",
       v + "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"S": "a", "N": "1"}}})",
       v + "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"N": "one"}}})",
       v + "The parameter cannot be converted to a numeric value"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"SS": []}}})",
       v + "One or more parameter values were invalid: An string set  may not be empty"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"SS": ["a", "a"]}}})",
       v + "One or more parameter values were invalid: Input collection [a, a] contains duplicates."},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "x": {"NULL": false}}})",
       v + "One or more parameter values were invalid: Null attribute value types must have the value of true"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}}, "ReturnValues": "ALL_NEW"})",
       v + "ReturnValues can only be ALL_OLD or NONE"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}},
                      "ConditionExpression": "attribute_not_exists(#k) "})",
       v + "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
           "attribute name: #k"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}},
                      "ConditionExpression": "attribute_not_exists(connectionId) ", "ExpressionAttributeValues": {":x": {"S": "1"}}})",
       v + "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}},
                      "ConditionExpression": "attribute_not_exists(connectionId) ", "ExpressionAttributeNames": {"#x": "y"}})",
       v + "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"},
      {"PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}},
                      "ConditionExpression": "attribute_not_exists(connectionId", "ExpressionAttributeNames": {"#x": "y"}})",
       v + "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"connectionId\""},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET x = :v"})",
       v + "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :v"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET = :v",
                         "ExpressionAttributeValues": {":v": {"S": "1"}}})",
       v + "Invalid UpdateExpression: Syntax error; token: \"=\", near: \"SET = :v\""},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET connectionId = :v",
                         "ExpressionAttributeValues": {":v": {"S": "1"}}})",
       v + "One or more parameter values were invalid: Cannot update attribute connectionId. This attribute is part of the key"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "ADD x :v",
                         "ExpressionAttributeValues": {":v": {"S": "1"}}})",
       v + "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET x = y + :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "The provided expression refers to an attribute that does not exist in the item"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET x = :v, x = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
           "paths; path one: [x], path two: [x]"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET x = :v SET y = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET a.b = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "The document path provided in the update expression is invalid for update"},
      {"UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}, "UpdateExpression": "SET x = :v",
                         "ExpressionAttributeValues": {":v": {"N": "1"}}, "ReturnValues": "ALL"})",
       v + "1 validation error detected: Value 'ALL' at 'returnValues' failed to satisfy constraint: Member must "
           "satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"},
      {"Query", R"({"TableName": "msgs", "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "ts = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}})",
       v + "Query condition missed key schema element: room"},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :r AND unrelated = :v",
                    "ExpressionAttributeValues": {":r": {"S": "x"}, ":v": {"N": "1"}}})",
       v + "Query condition missed key schema element: ts"},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "room < :r", "ExpressionAttributeValues": {":r": {"S": "x"}}})",
       v + "Query key condition not supported"},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :r", "ExpressionAttributeValues": {":r": {"N": "1"}}})",
       v + "One or more parameter values were invalid: Condition parameter type does not match schema type"},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :r AND begins_with(ts, :p) ",
                    "ExpressionAttributeValues": {":r": {"S": "x"}, ":p": {"N": "1"}}})",
       v + "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
           "begins_with, operand type: N"},
      {"Query", R"({"TableName": "msgs", "KeyConditionExpression": "room = :r", "Limit": 0,
                    "ExpressionAttributeValues": {":r": {"S": "x"}}})",
       v + "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value "
           "greater than or equal to 1"},
      {"Scan", R"({"TableName": "msgs", "ExclusiveStartKey": {"room": {"S": "x"}}})",
       v + "The provided starting key is invalid: The provided key element does not match the schema"},
      {"Scan", R"({"TableName": "conns", "ProjectionExpression": ""})",
       v + "Invalid ProjectionExpression: The expression can not be empty;"},
  };
  for (const test_case& c : cases) {
    EXPECT_EQ(call(c.operation, c.request), c.error) << c.operation << " " << c.request;
  }
}

}  // namespace
}  // namespace apigw::store

namespace apigw::store {
namespace {

// ---- Transactions ----

// The whole answer, error members included (CancellationReasons, Item).
class TransactionsTest : public ItemTablesTest {
 protected:
  std::string full(std::string_view op, std::string_view json) { return store_->call_json(op, json).to_json(); }
};

constexpr const char* kCanceledTransaction = R"j({"TransactItems": [
    {"Put": {"TableName": "conns", "Item": {"connectionId": {"S": "new"}}}},
    {"Update": {"TableName": "msgs", "Key": {"room": {"S": "lobby"}, "ts": {"N": "1"}},
                "UpdateExpression": "SET #t = :t", "ExpressionAttributeNames": {"#t": "text"},
                "ExpressionAttributeValues": {":t": {"S": "edited"}}}},
    {"ConditionCheck": {"TableName": "conns", "Key": {"connectionId": {"S": "old"}},
                        "ConditionExpression": "attribute_not_exists(connectionId)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]})j";

TEST_F(TransactionsTest, AFailedConditionCancelsEveryActionWithAReasonForEach) {
  put_message("lobby", "1", "first");
  ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "old"}, "n": {"N": "7"}}})"), "{}");
  EXPECT_EQ(full("TransactWriteItems", kCanceledTransaction),
            R"({"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",)"
            R"("message":"Transaction cancelled, please refer cancellation reasons for specific reasons )"
            R"([None, None, ConditionalCheckFailed]","CancellationReasons":[{"Code":"None"},{"Code":"None"},)"
            R"({"Code":"ConditionalCheckFailed","Message":"The conditional request failed",)"
            R"("Item":{"connectionId":{"S":"old"},"n":{"N":"7"}}}]})");
  // Nothing was written.
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "new"}}})"), "{}");
  EXPECT_EQ(call("GetItem", R"({"TableName": "msgs", "Key": {"room": {"S": "lobby"}, "ts": {"N": "1"}},
                               "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "text"}})"),
            R"({"Item":{"text":{"S":"first"}}})");

  // Once the condition holds, every action is done.
  ASSERT_EQ(call("DeleteItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "old"}}})"), "{}");
  EXPECT_EQ(full("TransactWriteItems", kCanceledTransaction), "{}");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "new"}}})"),
            R"({"Item":{"connectionId":{"S":"new"}}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "msgs", "Key": {"room": {"S": "lobby"}, "ts": {"N": "1"}},
                               "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "text"}})"),
            R"({"Item":{"text":{"S":"edited"}}})");
}

TEST_F(TransactionsTest, AnInvalidActionFailsTheWholeRequestAndWritesNothing) {
  EXPECT_EQ(call("TransactWriteItems", R"({"TransactItems": [
      {"Put": {"TableName": "conns", "Item": {"connectionId": {"S": "a"}}}},
      {"Update": {"TableName": "conns", "Key": {"connectionId": {"S": "b"}}, "UpdateExpression": "SET"}}]})"),
            "ValidationException: Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\"");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"), "{}");
}

TEST_F(TransactionsTest, RefusesTwoActionsOnOneItemAndMalformedEntries) {
  const std::string twice = R"({"TransactItems": [
      {"Put": {"TableName": "conns", "Item": {"connectionId": {"S": "a"}}}},
      {"Delete": {"TableName": "conns", "Key": {"connectionId": {"S": "a"}}}}]})";
  EXPECT_EQ(call("TransactWriteItems", twice),
            "ValidationException: Transaction request cannot include multiple operations on one item");
  EXPECT_EQ(call("TransactWriteItems", R"({"TransactItems": [{"Put": {}, "Delete": {}}]})"),
            "ValidationException: TransactItems can only contain one of ConditionCheck, Put, Update or Delete");
  EXPECT_EQ(call("TransactWriteItems", R"({"TransactItems": []})"),
            "ValidationException: 1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1");
  EXPECT_EQ(call("TransactWriteItems", R"({"TransactItems": [{"ConditionCheck": {"TableName": "conns",
      "Key": {"connectionId": {"S": "a"}}}}]})"),
            "ValidationException: 1 validation error detected: Value null at 'conditionExpression' failed to satisfy "
            "constraint: Member must not be null");
  std::string many = R"({"TransactItems": [)";
  for (int i = 0; i < 101; ++i) {
    many += std::string(i ? "," : "") + R"({"Put": {"TableName": "conns", "Item": {"connectionId": {"S": "c)" +
            std::to_string(i) + R"("}}}})";
  }
  EXPECT_EQ(call("TransactWriteItems", many + "]}"),
            "ValidationException: 1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
            "Member must have length less than or equal to 100");
  EXPECT_EQ(call("TransactGetItems", R"({"TransactItems": [{"Put": {}}]})"),
            "ValidationException: TransactItems can only contain Get");
}

TEST_F(TransactionsTest, AClientRequestTokenMakesTheRequestIdempotent) {
  const std::string add = R"({"ClientRequestToken": "token-1", "TransactItems": [
      {"Update": {"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
                  "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}]})";
  EXPECT_EQ(call("TransactWriteItems", add), "{}");
  EXPECT_EQ(call("TransactWriteItems", add), "{}");  // answered again, not applied again
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"),
            R"({"Item":{"connectionId":{"S":"a"},"n":{"N":"1"}}})");
  std::string other = add;
  other.replace(other.find(R"("N": "1")"), 8, R"("N": "2")");
  EXPECT_EQ(call("TransactWriteItems", other),
            "IdempotentParameterMismatchException: The request uses the same client token as a previous, but "
            "non-identical request.");
}

TEST_F(TransactionsTest, TransactGetItemsAnswersInOrderWithAnEmptyObjectForAMissingItem) {
  put_message("lobby", "1", "first");
  EXPECT_EQ(call("TransactGetItems", R"({"TransactItems": [
      {"Get": {"TableName": "conns", "Key": {"connectionId": {"S": "none"}}}},
      {"Get": {"TableName": "msgs", "Key": {"room": {"S": "lobby"}, "ts": {"N": "1"}},
               "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "text"}}}]})"),
            R"({"Responses":[{},{"Item":{"text":{"S":"first"}}}]})");
}

TEST_F(TransactionsTest, ASingleWritesFailedConditionCanReturnTheItem) {
  ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "n": {"N": "1"}}})"), "{}");
  EXPECT_EQ(full("PutItem", R"j({"TableName": "conns", "Item": {"connectionId": {"S": "a"}},
                               "ConditionExpression": "attribute_not_exists(connectionId)",
                               "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})j"),
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed","Item":{"connectionId":{"S":"a"},"n":{"N":"1"}}})");
  EXPECT_EQ(full("DeleteItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
                                  "ConditionExpression": "n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}}})"),
            R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
            R"("message":"The conditional request failed"})");
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}},
                                  "UpdateExpression": "SET n = :two", "ExpressionAttributeValues": {":two": {"N": "2"}},
                                  "ReturnValuesOnConditionCheckFailure": "ALL_NEW"})"),
            "ValidationException: 1 validation error detected: Value 'ALL_NEW' at "
            "'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: "
            "[ALL_OLD, NONE]");
}

}  // namespace
}  // namespace apigw::store

namespace apigw::store {
namespace {

// ---- ReturnConsumedCapacity ----

TEST_F(ItemTablesTest, ReturnConsumedCapacityIsAnsweredWithDynamoDbsUnits) {
  const std::string big(3000, 'x');  // a 3 KB item: 3 write units, 1 read unit (4 KB)
  EXPECT_EQ(call("PutItem", R"({"TableName": "conns", "ReturnConsumedCapacity": "TOTAL",
                              "Item": {"connectionId": {"S": "a"}, "text": {"S": ")" + big + R"("}}})"),
            R"({"ConsumedCapacity":{"TableName":"conns","CapacityUnits":3.0}})");
  EXPECT_EQ(call("PutItem", R"({"TableName": "conns", "ReturnConsumedCapacity": "INDEXES",
                              "Item": {"connectionId": {"S": "b"}}})"),
            R"({"ConsumedCapacity":{"TableName":"conns","CapacityUnits":1.0,"Table":{"CapacityUnits":1.0}}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "ReturnConsumedCapacity": "TOTAL", "ProjectionExpression": "connectionId",
                              "Key": {"connectionId": {"S": "b"}}})"),
            R"({"Item":{"connectionId":{"S":"b"}},"ConsumedCapacity":{"TableName":"conns","CapacityUnits":0.5}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "ReturnConsumedCapacity": "TOTAL", "ConsistentRead": true,
                              "ProjectionExpression": "connectionId", "Key": {"connectionId": {"S": "b"}}})"),
            R"({"Item":{"connectionId":{"S":"b"}},"ConsumedCapacity":{"TableName":"conns","CapacityUnits":1.0}})");
  EXPECT_EQ(call("Scan", R"({"TableName": "conns", "ReturnConsumedCapacity": "TOTAL", "Select": "COUNT"})"),
            R"({"Count":2,"ScannedCount":2,"ConsumedCapacity":{"TableName":"conns","CapacityUnits":0.5}})");
  EXPECT_EQ(call("BatchWriteItem", R"({"ReturnConsumedCapacity": "TOTAL", "RequestItems": {
                   "conns": [{"DeleteRequest": {"Key": {"connectionId": {"S": "a"}}}}],
                   "msgs": [{"PutRequest": {"Item": {"room": {"S": "r"}, "ts": {"N": "1"}}}}]}})"),
            R"({"UnprocessedItems":{},"ConsumedCapacity":[{"TableName":"conns","CapacityUnits":1.0},)"
            R"({"TableName":"msgs","CapacityUnits":1.0}]})");
  EXPECT_EQ(call("TransactWriteItems", R"({"ReturnConsumedCapacity": "TOTAL", "TransactItems": [
                   {"Put": {"TableName": "conns", "Item": {"connectionId": {"S": "c"}}}},
                   {"Delete": {"TableName": "conns", "Key": {"connectionId": {"S": "b"}}}}]})"),
            R"({"ConsumedCapacity":[{"TableName":"conns","CapacityUnits":4.0}]})");
  EXPECT_EQ(call("PutItem", R"({"TableName": "conns", "ReturnConsumedCapacity": "ALL",
                              "Item": {"connectionId": {"S": "d"}}})"),
            "ValidationException: 1 validation error detected: Value 'ALL' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "d"}}})"), "{}");  // not written
}

}  // namespace
}  // namespace apigw::store

namespace apigw::store {
namespace {

// ---- Time to live ----

TEST_F(ItemTablesTest, TimeToLiveDeletesExpiredItemsOnlyOnceEnabled) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const auto put = [&](const std::string& id, long long expires) {
    ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": ")" + id +
                                  R"("}, "exp": {"N": ")" + std::to_string(expires) + R"("}}})"), "{}");
  };
  put("past", now - 60);
  put("future", now + 3600);
  put("ancient", now - 6LL * 365 * 24 * 3600);  // DynamoDB leaves items over five years past
  ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "text"}, "exp": {"S": "1"}}})"), "{}");
  EXPECT_EQ(call("DescribeTimeToLive", R"({"TableName": "conns"})"),
            R"({"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}})");
  EXPECT_EQ(column(call("Scan", R"({"TableName": "conns"})"), "connectionId").size(), 4u);  // off: all stay

  EXPECT_EQ(call("UpdateTimeToLive", R"({"TableName": "conns", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})"),
            R"({"TimeToLiveSpecification":{"Enabled":true,"AttributeName":"exp"}})");
  EXPECT_EQ(call("DescribeTimeToLive", R"({"TableName": "conns"})"),
            R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"exp"}})");
  std::vector<std::string> ids = column(call("Scan", R"({"TableName": "conns"})"), "connectionId");
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (strings{"ancient", "future", "text"}));
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "past"}}})"), "{}");

  EXPECT_EQ(call("UpdateTimeToLive", R"({"TableName": "conns", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})"),
            "ValidationException: TimeToLive is already enabled");
  EXPECT_EQ(call("UpdateTimeToLive", R"({"TableName": "nope", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})"),
            "ResourceNotFoundException: Requested resource not found: Table: nope not found");
  EXPECT_EQ(call("UpdateTimeToLive", R"({"TableName": "conns", "TimeToLiveSpecification": {"Enabled": false, "AttributeName": "exp"}})"),
            R"({"TimeToLiveSpecification":{"Enabled":false,"AttributeName":"exp"}})");
  put("past2", now - 60);
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "past2"}}, "ProjectionExpression": "connectionId"})"),
            R"({"Item":{"connectionId":{"S":"past2"}}})");  // off again: it stays
}

}  // namespace
}  // namespace apigw::store
