// The expression grammar, table-driven, through the store's requests: each FilterExpression
// against one item (does it match, or which ValidationException), each UpdateExpression on a
// fresh copy of that item (what it becomes, or which error), each KeyConditionExpression on a
// room of messages. The ExpressionAttributeValues of a row are those its expression names, from
// one shared dictionary (DynamoDB refuses unused ones).
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

using testing::open_store;

const std::map<std::string, std::string, std::less<>> kValues = {
    {":one", R"({"N": "1"})"},      {":two", R"({"N": "2"})"},       {":five", R"({"N": "5"})"},
    {":six", R"({"N": "6"})"},      {":seven", R"({"N": "7"})"},     {":hello", R"({"S": "hello"})"},
    {":he", R"({"S": "he"})"},      {":ell", R"({"S": "ell"})"},     {":a", R"({"S": "a"})"},
    {":z", R"({"S": "z"})"},        {":SS", R"({"S": "SS"})"},       {":S", R"({"S": "S"})"},
    {":STRING", R"({"S": "STRING"})"}, {":la", R"({"L": [{"N": "2"}]})"}, {":ns3", R"({"NS": ["3"]})"},
    {":ssa", R"({"SS": ["a"]})"},   {":t", R"({"BOOL": true})"},    {":v", R"({"S": "v"})"},
    {":N", R"({"S": "N"})"},
};

// The item every row starts from.
constexpr std::string_view kItem =
    R"({"connectionId": {"S": "x"}, "s": {"S": "hello"}, "n": {"N": "5"}, "l": {"L": [{"N": "1"}, {"S": "a"}]},)"
    R"( "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "m": {"M": {"k": {"S": "v"}}}, "yes": {"BOOL": true},)"
    R"( "nul": {"NULL": true}})";

// ,"ExpressionAttributeValues": {...} with the placeholders EXPRESSION uses ("" when none).
std::string values_for(std::string_view expression) {
  std::string out;
  for (std::size_t i = expression.find(':'); i != std::string_view::npos; i = expression.find(':', i + 1)) {
    std::size_t end = i + 1;
    while (end < expression.size() && (std::isalnum(static_cast<unsigned char>(expression[end])) || expression[end] == '_')) {
      ++end;
    }
    const std::string name(expression.substr(i, end - i));
    const auto v = kValues.find(name);
    if (v == kValues.end() || out.find("\"" + name + "\"") != std::string::npos) continue;
    out += (out.empty() ? "" : ", ") + ("\"" + name + "\": " + v->second);
  }
  return out.empty() ? "" : R"(, "ExpressionAttributeValues": {)" + out + "}";
}

class ExpressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": )" + std::string(kItem) + "}"), "{}");
  }
  std::string call(std::string_view op, const std::string& json) { return testing::run(*store_, op, json); }

  std::unique_ptr<session_store> store_ = open_store();
};

