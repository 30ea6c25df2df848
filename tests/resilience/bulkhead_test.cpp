#include "tiercache/resilience/bulkhead.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace tiercache::resilience {
namespace {

TEST(BulkheadTest, AdmitsUpToItsBoundAndCountsRejections) {
  Bulkhead b(2);
  EXPECT_TRUE(b.try_enter());
  EXPECT_TRUE(b.try_enter());
  EXPECT_FALSE(b.try_enter());
  EXPECT_EQ(b.in_flight(), 2u);
  b.leave();
  EXPECT_TRUE(b.try_enter());
  b.leave();
  b.leave();
  EXPECT_EQ(b.in_flight(), 0u);
  EXPECT_EQ(b.admitted(), 3u);
  EXPECT_EQ(b.rejected(), 1u);
}

TEST(BulkheadTest, SlotsLeaveWhenDestroyedOrMoved) {
  Bulkhead b(1);
  {
    auto s = b.try_acquire();
    ASSERT_TRUE(s);
    EXPECT_FALSE(b.try_acquire());
    auto moved = std::move(s);
    EXPECT_FALSE(s);  // NOLINT(bugprone-use-after-move): testing the moved-from state
    EXPECT_EQ(b.in_flight(), 1u);
  }
  EXPECT_EQ(b.in_flight(), 0u);
  auto s = b.try_acquire();
  s.leave();
  s.leave();  // once only
  EXPECT_EQ(b.in_flight(), 0u);
}

TEST(BulkheadTest, RejectsAZeroBound) { EXPECT_THROW(Bulkhead(0), std::invalid_argument); }

// Threads hammer a bulkhead of 3: never more than 3 inside, and the counts balance.
TEST(BulkheadTest, NeverExceedsItsBoundUnderContention) {
  Bulkhead b(3);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  constexpr int kThreads = 6;
  constexpr int kTries = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kTries; ++i) {
        if (auto slot = b.try_acquire()) {
          const int now = inside.fetch_add(1) + 1;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          inside.fetch_sub(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 3);
  EXPECT_EQ(b.in_flight(), 0u);
  EXPECT_EQ(b.admitted() + b.rejected(), std::uint64_t{kThreads} * kTries);
}

}  // namespace
}  // namespace tiercache::resilience
