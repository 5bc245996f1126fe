#include "store/cli.hpp"

#include <filesystem>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

struct outcome {
  int status;
  std::string out;
  std::string err;
};

outcome store_command(session_store& store, std::vector<std::string> args) {
  std::ostringstream out, err;
  int status = run_store_command(args, store, out, err);
  return {status, out.str(), err.str()};
}

class StoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_);
    for (std::string_view ts : {"3", "1", "20"}) {
      ASSERT_TRUE(store_->call_json("PutItem", R"({"TableName": "msgs", "Item": {"room": {"S": "r"}, "ts": {"N": ")" +
                                                   std::string(ts) + R"("}}})").ok());
    }
  }
  std::unique_ptr<session_store> store_ = testing::open_store();
};

TEST_F(StoreCommandTest, ScanPrintsEveryItemInKeyOrder) {
  outcome o = store_command(*store_, {"scan", "msgs"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out,
            "{\"room\":{\"S\":\"r\"},\"ts\":{\"N\":\"1\"}}\n"
            "{\"room\":{\"S\":\"r\"},\"ts\":{\"N\":\"3\"}}\n"
            "{\"room\":{\"S\":\"r\"},\"ts\":{\"N\":\"20\"}}\n");
}

TEST_F(StoreCommandTest, GetPrintsOneItemOrFails) {
  outcome found = store_command(*store_, {"get", "msgs", R"({"room": {"S": "r"}, "ts": {"N": "3"}})"});
  EXPECT_EQ(found.status, 0) << found.err;
  EXPECT_EQ(found.out, "{\"room\":{\"S\":\"r\"},\"ts\":{\"N\":\"3\"}}\n");

  outcome missing = store_command(*store_, {"get", "msgs", R"({"room": {"S": "r"}, "ts": {"N": "4"}})"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err, "store get: table msgs has no item with the key {\"room\": {\"S\": \"r\"}, \"ts\": {\"N\": \"4\"}}\n");

  outcome wrong = store_command(*store_, {"get", "msgs", R"({"room": {"S": "r"}})"});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_EQ(wrong.err, "ValidationException: The provided key element does not match the schema\n");

  outcome bad = store_command(*store_, {"get", "msgs", "room=r"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("KEYJSON must be a JSON object"), std::string::npos);
}

TEST_F(StoreCommandTest, ReportsUnknownTablesAndUsage) {
  outcome o = store_command(*store_, {"scan", "nope"});
  EXPECT_EQ(o.status, 1);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "store scan: no table named \"nope\"; the tables are blobs, conns, msgs\n");
  outcome got = store_command(*store_, {"get", "Msgs", R"({"room": {"S": "r"}, "ts": {"N": "3"}})"});
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.err, "store get: no table named \"Msgs\"; the tables are blobs, conns, msgs\n");
  auto empty = testing::open_store(":memory:", {});
  ASSERT_TRUE(empty);
  outcome none = store_command(*empty, {"scan", "conns"});
  EXPECT_EQ(none.status, 1);
  EXPECT_EQ(none.err, "store scan: no table named \"conns\"; the store has no tables\n");
  outcome usage = store_command(*store_, {"drop", "msgs"});
  EXPECT_EQ(usage.status, 2);
  EXPECT_EQ(usage.err, store_command_usage());
}

TEST_F(StoreCommandTest, ListsTablesAndConnections) {
  outcome tables = store_command(*store_, {"tables"});
  EXPECT_EQ(tables.status, 0);
  EXPECT_NE(tables.out.find(R"({"TableName":"conns","KeySchema":[{"AttributeName":"connectionId","KeyType":"HASH"}],)"
                            R"("AttributeDefinitions":[{"AttributeName":"connectionId","AttributeType":"S"}]})"),
            std::string::npos);
  ASSERT_TRUE(store_->insert_connection({"x=", 1, 2, "::1", "ua", std::string(R"({"a":1})")}).is_ok());
  outcome conns = store_command(*store_, {"connections"});
  EXPECT_EQ(conns.out,
            R"({"connectionId":"x=","connectedAt":1,"lastActiveAt":2,"sourceIp":"::1","userAgent":"ua","authorizer":{"a":1}})"
            "\n");
}

TEST(StoreFileTest, AMissingFileIsNamedWithHowOneIsMade) {
  testing::temp_dir dir;
  const std::string path = dir.file("lab.db").string();
  auto opened = open_store_file(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(),
            "there is no file " + path + "; the emulator creates it when started with --store " + path +
                " (apigw-ws-emulator --store " + path +
                "), and the store commands read it while that emulator runs or after it stops");
  EXPECT_FALSE(std::filesystem::exists(path)) << "looking must not create the file";
}

TEST(StoreFileTest, ADirectoryIsNotAStoreFile) {
  testing::temp_dir dir;
  const std::string path = dir.file("").string();
  auto opened = open_store_file(path);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), path + " is a directory, not a store file");
}

TEST(StoreFileTest, OpensAnEmulatorsStoreFileKeepingItsConnectionRecords) {
  testing::temp_dir dir;
  const std::string path = dir.file("lab.db").string();
  {
    auto store = testing::open_store(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->insert_connection({"x=", 1, 2, "::1", "ua", std::nullopt}).is_ok());
  }
  auto opened = open_store_file(path);
  ASSERT_TRUE(opened) << opened.error();
  outcome conns = store_command(**opened, {"connections"});
  EXPECT_EQ(conns.out, R"({"connectionId":"x=","connectedAt":1,"lastActiveAt":2,"sourceIp":"::1","userAgent":"ua"})"
                       "\n");
}

}  // namespace
}  // namespace apigw::store