TEST_F(ExpressionTest, Conditions) {
  struct row {
    std::string expression;
    std::string outcome;  // "match", "no match", or the error
  };
  const std::vector<row> rows = {
      {"n = :five", "match"},
      {"n <> :five", "no match"},
      {"n < :six AND n <= :five AND n > :one AND n >= :five", "match"},
      {"s = :five", "no match"},  // another type is not equal
      {"s < :five", "no match"},  // nor ordered
      {"absent <> :one", "match"},
      {"n BETWEEN :one AND :six", "match"},
      {"n BETWEEN :six AND :seven", "no match"},
      {"n BETWEEN :five AND :five", "match"},
      {"n BETWEEN :six AND :one",
       "Invalid FilterExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower "
       "bound; lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {N:1}"},
      {"n BETWEEN :one AND :hello",
       "Invalid FilterExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower "
       "bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:hello}"},
      {"n IN (:one, :five)", "match"},
      {"n IN (:one)", "no match"},
      {"s IN (:hello, :one)", "match"},
      {"begins_with(s, :he)", "match"},
      {"begins_with(s, :ell)", "no match"},
      {"contains(s, :ell)", "match"},
      {"contains(ss, :a)", "match"},
      {"contains(ss, :z)", "no match"},
      {"contains(ns, :two)", "match"},
      {"contains(l, :a)", "match"},
      {"contains(l, :one)", "match"},
      {"contains(l, :z)", "no match"},
      {"contains(n, :five)", "no match"},
      {"size(s) = :five", "match"},
      {"size(ss) = :two", "match"},
      {"size(l) > :one", "match"},
      {"size(m) = :one", "match"},
      {"size(n) = :one", "no match"},
      {"size(absent) >= :one", "no match"},
      {"size(s) BETWEEN :one AND :five", "match"},
      {"attribute_type(ss, :SS)", "match"},
      {"attribute_type(n, :S)", "no match"},
      {"attribute_type(absent, :S)", "no match"},
      {"attribute_exists(m) AND attribute_not_exists(zz)", "match"},
      {"attribute_exists(nul) AND yes = :t", "match"},
      {"(n = :one OR n = :five) AND s = :hello", "match"},
      {"n = :one OR n = :two OR NOT s = :hello", "no match"},
      {"NOT (n = :five)", "no match"},
      {"NOT NOT n = :five", "match"},
      {"n between :one and :six", "match"},  // keywords in any case
      {"n BETWEEN :one", "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \":one\""},
      {"n IN ()", "Invalid FilterExpression: Syntax error; token: \")\", near: \"()\""},
      {"n = ", "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \"= \""},
      {"(n = :one", "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \":one\""},
      {"n == :one", "Invalid FilterExpression: Syntax error; token: \"=\", near: \"== :one\""},
      {"foo(n)", "Invalid FilterExpression: Invalid function name; function: foo"},
      {"attribute_type(n, :STRING)",
       "Invalid FilterExpression: Invalid attribute type name found; type: STRING, valid types: { "
       "S,SS,N,NS,B,BS,BOOL,NULL,L,M }"},
      {"n = :nothing",
       "Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: "
       ":nothing"},
      {"#n = :one",
       "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute "
       "name: #n"},
      {"m.k = :v", "match"},
      {"l[1] = :a AND l[0] = :one", "match"},
      {"attribute_exists(l[2]) OR attribute_exists(m.k.deeper) OR attribute_exists(m[0]) OR l.k = :a", "no match"},
      {"size(m.k) = :one AND attribute_type(l[0], :N)", "match"},
      {"l[x] = :one", "Invalid FilterExpression: Syntax error; token: \"x\", near: \"[x]\""},
      {"l[-1] = :one", "Invalid FilterExpression: Syntax error; token: \"-\", near: \"[-1\""},
      {"m.#nothing = :one",
       "Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute "
       "name: #nothing"},
      {"m.Size = :one", "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: Size"},
      {"Name = :one", "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: Name"},
      {"size(status) > :one", "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: status"},
      {"n = :one AND " + std::string(4100, ' ') + "s = :hello",
       "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4123"},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.expression.substr(0, 80));
    const std::string got = call("Scan", R"({"TableName": "conns", "Select": "COUNT", "FilterExpression": ")" +
                                             r.expression + "\"" + values_for(r.expression) + "}");
    if (r.outcome == "match" || r.outcome == "no match") {
      EXPECT_EQ(got, r.outcome == "match" ? R"({"Count":1,"ScannedCount":1})" : R"({"Count":0,"ScannedCount":1})");
    } else {
      EXPECT_EQ(got, "ValidationException: " + r.outcome);
    }
  }
}

