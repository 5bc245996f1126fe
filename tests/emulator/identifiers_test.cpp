#include "emulator/core/identifiers.hpp"

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
  std::set<char> characters;
  std::set<char> last_characters;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_identifier().str();
    EXPECT_TRUE(std::regex_match(id, shape)) << id;
    seen.insert(id);
    characters.insert(id.begin(), id.begin() + 14);
    last_characters.insert(id[14]);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(characters.size(), 64u);  // every character of the alphabet turns up
  EXPECT_EQ(last_characters.size(), 16u);
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
