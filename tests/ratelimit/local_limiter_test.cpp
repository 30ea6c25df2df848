// LocalLimiter, the in-process fallback: a token bucket per key on a ManualClock, so burst,
// refill, peek, reset and the key bound are checked without sleeping.
#include "ratelimit/local_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;

TEST(LocalLimiterTest, AdmitsABurstOfTheCapacityThenRefillsAtItsRate) {
  ManualClock clock;
  LocalLimiter local(10, 1s, 100, clock);  // 10 per second: one token per 100 ms
  for (std::uint32_t i = 0; i < 10; ++i) {
    Decision d = local.decide("k", 1, false);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 9 - i);
    EXPECT_EQ(d.source, Source::local);
  }
  Decision refused = local.decide("k", 1, false);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 100ms);
  clock.advance(99ms);
  EXPECT_FALSE(local.decide("k", 1, false).allowed);
  clock.advance(1ms);
  EXPECT_TRUE(local.decide("k", 1, false).allowed);
  clock.advance(1h);  // refill stops at the capacity
  EXPECT_TRUE(local.decide("k", 10, false).allowed);
  EXPECT_FALSE(local.decide("k", 1, false).allowed);
}

TEST(LocalLimiterTest, CostTakesThatManyTokensOrNone) {
  ManualClock clock;
  LocalLimiter local(5, 1s, 100, clock);
  EXPECT_TRUE(local.decide("k", 3, false).allowed);
  Decision refused = local.decide("k", 3, false);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 2u);
  EXPECT_EQ(refused.retry_after, 200ms);
  EXPECT_TRUE(local.decide("k", 2, false).allowed);
}

TEST(LocalLimiterTest, PeekTakesNothingAndStoresNothing) {
  ManualClock clock;
  LocalLimiter local(2, 1s, 100, clock);
  EXPECT_TRUE(local.decide("k", 2, true).allowed);
  EXPECT_EQ(local.size(), 0u);
  EXPECT_TRUE(local.decide("k", 1, false).allowed);
  EXPECT_EQ(local.decide("k", 1, true).remaining, 1u);
  EXPECT_FALSE(local.decide("k", 2, true).allowed);
  EXPECT_EQ(local.decide("k", 1, true).remaining, 1u);
}

TEST(LocalLimiterTest, ResetRefillsTheKey) {
  ManualClock clock;
  LocalLimiter local(1, 1min, 100, clock);
  EXPECT_TRUE(local.decide("k", 1, false).allowed);
  EXPECT_FALSE(local.decide("k", 1, false).allowed);
  local.reset("k");
  EXPECT_TRUE(local.decide("k", 1, false).allowed);
}

TEST(LocalLimiterTest, KeepsAtMostMaxKeysDroppingFullBucketsFirst) {
  ManualClock clock;
  LocalLimiter local(2, 1s, 4, clock);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(local.decide("k" + std::to_string(i), 1, false).allowed);
  EXPECT_EQ(local.size(), 4u);
  ASSERT_TRUE(local.decide("k0", 1, false).allowed);  // k0 empty now
  clock.advance(600ms);                               // k1..k3 full again, k0 not
  EXPECT_TRUE(local.decide("new", 1, false).allowed);
  EXPECT_EQ(local.size(), 2u);  // k0 and new
  EXPECT_EQ(local.decide("k0", 1, true).remaining, 1u);
}

}  // namespace
}  // namespace tiercache::ratelimit
