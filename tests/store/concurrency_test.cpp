// Handlers call the store from several threads at once: nothing may be lost.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

void concurrent_writers_lose_nothing(session_store& store) {
  constexpr int threads = 8;
  constexpr int per_thread = 100;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        // Each thread puts its own items, one counter item that all threads ADD to, and a
        // connection record: the three kinds of writes a handler and the server make.
        if (!store.call_json("PutItem", R"({"TableName": "conns", "Item": {"connectionId": {"S": ")" + id + R"("}}})").ok()) ++failures;
        if (!store.call_json("UpdateItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "counter"}},
            "UpdateExpression": "ADD hits :one", "ExpressionAttributeValues": {":one": {"N": "1"}}})").ok()) ++failures;
        if (!store.insert_connection({id, i, i, "127.0.0.1", "t", std::nullopt})) ++failures;
        // Every other item is deleted again, like a $disconnect.
        if (i % 2 == 1 &&
            !store.call_json("DeleteItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": ")" + id + R"("}}})").ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures, 0);

  rapidjson::Document counter;
  counter.Parse(store.call_json("GetItem", R"({"TableName": "conns", "Key": {"connectionId": {"S": "counter"}}})").to_json().c_str());
  EXPECT_STREQ(counter["Item"]["hits"]["N"].GetString(), std::to_string(threads * per_thread).c_str());

  rapidjson::Document page;
  page.Parse(store.call_json("Scan", R"({"TableName": "conns", "Select": "COUNT"})").to_json().c_str());
  EXPECT_EQ(page["Count"].GetInt(), threads * per_thread / 2 + 1);
  auto records = store.list_connections();
  EXPECT_EQ(records->size(), static_cast<std::size_t>(threads * per_thread));
}

TEST(ConcurrencyTest, ConcurrentWritersLoseNothingInMemory) {
  auto store = testing::open_store();
  ASSERT_TRUE(store);
  concurrent_writers_lose_nothing(*store);
}

TEST(ConcurrencyTest, ConcurrentWritersLoseNothingInAFile) {
  testing::temp_dir dir;
  auto store = testing::open_store(dir.file("c.db").string());
  ASSERT_TRUE(store);
  concurrent_writers_lose_nothing(*store);
}

}  // namespace
}  // namespace apigw::store
