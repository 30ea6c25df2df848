#include "tiercache/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

namespace tiercache::metrics {
namespace {

using namespace std::chrono_literals;

TEST(HistogramTest, PutsEachObservationInTheFirstBucketThatHoldsIt) {
  Histogram h({1, 2, 5});
  for (const double v : {-1.0, 0.5, 1.0, 1.0000001, 2.0, 4.9, 5.0, 5.1, 1e9}) h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{3, 2, 2, 2}));
  EXPECT_EQ(s.count, 9u);
  EXPECT_DOUBLE_EQ(s.sum, -1.0 + 0.5 + 1.0 + 1.0000001 + 2.0 + 4.9 + 5.0 + 5.1 + 1e9);
}

TEST(HistogramTest, ObservesDurationsInSeconds) {
  Histogram h(latency_buckets());
  h.observe(40us);  // under the first bound, 50 µs
  h.observe(50us);  // on it
  h.observe(3ms);   // (2.5 ms, 5 ms]
  h.observe(11s);   // +Inf
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts[0], 2u);
  EXPECT_EQ(s.counts[6], 1u);
  EXPECT_EQ(s.counts.back(), 1u);
  EXPECT_NEAR(s.sum, 11.00309, 1e-12);
}

TEST(HistogramTest, SendsNaNToTheLastBucket) {
  Histogram h({1});
  h.observe(std::nan(""));
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(HistogramTest, ResetEmptiesBucketsAndSum) {
  Histogram h({1});
  h.observe(0.5);
  h.observe(3);
  h.reset();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum, 0.0);
  h.observe(2);
  EXPECT_EQ(h.snapshot().counts, (std::vector<std::uint64_t>{0, 1}));
}

TEST(HistogramTest, PresetsAreIncreasing) {
  for (const auto& bounds : {default_buckets(), latency_buckets(), exponential_buckets(1, 2, 10)}) {
    for (std::size_t i = 1; i < bounds.size(); ++i) EXPECT_LT(bounds[i - 1], bounds[i]);
  }
  EXPECT_EQ(latency_buckets().front(), 50e-6);
  EXPECT_EQ(latency_buckets().back(), 10.0);
  EXPECT_EQ(default_buckets().size(), 11u);
  EXPECT_EQ(exponential_buckets(64, 4, 3), (std::vector<double>{64, 256, 1024}));
}

// Integers sum exactly in a double, so the sum from many threads is checked exactly too.
TEST(HistogramTest, CountsEveryObservationFromManyThreads) {
  Histogram h({10, 100});
  constexpr int kThreads = 6;
  constexpr int kPerThread = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < kPerThread; ++i) h.observe(static_cast<double>(i % 3 * 50));
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  // i % 3 == 0 -> 0 (first bucket), 1 -> 50 (second), 2 -> 100 (second: le is inclusive).
  std::uint64_t zeros = 0, fifties = 0, hundreds = 0;
  for (int i = 0; i < kPerThread; ++i) {
    (i % 3 == 0 ? zeros : i % 3 == 1 ? fifties : hundreds) += kThreads;
  }
  EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{zeros, fifties + hundreds, 0}));
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(s.sum, static_cast<double>(fifties * 50 + hundreds * 100));
}

// The bucket search (a table by binary exponent, then a short scan) against the definition:
// the first bound >= v, else +Inf. Bounds of every shape the registry allows, and values on,
// beside and between the bounds, at octave edges, signed zeros, infinities and NaN.
TEST(HistogramTest, BucketsMatchALinearScanForAnyBoundsAndValue) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::vector<double>> shapes = {latency_buckets(),
                                                   default_buckets(),
                                                   exponential_buckets(1, 2, 40),
                                                   exponential_buckets(64, 4, 3),
                                                   {1},
                                                   {1, 2, 5},
                                                   {-5, -1, 0, 0.5, 3},
                                                   {0, 1e-300, 1e300},
                                                   {1e-310, 1e-300, 0.25, 0.5, 1, 2}};
  std::mt19937_64 rng(5);
  for (const auto& bounds : shapes) {
    std::vector<double> values = {0.0,    -0.0,         inf,
                                  -inf,   std::nan(""), -std::nan(""),
                                  1e-320, -1e-320,      std::numeric_limits<double>::max()};
    for (const double b : bounds) {
      for (const double v :
           {b, std::nextafter(b, -inf), std::nextafter(b, inf), b / 2, b * 2, -b, b * 1.5}) {
        values.push_back(v);
      }
    }
    for (int i = 0; i < 2000; ++i) {
      values.push_back(std::ldexp(std::uniform_real_distribution<double>(0.5, 1)(rng),
                                  std::uniform_int_distribution<int>(-40, 40)(rng)));
    }
    for (const double v : values) {
      std::size_t want = 0;
      while (want < bounds.size() && !(v <= bounds[want])) ++want;
      Histogram h(bounds);
      h.observe(v);
      const auto counts = h.snapshot().counts;
      EXPECT_EQ(counts[want], 1u) << "value " << v << " bounds from " << bounds.front() << " to "
                                  << bounds.back() << ": expected bucket " << want;
    }
  }
}

// observe(duration) puts each duration where observe(double) puts its seconds, and sums whole
// nanoseconds exactly, negative ones included.
TEST(HistogramTest, DurationsLandWhereTheirSecondsDoAndSumInWholeNanoseconds) {
  const auto bounds = latency_buckets();
  Histogram by_duration(bounds);
  Histogram by_seconds(bounds);
  for (const double b : bounds) {
    const auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(b * 1e9)));
    for (const auto d : {ns - std::chrono::nanoseconds(1), ns, ns + std::chrono::nanoseconds(1)}) {
      by_duration.observe(d);
      by_seconds.observe(std::chrono::duration<double>(d).count());
    }
  }
  EXPECT_EQ(by_duration.snapshot().counts, by_seconds.snapshot().counts);

  Histogram h({1});
  h.observe(std::chrono::nanoseconds(1));
  h.observe(std::chrono::seconds(2));
  h.observe(std::chrono::milliseconds(-500));
  h.observe(0.25);  // a double's sum is kept apart and added
  const auto s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{3, 1}));
  EXPECT_EQ(s.sum, 1.500000001 + 0.25);
  h.reset();
  EXPECT_EQ(h.snapshot().sum, 0.0);
}

// Each thread adds 1 ns per observation: the integer sum loses none of them.
TEST(HistogramTest, SumsDurationsFromManyThreadsExactly) {
  Histogram h(latency_buckets());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < kPerThread; ++i) h.observe(std::chrono::nanoseconds(1));
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(kThreads) * kPerThread);
  EXPECT_EQ(s.counts[0], s.count);
  EXPECT_EQ(s.sum, kThreads * kPerThread / 1e9);
}

}  // namespace
}  // namespace tiercache::metrics