TEST_F(ExpressionTest, Updates) {
  struct row {
    std::string expression;
    std::string outcome;  // UpdateItem's answer with ReturnValues UPDATED_NEW, or the error
  };
  const std::vector<row> rows = {
      {"SET l = list_append(l, :la)", R"({"Attributes":{"l":{"L":[{"N":"1"},{"S":"a"},{"N":"2"}]}}})"},
      {"SET l = list_append(:la, l)", R"({"Attributes":{"l":{"L":[{"N":"2"},{"N":"1"},{"S":"a"}]}}})"},
      {"SET fresh = list_append(if_not_exists(fresh, :la), :la)", R"({"Attributes":{"fresh":{"L":[{"N":"2"},{"N":"2"}]}}})"},
      {"SET n = n + :one", R"({"Attributes":{"n":{"N":"6"}}})"},
      {"SET n = :one - n", R"({"Attributes":{"n":{"N":"-4"}}})"},
      {"SET z = if_not_exists(z, :one)", R"({"Attributes":{"z":{"N":"1"}}})"},
      {"SET n = if_not_exists(n, :one)", R"({"Attributes":{"n":{"N":"5"}}})"},
      {"SET s = n, n = s", R"({"Attributes":{"s":{"N":"5"},"n":{"S":"hello"}}})"},  // both read the old item
      {"REMOVE s, m", "{}"},
      {"ADD ns :ns3", R"({"Attributes":{"ns":{"NS":["1","2","3"]}}})"},
      {"ADD n :two", R"({"Attributes":{"n":{"N":"7"}}})"},
      {"DELETE ss :ssa", R"({"Attributes":{"ss":{"SS":["b"]}}})"},
      {"set n = :two remove s", R"({"Attributes":{"n":{"N":"2"}}})"},
      {"SET l = list_append(l, :one)",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: "
       "list_append, operand type: N"},
      {"SET l = list_append(l)",
       "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: "
       "list_append, number of operands: 1"},
      {"SET l = list_append(l, :la, :la)",
       "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: "
       "list_append, number of operands: 3"},
      {"SET x = foo(l)", "Invalid UpdateExpression: Invalid function name; function: foo"},
      {"SET s = s + :one",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand "
       "type: S"},
      {"SET n = nope + :one", "The provided expression refers to an attribute that does not exist in the item"},
      {"SET n = n + :one, n = :one",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
       "paths; path one: [n], path two: [n]"},
      {"SET n = :one REMOVE n",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
       "paths; path one: [n], path two: [n]"},
      {"SET n = :one SET s = :one",
       "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"},
      {"SET", "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\""},
      {"SET m.k = :one, m.added = :a", R"({"Attributes":{"m":{"M":{"k":{"N":"1"},"added":{"S":"a"}}}}})"},
      {"SET m.k = l[1], l[0] = :two", R"({"Attributes":{"l":{"L":[{"N":"2"}]},"m":{"M":{"k":{"S":"a"}}}}})"},
      {"ADD m.count_ :two", R"({"Attributes":{"m":{"M":{"count_":{"N":"2"}}}}})"},
      {"SET absent.k = :one", "The document path provided in the update expression is invalid for update"},
      {"SET s.k = :one", "The document path provided in the update expression is invalid for update"},
      {"SET m[0] = :one", "The document path provided in the update expression is invalid for update"},
      {"REMOVE absent.k", "The document path provided in the update expression is invalid for update"},
      {"SET m.k = :one REMOVE m",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
       "paths; path one: [m, k], path two: [m]"},
      {"SET l[0] = :one REMOVE l[0]",
       "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
       "paths; path one: [l, [0]], path two: [l, [0]]"},
      {"SET m.k = :one, m[0] = :two",
       "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these "
       "paths; path one: [m, k], path two: [m, [0]]"},
      {"REMOVE user", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: user"},
      {"SET l[4294967295] = :a",
       "Invalid UpdateExpression: List index is not within the allowable range; index: [4294967295]"},
      {"REMOVE l[99999999999999999999]",
       "Invalid UpdateExpression: List index is not within the allowable range; index: [99999999999999999999]"},
      {"SET n = if_not_exists(ttl, :one)",
       "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: ttl"},
      {"ADD s :hello",
       "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: "
       "STRING"},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.expression);
    ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": )" + std::string(kItem) + "}"), "{}");
    const std::string got = call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
        "ReturnValues": "UPDATED_NEW", "UpdateExpression": ")" + r.expression + "\"" + values_for(r.expression) + "}");
    EXPECT_EQ(got, r.outcome.front() == '{' ? r.outcome : "ValidationException: " + r.outcome);
  }
}

