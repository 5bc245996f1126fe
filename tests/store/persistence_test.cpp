// The file store: items survive a restart, connection records do not, a changed key schema is
// refused, and a foreign SQLite file is never written into.
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

using testing::open_store;
using testing::run;
using testing::schema;
using testing::temp_dir;

std::string open_error(const std::string& path, const std::vector<table_schema>& tables) {
  auto r = session_store::open({path, std::chrono::seconds(1)}, tables);
  if (!r) return r.error();
  return "<opened>";
}

TEST(PersistenceTest, ReopenedFileKeepsItemsAndClearsConnections) {
  temp_dir dir;
  const std::string path = dir.file("store.db").string();
  {
    auto store = open_store(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(run(*store, "PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}, "n": {"N": "1"}}})"), "{}");
    EXPECT_EQ(run(*store, "PutItem", R"({"TableName": "msgs", "Item": {"room": {"S": "r"}, "ts": {"N": "2"}}})"), "{}");
    EXPECT_TRUE(store->insert_connection({"conn-1", 1000, 2000, "127.0.0.1", "test", std::nullopt}).is_ok());
  }
  EXPECT_TRUE(std::filesystem::exists(path));

  // The restarted emulator declares only conns: msgs stays in the file and readable.
  auto store = open_store(path, {testing::test_tables()[0]});
  ASSERT_TRUE(store);
  EXPECT_EQ(run(*store, "GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"),
            R"({"Item":{"connectionId":{"S":"a"},"n":{"N":"1"}}})");
  EXPECT_EQ(run(*store, "Scan", R"({"TableName": "msgs"})"),
            R"({"Items":[{"room":{"S":"r"},"ts":{"N":"2"}}],"Count":1,"ScannedCount":1})");
  auto connections = store->list_connections();
  ASSERT_TRUE(connections.has_value()) << connections.error();
  EXPECT_TRUE(connections->empty());
}

TEST(PersistenceTest, UsesWriteAheadLogging) {
  temp_dir dir;
  const std::string path = dir.file("wal.db").string();
  auto store = open_store(path);
  ASSERT_TRUE(store);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST(PersistenceTest, RefusesAChangedKeySchemaAndKeepsTheFile) {
  temp_dir dir;
  const std::string path = dir.file("store.db").string();
  {
    auto store = open_store(path);
    ASSERT_TRUE(store);
    EXPECT_EQ(run(*store, "PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": "a"}}})"), "{}");
  }
  table_schema changed = schema(R"({"TableName": "conns",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}]})");
  EXPECT_EQ(open_error(path, {changed}),
            "table conns: the store " + path + " holds it with the key schema [connectionId (S) HASH] but the "
            "configuration declares [pk (S) HASH, sk (N) RANGE]; its items would not match the new keys. Declare "
            "the old key schema, give the table another name, or use another store file (or delete this one to "
            "start empty)");
  table_schema retyped = testing::test_tables()[0];
  retyped.hash_key.type = key_type::N;
  EXPECT_NE(open_error(path, {retyped}).find("[connectionId (S) HASH] but the configuration declares [connectionId (N) HASH]"),
            std::string::npos);

  auto store = open_store(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(run(*store, "GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "a"}}})"),
            R"({"Item":{"connectionId":{"S":"a"}}})");
}

TEST(PersistenceTest, RefusesDuplicateTables) {
  auto t = testing::test_tables()[0];
  EXPECT_EQ(open_error(":memory:", {t, t}), "table conns is declared twice; table names must be unique");
}

TEST(PersistenceTest, RefusesAnotherProgramsDatabase) {
  temp_dir dir;
  const std::string path = dir.file("other.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE users (id INTEGER)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(open_error(path, testing::test_tables()),
            path + " is a SQLite database of another program (it has the table users), not an emulator store; "
                   "give --store a new file");

  const std::string text = dir.file("notes.txt").string();
  std::ofstream(text) << "these are not the droids you are looking for, nor a database file at all\n";
  EXPECT_NE(open_error(text, testing::test_tables()).find(text), std::string::npos);
}

TEST(PersistenceTest, ReportsAnUnopenableFile) {
  EXPECT_EQ(open_error("/nonexistent-dir/x/store.db", {}),
            "cannot open the store /nonexistent-dir/x/store.db: unable to open database file; its "
            "folder /nonexistent-dir/x cannot be written (No such file or directory), and the "
            "emulator writes its store (with the -wal and -shm files next to it): give --store a "
            "writable path");
}

}  // namespace
}  // namespace apigw::store
