// Eviction and admission: priorities, TinyLFU's scan resistance, the listener's causes, and
// qualitative hit-ratio facts against plain LRU on replayed traces (the figures are in
// bench/cache/l1_bench.cpp).
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include "cache/l1/simulator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;
namespace sim = detail::sim;

class L1PolicyTest : public ::testing::Test {
 protected:
  std::shared_ptr<const Entry> make(Priority priority = Priority::normal, std::size_t bytes = 100) {
    Entry e;
    e.value.assign(bytes, 'v');
    e.fresh_until = e.stale_until = clock_.wall_now() + 60s;
    e.priority = priority;
    return std::make_shared<const Entry>(std::move(e));
  }
  // One shard holding about `entries` entries like make()'s.
  L1Options options(std::size_t entries) {
    L1Options o;
    o.shards = 1;
    // Room for the shard's own state and its arrays (about 48 bytes an entry), then the entries.
    o.max_bytes = 16384 + entries * (48 + L1::charge("key:00000", *make()));
    o.on_removal = [this](std::string_view key, const std::shared_ptr<const Entry>& e,
                          RemovalCause cause) {
      removed_.push_back({std::string(key), e->priority, cause});
    };
    return o;
  }
  static std::string key(int i) {
    std::string k = "key:" + std::to_string(i);
    return k;
  }
  struct Removed {
    std::string key;
    Priority priority;
    RemovalCause cause;
  };
  ManualClock clock_;
  std::vector<Removed> removed_;
};

TEST_F(L1PolicyTest, LowPriorityEntriesLeaveBeforeNormalAndNormalBeforeHigh) {
  L1 l1(options(300), clock_);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(l1.put(key(i), make(Priority::high)), PutResult::admitted);
    ASSERT_EQ(l1.put(key(1000 + i), make(Priority::low)), PutResult::admitted);
    ASSERT_EQ(l1.put(key(2000 + i), make(Priority::normal)), PutResult::admitted);
  }
  ASSERT_TRUE(removed_.empty());
  // Make the low entries the most popular ones: priority still wins over frequency.
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i) ASSERT_NE(l1.get(key(1000 + i)), nullptr);
  }
  for (int i = 0; i < 400; ++i) (void)l1.put(key(5000 + i), make(Priority::normal));
  ASSERT_FALSE(removed_.empty());
  Priority highest_so_far = Priority::low;
  for (const Removed& r : removed_) {
    EXPECT_GE(r.priority, highest_so_far) << r.key << " left after a higher-priority entry";
    highest_so_far = std::max(highest_so_far, r.priority);
    EXPECT_EQ(r.cause, RemovalCause::size);
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(l1.get(key(1000 + i)), nullptr) << "low entries go first";
    EXPECT_NE(l1.get(key(i)), nullptr) << "high entries stay while normal ones can leave";
  }
}

TEST_F(L1PolicyTest, ALowEntryMeetingAFullCacheOfNormalOnesIsRejected) {
  L1 l1(options(50), clock_);
  for (int i = 0; l1.stats().evicted_size == 0; ++i) {
    ASSERT_EQ(l1.put(key(i), make()), PutResult::admitted);
  }
  const auto before = l1.entries();
  EXPECT_EQ(l1.put("low", make(Priority::low)), PutResult::rejected);
  EXPECT_EQ(l1.get("low"), nullptr);
  EXPECT_EQ(l1.entries(), before);
}

TEST_F(L1PolicyTest, AOneTimeScanDoesNotFlushAFrequentlyUsedWorkingSet) {
  L1 l1(options(200), clock_);
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < 150; ++i) {
      if (l1.get(key(i)) == nullptr) (void)l1.put(key(i), make());
    }
  }
  for (int i = 0; i < 5000; ++i) {
    if (l1.get(key(10000 + i)) == nullptr) (void)l1.put(key(10000 + i), make());
  }
  int kept = 0;
  for (int i = 0; i < 150; ++i) kept += l1.get(key(i)) != nullptr ? 1 : 0;
  EXPECT_GE(kept, 140);
  const L1Stats s = l1.stats();
  EXPECT_GT(s.admissions_rejected, 4000U);
  EXPECT_LE(s.admissions_rejected, s.evicted_size);
}

TEST_F(L1PolicyTest, ListenerHearsEveryRemovalWithItsCause) {
  L1 l1(options(20), clock_);
  // High priority, so that the size evictions below take only the normal entries.
  Entry short_lived = *make(Priority::high);
  short_lived.stale_until = clock_.wall_now() + 1s;
  ASSERT_EQ(l1.put("short", std::make_shared<const Entry>(short_lived)), PutResult::admitted);
  ASSERT_EQ(l1.put("replace", make(Priority::high)), PutResult::admitted);
  ASSERT_EQ(l1.put("replace", make(Priority::high)), PutResult::admitted);
  ASSERT_TRUE(l1.erase("replace"));
  for (int i = 0; i < 120; ++i) (void)l1.put(key(i), make());
  clock_.advance(2s);
  EXPECT_EQ(l1.get("short"), nullptr);
  std::map<RemovalCause, std::uint64_t> causes;
  for (const Removed& r : removed_) ++causes[r.cause];
  const L1Stats s = l1.stats();
  EXPECT_EQ(causes[RemovalCause::size], s.evicted_size);
  EXPECT_GE(causes[RemovalCause::size], 10U);
  EXPECT_EQ(causes[RemovalCause::expired], 1U);
  EXPECT_EQ(causes[RemovalCause::replaced], 1U);
  EXPECT_EQ(causes[RemovalCause::erased], 1U);
  EXPECT_EQ(removed_.size(), s.evicted_size + 3);
}

TEST_F(L1PolicyTest, ExpiredEntriesAreEvictedBeforeLiveOnes) {
  L1Options o = options(50);
  o.sweep_per_put = 0;  // leave the expired ones to the eviction pass
  L1 l1(o, clock_);
  Entry soon = *make();
  soon.stale_until = clock_.wall_now() + 1s;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(l1.put(key(i), std::make_shared<const Entry>(soon)), PutResult::admitted);
  }
  for (int i = 10; i < 45; ++i) ASSERT_EQ(l1.put(key(i), make()), PutResult::admitted);
  clock_.advance(2s);
  for (int i = 45; i < 55; ++i) ASSERT_EQ(l1.put(key(i), make()), PutResult::admitted);
  for (const Removed& r : removed_) EXPECT_EQ(r.cause, RemovalCause::expired) << r.key;
}

TEST_F(L1PolicyTest, BeatsLruByFarOnALoopJustLargerThanTheCache) {
  const auto trace = sim::loop_trace(1100, 60000);
  const auto r = sim::replay(trace, sim::budget_for(1000, 64), 64);
  EXPECT_LT(r.lru, 0.01);
  EXPECT_GT(r.l1, 0.5);
}

TEST_F(L1PolicyTest, BeatsLruOnZipfAndOnZipfWithScans) {
  const std::size_t budget = sim::budget_for(1000, 64);
  const auto zipf = sim::replay(sim::zipf_trace(50000, 0.8, 100000, 7), budget, 64);
  EXPECT_GT(zipf.l1, zipf.lru);
  const auto scan = sim::replay(sim::scan_trace(50000, 0.9, 100000, 5000, 2000, 7), budget, 64);
  EXPECT_GT(scan.l1, scan.lru + 0.05);
}

}  // namespace
}  // namespace tiercache::cache
