#include "tiercache/base/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace tiercache {
namespace {

using namespace std::chrono_literals;

TEST(ClockTest, ManualClockMovesOnlyWhenAdvanced) {
  ManualClock clock;
  const auto start = clock.now();
  const auto wall = clock.wall_now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(1500ms);
  EXPECT_EQ(clock.now() - start, 1500ms);
  EXPECT_EQ(clock.wall_now() - wall, 1500ms);
}

TEST(ClockTest, RealClockIsMonotonic) {
  const Clock& clock = Clock::real();
  const auto a = clock.now();
  const auto b = clock.now();
  EXPECT_LE(a, b);
}

}  // namespace
}  // namespace tiercache