TEST_F(ExpressionTest, KeyConditions) {
  for (const char* ts : {"1", "2", "5", "7"}) {
    ASSERT_EQ(call("PutItem", R"({"TableName": "msgs", "Item": {"room": {"S": "hello"}, "ts": {"N": ")" +
                                  std::string(ts) + R"("}}})"),
              "{}");
  }
  struct row {
    std::string expression;
    std::string outcome;  // the ts of the items found, or the error
  };
  const std::vector<row> rows = {
      {"room = :hello", "1 2 5 7"},
      {"room = :hello AND ts = :five", "5"},
      {"room = :hello AND ts < :five", "1 2"},
      {"room = :hello AND ts <= :five", "1 2 5"},
      {"room = :hello AND ts > :five", "7"},
      {"room = :hello AND ts >= :five", "5 7"},
      {"room = :hello AND ts BETWEEN :two AND :six", "2 5"},
      {"ts BETWEEN :two AND :six AND room = :hello", "2 5"},
      {"(room = :hello AND ts > :one)", "2 5 7"},  // boto3's Key(...) & Key(...)
      {"(room = :hello) AND (ts > :one)", "2 5 7"},
      {"room = :hello AND ts BETWEEN :six AND :two",
       "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
       "lower bound; lower bound operand: AttributeValue: {N:6}, upper bound operand: AttributeValue: {N:2}"},
      {"room = :hello OR ts = :one", "Invalid KeyConditionExpression: Syntax error; token: \"OR\", near: \":hello OR ts\""},
      {"room = :hello AND ts <> :one", "Invalid KeyConditionExpression: Unsupported operator in KeyConditionExpression: <>"},
      {"room = :hello AND contains(ts, :one)", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: contains"},
      {"room = :hello AND ts.part > :one",
       "Invalid KeyConditionExpression: Key conditions name key attributes, which are top-level attributes; "
       "document path: [ts, part]"},
      {"room = :hello AND timestamp > :one",
       "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: timestamp"},
      {"ts = :one", "Query condition missed key schema element: room"},
      {"room < :hello", "Query key condition not supported"},
      {"room = :hello AND ts > :one AND ts < :seven", "KeyConditionExpressions must only contain one condition per key"},
  };
  for (const row& r : rows) {
    SCOPED_TRACE(r.expression);
    const std::string got = call("Query", R"({"TableName": "msgs", "ProjectionExpression": "ts",
        "KeyConditionExpression": ")" + r.expression + "\"" + values_for(r.expression) + "}");
    if (r.outcome.front() >= '0' && r.outcome.front() <= '9') {
      std::string items;
      std::size_t count = 0;
      for (std::size_t at = 0; at <= r.outcome.size();) {
        const std::size_t end = std::min(r.outcome.find(' ', at), r.outcome.size());
        items += (items.empty() ? "" : ",") + (R"({"ts":{"N":")" + r.outcome.substr(at, end - at) + R"("}})");
        ++count;
        at = end + 1;
      }
      EXPECT_EQ(got, R"({"Items":[)" + items + R"(],"Count":)" + std::to_string(count) + R"(,"ScannedCount":)" +
                         std::to_string(count) + "}");
    } else {
      EXPECT_EQ(got, "ValidationException: " + r.outcome);
    }
  }
}

