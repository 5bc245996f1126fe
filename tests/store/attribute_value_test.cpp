// Attribute values in their JSON form: DynamoDB's nesting limit, and that every function walking
// a checked value copes with the deepest value the check lets through.
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "store/attribute_value.hpp"

namespace apigw::store {
namespace {

// LEVELS lists or maps around {"S": "x"}, alternating: {"L":[{"M":{"k":{"L":[...]}}}]}.
// Built in linear time: a test nests hundreds of thousands of levels.
std::string nested(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += i % 2 == 0 ? R"({"L":[)" : R"({"M":{"k":)";
  out += R"({"S":"x"})";
  for (int i = levels - 1; i >= 0; --i) out += i % 2 == 0 ? "]}" : "}}";
  return out;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  EXPECT_FALSE(d.HasParseError()) << json.substr(0, 80);
  return d;
}

TEST(AttributeValueTest, AcceptsThirtyTwoLevelsOfNesting) {
  const rapidjson::Document value = parse(nested(32));
  EXPECT_TRUE(check_attribute_value(value).is_ok());
  EXPECT_TRUE(values_equal(value, value));
  rapidjson::Document item;
  item.SetObject();
  item.AddMember("a", rapidjson::Value(value, item.GetAllocator()), item.GetAllocator());
  EXPECT_GT(item_size(item), 32u);
}

TEST(AttributeValueTest, RefusesDeeperNestingWithDynamoDbsMessage) {
  for (int levels : {33, 34, 100}) {
    SCOPED_TRACE(levels);
    auto s = check_attribute_value(parse(nested(levels)));
    ASSERT_FALSE(s.is_ok());
    EXPECT_EQ(s.error(), "Nesting Levels have exceeded supported limits");
  }
}

// Before the limit, checking recursed once per level without bound, so a value nested deeply
// enough (in a handler's PutItem, say) overflowed the thread's stack.
TEST(AttributeValueTest, RefusesAVeryDeepValueWithoutExhaustingTheStack) {
  const rapidjson::Document value = parse(nested(300000));
  auto s = check_attribute_value(value);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.error(), "Nesting Levels have exceeded supported limits");
}

TEST(AttributeValueTest, ReportsAnInvalidValueInsideAListBeforeTheLimit) {
  auto s = check_attribute_value(parse(R"({"L":[{"N":"x"}]})"));
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.error(), "The parameter cannot be converted to a numeric value");
}

// Found by fuzz_dynamodb_json: a map with a key twice passed the check, and then was not equal
// to itself (values_equal looked each key up in the other map and found the first twin).
TEST(AttributeValueTest, RefusesAMapWithAKeyTwice) {
  const rapidjson::Document value = parse(R"({"M":{"a":{"S":"1"},"b":{"N":"2"},"a":{"S":"3"}}})");
  auto s = check_attribute_value(value);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.error(), "Supplied AttributeValue has an invalid M: the key a appears more than once");
  const rapidjson::Document inner = parse(R"({"L":[{"M":{"k":{"NULL":true},"k":{"NULL":true}}}]})");
  EXPECT_FALSE(check_attribute_value(inner).is_ok());
  const rapidjson::Document unique = parse(R"({"M":{"a":{"S":"1"},"b":{"M":{"a":{"S":"1"}}}}})");
  EXPECT_TRUE(check_attribute_value(unique).is_ok());
  EXPECT_TRUE(values_equal(unique, unique));
}

}  // namespace
}  // namespace apigw::store
