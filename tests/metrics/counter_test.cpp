#include "tiercache/metrics/counter.hpp"

#include "tiercache/metrics/gauge.hpp"
#include "tiercache/metrics/shard.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <thread>
#include <vector>

namespace tiercache::metrics {
namespace {

TEST(CounterTest, CountsAndResets) {
  Counter c;
  EXPECT_EQ(c.value(), 0u);
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42u);
  c.reset();
  EXPECT_EQ(c.value(), 0u);
  c.inc();
  EXPECT_EQ(c.value(), 1u);
}

TEST(CounterTest, ShardCountIsAPowerOfTwoUpToSixteen) {
  const auto n = detail::shard_count();
  EXPECT_TRUE(std::has_single_bit(n));
  EXPECT_GE(n, 1u);
  EXPECT_LE(n, 16u);
  EXPECT_EQ(detail::this_thread_shard(), detail::this_thread_shard());
}

// More threads than cells, so some share a cell: no increment is lost either way.
TEST(CounterTest, CountsEveryIncrementFromManyThreads) {
  Counter c;
  constexpr int kThreads = 8;
  constexpr std::uint64_t kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c] {
      for (std::uint64_t i = 0; i < kPerThread; ++i) c.inc();
    });
  }
  // Reads while the writers run see a count that only grows.
  std::uint64_t last = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto v = c.value();
    EXPECT_GE(v, last);
    last = v;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), kThreads * kPerThread);
}

TEST(GaugeTest, SetsIncrementsAndDecrements) {
  Gauge g;
  g.set(10);
  g.inc();
  g.dec(2.5);
  EXPECT_DOUBLE_EQ(g.value(), 8.5);
}

TEST(GaugeTest, BalancesIncAndDecFromManyThreads) {
  Gauge g;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&g] {
      for (int i = 0; i < 50'000; ++i) {
        g.inc();
        g.dec();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g.value(), 0.0);
}

}  // namespace
}  // namespace tiercache::metrics
