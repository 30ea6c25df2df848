// The CLI's text helpers: table alignment, byte and duration formats, duration parsing.

#include "cli/text.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace tiercache::cli {
namespace {

TEST(TableTest, FirstColumnLeftOthersRightAligned) {
  Table t({"NAME", "HITS"});
  t.add({"users", "7"});
  t.add({"a", "12345"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "NAME    HITS\n"
            "users      7\n"
            "a      12345\n");
}

TEST(TextTest, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(std::uint64_t{3} << 30), "3.0 GiB");
}

TEST(TextTest, HumanDuration) {
  using namespace std::chrono;
  EXPECT_EQ(human_duration(nanoseconds(250)), "250 ns");
  EXPECT_EQ(human_duration(microseconds(250)), "250 us");
  EXPECT_EQ(human_duration(microseconds(1500)), "1.50 ms");
  EXPECT_EQ(human_duration(milliseconds(1534)), "1.53 s");
  EXPECT_EQ(human_duration(seconds(42)), "42 s");
  EXPECT_EQ(human_duration(seconds(599)), "9m 59s");
  EXPECT_EQ(human_duration(seconds(3720)), "1h 02m");
  EXPECT_EQ(human_duration(hours(50)), "2d 02h");
}

TEST(TextTest, ParseDuration) {
  using namespace std::chrono;
  EXPECT_EQ(parse_duration("90s"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("1h30m"), minutes(90));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("2"), seconds(2));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("soon"));
  EXPECT_FALSE(parse_duration("10x"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("99999999999s"));  // too many digits: refused, not overflowed
}

}  // namespace
}  // namespace tiercache::cli
