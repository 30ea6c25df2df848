#include "tiercache/resilience/backoff.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace tiercache::resilience {
namespace {

using namespace std::chrono_literals;

TEST(BackoffTest, CeilingGrowsExponentiallyUpToTheCap) {
  const BackoffPolicy p{.initial = 10ms, .max = 100ms, .multiplier = 2};
  EXPECT_EQ(backoff_ceiling(p, 0), 10ms);
  EXPECT_EQ(backoff_ceiling(p, 1), 20ms);
  EXPECT_EQ(backoff_ceiling(p, 3), 80ms);
  EXPECT_EQ(backoff_ceiling(p, 4), 100ms);
  EXPECT_EQ(backoff_ceiling(p, 1000), 100ms);
}

TEST(BackoffTest, EveryDelayIsWithinZeroAndItsCeiling) {
  const BackoffPolicy p{.initial = 1ms, .max = 50ms};
  Backoff b(p, 1234);
  for (std::uint32_t i = 0; i < 200; ++i) {
    const auto ceiling = backoff_ceiling(p, b.attempts());
    const auto d = b.next();
    EXPECT_GE(d, 0ns);
    EXPECT_LE(d, ceiling);
  }
}

TEST(BackoffTest, FullJitterSpreadsOverTheWholeRange) {
  const BackoffPolicy p{.initial = 1s, .max = 1s};
  Backoff b(p, 99);
  double sum = 0;
  auto lo = 1s + 0ns, hi = 0s + 0ns;
  constexpr int kN = 10'000;
  for (int i = 0; i < kN; ++i) {
    const auto d = b.next();
    sum += std::chrono::duration<double>(d).count();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_NEAR(sum / kN, 0.5, 0.02);  // uniform on [0, 1 s]
  EXPECT_LT(lo, 10ms);
  EXPECT_GT(hi, 990ms);
}

TEST(BackoffTest, IsReproducibleFromASeedAndResets) {
  Backoff a(BackoffPolicy{}, 5), b(BackoffPolicy{}, 5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next(), b.next());
  EXPECT_EQ(a.attempts(), 10u);
  a.reset();
  EXPECT_EQ(a.attempts(), 0u);
  EXPECT_LE(a.next(), 10ms);
}

}  // namespace
}  // namespace tiercache::resilience
