// Bytes in JSON (tiercache/base/json_text.hpp): the UTF-8 check and base64 that decide how the
// daemon's bodies and the CLI's --json output carry a value.

#include "tiercache/base/json_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tiercache {
namespace {

TEST(JsonTextTest, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // a surrogate
}

TEST(JsonTextTest, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string("\x00\xff", 2)), "AP8=");
}

TEST(JsonTextTest, Base64RoundTripsAndRefusesBadInput) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", std::string("\x00\x01\xff", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm=v").has_value());
  EXPECT_FALSE(base64_decode("Zm9v!").has_value());
}

}  // namespace
}  // namespace tiercache