// DynamoDB's reserved words (any case) name no attribute in any expression, however deep; an
// expression attribute name stands in for them.
TEST_F(ExpressionTest, ReservedWordsNeedAnExpressionAttributeName) {
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
                 "ProjectionExpression": "n, Data"})"),
            "ValidationException: Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: Data");
  EXPECT_EQ(call("PutItem", R"j({"TableName": "conns", "Item": {"connectionId": {"S": "y"}},
                 "ConditionExpression": "attribute_not_exists(connection)"})j"),
            "ValidationException: Invalid ConditionExpression: Attribute name is a reserved keyword; reserved "
            "keyword: connection");
  EXPECT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
                 "UpdateExpression": "SET #s = :v", "ExpressionAttributeNames": {"#s": "status"},
                 "ExpressionAttributeValues": {":v": {"S": "on"}}, "ReturnValues": "UPDATED_NEW"})"),
            R"({"Attributes":{"status":{"S":"on"}}})");
  EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
                 "ProjectionExpression": "#s, names_", "ExpressionAttributeNames": {"#s": "status"}})"),
            R"({"Item":{"status":{"S":"on"}}})");  // names_ is not NAMES
}

// A ProjectionExpression of document paths gives their values inside the maps and lists around
// them; list elements close up in index order; paths that overlap are refused.
TEST_F(ExpressionTest, ProjectionsOfDocumentPaths) {
  const auto get = [&](const std::string& projection) {
    return call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
                "ProjectionExpression": ")" + projection + R"(", "ExpressionAttributeNames": {"#m": "m"}})");
  };
  EXPECT_EQ(get("#m.k, l[1], n"), R"({"Item":{"n":{"N":"5"},"l":{"L":[{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}})");
  EXPECT_EQ(get("#m.absent, l[9], l[1].deeper, s.k"), R"({"Item":{}})");
  // A Scan's page projects its items the same way.
  EXPECT_EQ(call("Scan", R"({"TableName": "conns", "ProjectionExpression": "#m.k, l[1], n",
                 "ExpressionAttributeNames": {"#m": "m"}})"),
            R"({"Items":[{"n":{"N":"5"},"l":{"L":[{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}],"Count":1,"ScannedCount":1})");
  EXPECT_EQ(get("#m, #m.k"),
            "ValidationException: Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [m], path two: [m, k]");
  EXPECT_EQ(get("n, #m, n"),
            "ValidationException: Invalid ProjectionExpression: Two document paths overlap with each other; must "
            "remove or rewrite one of these paths; path one: [n], path two: [n]");
}

// REMOVE of list elements: every index names the element of the item before the update, so
// their order in the expression does not matter; an index past the end appends (SET) or removes
// nothing (REMOVE), up to DynamoDB's highest index, 4294967294.
TEST_F(ExpressionTest, ListElementsAreSetAndRemovedByTheirIndexBeforeTheUpdate) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"REMOVE l[0], m.k", R"({"Item":{"l":{"L":[{"S":"a"}]},"m":{"M":{}}}})"},
      {"REMOVE l[1], l[0]", R"({"Item":{"l":{"L":[]},"m":{"M":{"k":{"S":"v"}}}}})"},
      {"REMOVE l[0], l[1]", R"({"Item":{"l":{"L":[]},"m":{"M":{"k":{"S":"v"}}}}})"},
      {"REMOVE l[7]", R"({"Item":{"l":{"L":[{"N":"1"},{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}})"},
      {"SET l[0] = :two, l[5] = :a", R"({"Item":{"l":{"L":[{"N":"2"},{"S":"a"},{"S":"a"}]},"m":{"M":{"k":{"S":"v"}}}}})"},
      {"SET l[4294967294] = :two", R"({"Item":{"l":{"L":[{"N":"1"},{"S":"a"},{"N":"2"}]},"m":{"M":{"k":{"S":"v"}}}}})"},
  };
  for (const auto& [expression, after] : rows) {
    SCOPED_TRACE(expression);
    ASSERT_EQ(call("PutItem", R"({"TableName": "conns", "Item": )" + std::string(kItem) + "}"), "{}");
    ASSERT_EQ(call("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}},
        "UpdateExpression": ")" + expression + "\"" + values_for(expression) + "}"),
              "{}");
    EXPECT_EQ(call("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "x"}}, "ProjectionExpression": "l, m"})"),
              after);
  }
}

}  // namespace
}  // namespace apigw::store
