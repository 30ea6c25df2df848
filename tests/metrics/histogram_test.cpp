#include "tiercache/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
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

}  // namespace
}  // namespace tiercache::metrics
