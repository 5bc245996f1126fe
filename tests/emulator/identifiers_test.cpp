#include "emulator/core/identifiers.hpp"

#include <array>
#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace apigw::emulator {
namespace {

TEST(IdentifiersTest, NewIdentifierHasAwsShape) {
  // Base64url of 11 bytes: fourteen characters of the whole alphabet, a fifteenth whose two low
  // bits are zero (one of sixteen), and '='.
  const std::regex shape("^[A-Za-z0-9_-]{14}[AEIMQUYcgkosw048]=$");
  std::set<std::string> seen;
  std::array<std::set<char>, 15> at;  // the characters seen at each place
  for (int i = 0; i < 2000; ++i) {
    const std::string id = new_identifier().str();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
    for (std::size_t place = 0; place < at.size(); ++place) at[place].insert(id[place]);
  }
  EXPECT_EQ(seen.size(), 2000u);
  // Every place draws from all it may hold: 2,000 draws of 64 characters miss one with a
  // chance of about 10^-12, so every character of the alphabet turns up at each of the fourteen
  // places, and each of the sixteen at the fifteenth. A place filled from bits that a draw does
  // not have would hold one character.
  for (std::size_t place = 0; place < 14; ++place) EXPECT_EQ(at[place].size(), 64u) << "place " << place;
  EXPECT_EQ(at[14].size(), 16u);
}

TEST(IdentifiersTest, DynamoDbRequestIdHasDynamoDbsShape) {
  const std::regex shape("^[A-Z0-9]{52}$");
  std::set<std::string> seen;
  std::set<char> characters;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_dynamodb_request_id();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
    characters.insert(id.begin(), id.end());
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(characters.size(), 36u);  // every letter and digit turns up
}

TEST(IdentifiersTest, FormatsTimestamps) {
  // 2024-01-17T15:14:00.469Z, the requestTimeEpoch of AWS's documented example event.
  const std::chrono::system_clock::time_point t{std::chrono::milliseconds(1705504440469)};
  EXPECT_EQ(epoch_millis(t), 1705504440469);
  EXPECT_EQ(request_time(t), "17/Jan/2024:15:14:00 +0000");
  EXPECT_EQ(iso8601_millis(t), "2024-01-17T15:14:00.469Z");
}

}  // namespace
}  // namespace apigw::emulator
