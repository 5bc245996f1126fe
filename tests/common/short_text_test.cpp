// short_text: text held in place, up to its capacity, converting to and from strings.
#include "common/short_text.hpp"

#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace apigw {
namespace {

TEST(ShortTextTest, HoldsTextUpToItsCapacity) {
  const short_text<16> id = "TXzPWdnOjoECGjA=";
  EXPECT_EQ(id.view(), "TXzPWdnOjoECGjA=");
  EXPECT_EQ(id.size(), 16u);
  EXPECT_FALSE(id.empty());
  EXPECT_TRUE(short_text<16>().empty());
  EXPECT_TRUE(short_text<16>(std::string_view()).empty());  // a null view (the sanitizer build checks)
  EXPECT_EQ(short_text<16>().view(), "");
}

TEST(ShortTextTest, RefusesLongerTextWithAClearMessage) {
  try {
    short_text<4> t = std::string_view("abcde");
    FAIL() << "accepted " << t.view();
  } catch (const std::length_error& e) {
    EXPECT_STREQ(e.what(), "short_text: \"abcde\" is longer than 4 characters");
  }
}

TEST(ShortTextTest, ConvertsLikeAString) {
  short_text<36> request_id = short_text<16>("abc");  // a shorter one widens
  EXPECT_EQ(request_id, std::string_view("abc"));
  request_id = std::string("6f2b1f3e-8a9c-4d1e-9b7a-0c5d2e4f6a8b");
  EXPECT_EQ(request_id.str(), "6f2b1f3e-8a9c-4d1e-9b7a-0c5d2e4f6a8b");
  EXPECT_EQ("req=" + short_text<8>("x1"), "req=x1");
  std::string line = "id ";
  line += short_text<8>("y2");
  EXPECT_EQ(line, "id y2");
  EXPECT_EQ(std::string(short_text<8>("z3")), "z3");
}

}  // namespace
}  // namespace apigw
