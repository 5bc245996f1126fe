#include <string>

#include <gtest/gtest.h>

#include "store/session_store.hpp"
#include "tests/store/store_test_support.hpp"

namespace apigw::store {
namespace {

std::vector<connection_record> list(session_store& s) {
  auto r = s.list_connections();
  if (!r) {
    ADD_FAILURE() << r.error();
    return {};
  }
  return *r;
}

TEST(ConnectionRecordsTest, InsertsTouchesListsAndDeletes) {
  auto store = testing::open_store();
  ASSERT_TRUE(store);
  connection_record a{"a=", 1000, 1000, "10.0.0.1", "curl/8", std::string(R"({"principalId":"me"})")};
  connection_record b{"b=", 2000, 2000, "10.0.0.2", "", std::nullopt};
  EXPECT_TRUE(store->insert_connection(b).is_ok());
  EXPECT_TRUE(store->insert_connection(a).is_ok());
  EXPECT_EQ(list(*store), (std::vector<connection_record>{a, b}));

  EXPECT_EQ(*store->touch_connection("a=", 5000), true);
  EXPECT_EQ(*store->touch_connection("zz", 5000), false);
  auto got = store->get_connection("a=");
  ASSERT_TRUE(got.has_value()) << got.error();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->last_active_at, 5000);

  EXPECT_EQ(*store->delete_connection("a="), true);
  EXPECT_EQ(*store->delete_connection("a="), false);
  EXPECT_EQ(list(*store), (std::vector<connection_record>{b}));
  EXPECT_FALSE(store->get_connection("a=")->has_value());
}

}  // namespace
}  // namespace apigw::store
