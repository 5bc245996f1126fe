// edit_distance: each kind of edit counts one, case counts, a swap of neighbours is one edit.
#include "common/edit_distance.hpp"

#include <gtest/gtest.h>

namespace apigw {
namespace {

TEST(EditDistanceTest, EachKindOfEditCountsOne) {
  EXPECT_EQ(edit_distance("echo", "echo"), 0u);
  EXPECT_EQ(edit_distance("echo", "ecko"), 1u);   // substitute
  EXPECT_EQ(edit_distance("echo", "echoo"), 1u);  // insert
  EXPECT_EQ(edit_distance("echo", "eco"), 1u);    // delete
  EXPECT_EQ(edit_distance("echo", "ehco"), 1u);   // swap two neighbours
  EXPECT_EQ(edit_distance("echo", "oche"), 2u);
  EXPECT_EQ(edit_distance("", "port"), 4u);
  EXPECT_EQ(edit_distance("port", ""), 4u);
}

TEST(EditDistanceTest, CaseCounts) {
  EXPECT_EQ(edit_distance("sendMessage", "sendmessage"), 1u);
  EXPECT_EQ(edit_distance("SENDMESSAGE", "sendmessage"), 11u);
}

}  // namespace
}  // namespace apigw
