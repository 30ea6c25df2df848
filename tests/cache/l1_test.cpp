#include "tiercache/cache/l1.hpp"

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

class L1Test : public ::testing::Test {
 protected:
  std::shared_ptr<const Entry> make(std::string value, std::chrono::seconds stale = 60s,
                                    Priority priority = Priority::normal) {
    Entry e;
    e.value = std::move(value);
    e.created = clock_.wall_now();
    e.fresh_until = clock_.wall_now() + stale / 2;
    e.stale_until = clock_.wall_now() + stale;
    e.priority = priority;
    return std::make_shared<const Entry>(std::move(e));
  }
  L1Options options(std::size_t max_bytes = 1 << 20) {
    L1Options o;
    o.max_bytes = max_bytes;
    o.shards = 1;
    o.on_removal = [this](std::string_view key, const std::shared_ptr<const Entry>&,
                          RemovalCause cause) { removals_.emplace_back(std::string(key), cause); };
    return o;
  }

  ManualClock clock_;
  std::vector<std::pair<std::string, RemovalCause>> removals_;
};

TEST_F(L1Test, ReturnsWhatWasPutAndNullForAbsentKeys) {
  L1 l1(options(), clock_);
  EXPECT_EQ(l1.get("a"), nullptr);
  const auto e = make("alpha");
  EXPECT_EQ(l1.put("a", e), PutResult::admitted);
  EXPECT_EQ(l1.get("a"), e);
  EXPECT_EQ(l1.get("b"), nullptr);
  EXPECT_EQ(l1.entries(), 1U);
}

TEST_F(L1Test, PutReplacesTheEntryUnderTheSameKey) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("a", make("one")), PutResult::admitted);
  const auto two = make("two");
  ASSERT_EQ(l1.put("a", two), PutResult::admitted);
  EXPECT_EQ(l1.get("a"), two);
  EXPECT_EQ(l1.entries(), 1U);
  ASSERT_EQ(removals_.size(), 1U);
  EXPECT_EQ(removals_[0], std::make_pair(std::string("a"), RemovalCause::replaced));
}

TEST_F(L1Test, ExpiresEntriesAtStaleUntilWithoutSleeping) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("a", make("alpha", 10s)), PutResult::admitted);
  clock_.advance(9s);
  EXPECT_NE(l1.get("a"), nullptr);  // stale but not expired: L1 still serves it
  clock_.advance(1s);
  EXPECT_EQ(l1.get("a"), nullptr);
  EXPECT_EQ(l1.entries(), 0U);  // reclaimed by the read that found it expired
  ASSERT_EQ(removals_.size(), 1U);
  EXPECT_EQ(removals_[0].second, RemovalCause::expired);
}

TEST_F(L1Test, PutsSweepExpiredEntriesOfOtherKeys) {
  L1 l1(options(), clock_);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(l1.put("old" + std::to_string(i), make("x", 5s)), PutResult::admitted);
  clock_.advance(6s);
  ASSERT_EQ(l1.put("new", make("y")), PutResult::admitted);
  EXPECT_EQ(l1.entries(), 1U);
  EXPECT_EQ(l1.stats().evicted_expired, 5U);
}

TEST_F(L1Test, EvictExpiredReclaimsEveryExpiredEntry) {
  L1 l1(options(), clock_);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(l1.put("k" + std::to_string(i), make("x", i % 2 == 0 ? 5s : 50s)),
              PutResult::admitted);
  }
  clock_.advance(6s);
  EXPECT_EQ(l1.evict_expired(), 1500U);
  EXPECT_EQ(l1.entries(), 1500U);
}

TEST_F(L1Test, RefusesAnEntryThatHasAlreadyExpired) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("a", make("alpha")), PutResult::admitted);
  Entry dead;
  dead.value = "gone";  // stale_until defaults to the epoch
  EXPECT_EQ(l1.put("a", std::make_shared<const Entry>(dead)), PutResult::expired);
  EXPECT_EQ(l1.get("a"), nullptr);  // the older value must not outlive a newer write
}

TEST_F(L1Test, RejectsAnEntryLargerThanAShardAndDropsTheOldValue) {
  L1 l1(options(64 << 10), clock_);
  ASSERT_EQ(l1.put("a", make("small")), PutResult::admitted);
  const auto huge = make(std::string(64 << 10, 'x'));
  EXPECT_GT(L1::charge("a", *huge), l1.max_entry_bytes());
  EXPECT_EQ(l1.put("a", huge), PutResult::too_large);
  EXPECT_EQ(l1.get("a"), nullptr);
  EXPECT_EQ(l1.stats().rejected_too_large, 1U);
  EXPECT_LE(l1.size_bytes(), l1.max_bytes());
}

TEST_F(L1Test, EraseRemovesOneKeyAndSaysWhetherItWasThere) {
  L1 l1(options(), clock_);
  ASSERT_EQ(l1.put("a", make("alpha")), PutResult::admitted);
  ASSERT_EQ(l1.put("b", make("beta")), PutResult::admitted);
  EXPECT_TRUE(l1.erase("a"));
  EXPECT_FALSE(l1.erase("a"));
  EXPECT_EQ(l1.get("a"), nullptr);
  EXPECT_NE(l1.get("b"), nullptr);
  ASSERT_EQ(removals_.size(), 1U);
  EXPECT_EQ(removals_[0], std::make_pair(std::string("a"), RemovalCause::erased));
}

TEST_F(L1Test, EraseIfRemovesEntriesByTag) {
  L1 l1(options(), clock_);
  for (int i = 0; i < 100; ++i) {
    Entry e = *make("v");
    e.tags = {i % 3 == 0 ? "city:paris" : "city:rome", "all"};
    ASSERT_EQ(l1.put("k" + std::to_string(i), std::make_shared<const Entry>(std::move(e))),
              PutResult::admitted);
  }
  const auto removed = l1.erase_if([](std::string_view, const Entry& e) {
    return std::find(e.tags.begin(), e.tags.end(), "city:paris") != e.tags.end();
  });
  EXPECT_EQ(removed, 34U);
  EXPECT_EQ(l1.entries(), 66U);
  EXPECT_EQ(l1.get("k3"), nullptr);
  EXPECT_NE(l1.get("k4"), nullptr);
}

TEST_F(L1Test, ClearEmptiesEveryShardAndReturnsToTheEmptyFootprint) {
  auto o = options(8 << 20);
  o.shards = 4;
  L1 l1(o, clock_);
  const auto empty = l1.size_bytes();
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(l1.put("k" + std::to_string(i), make("v")), PutResult::admitted);
  EXPECT_GT(l1.size_bytes(), empty);
  l1.clear();
  EXPECT_EQ(l1.entries(), 0U);
  EXPECT_EQ(removals_.size(), 1000U);
  // The tables keep their grown arrays; every entry's own charge is gone.
  EXPECT_LT(l1.size_bytes(), empty + 64 * 1024);
}

TEST_F(L1Test, ListenerMayCallBackIntoTheCache) {
  auto o = options();
  L1* self = nullptr;
  int calls = 0;
  o.on_removal = [&](std::string_view key, const std::shared_ptr<const Entry>&, RemovalCause) {
    ++calls;
    if (key == "a") (void)self->put("b", make("from listener"));
  };
  L1 l1(o, clock_);
  self = &l1;
  ASSERT_EQ(l1.put("a", make("alpha")), PutResult::admitted);
  l1.erase("a");
  EXPECT_EQ(calls, 1);
  EXPECT_NE(l1.get("b"), nullptr);
}

TEST_F(L1Test, CountsEveryOutcomeExactlyUnderAScriptedSequence) {
  L1 l1(options(64 << 10), clock_);
  ASSERT_EQ(l1.put("a", make("1", 10s)), PutResult::admitted);  // puts 1
  ASSERT_EQ(l1.put("b", make("2")), PutResult::admitted);       // puts 2
  (void)l1.get("a");                                            // hit 1
  (void)l1.get("b");                                            // hit 2
  (void)l1.get("zzz");                                          // miss 1
  ASSERT_EQ(l1.put("b", make("3")), PutResult::admitted);       // puts 3, replaced 1
  EXPECT_EQ(l1.put("c", make(std::string(70 << 10, 'x'))), PutResult::too_large);
  l1.erase("b");  // explicit 1
  clock_.advance(10s);
  (void)l1.get("a");  // miss 2, expired 1
  const auto ticket = l1.begin_load("d");
  l1.erase("d");
  EXPECT_EQ(l1.put_if_current(ticket, make("4")), PutResult::stale_ticket);
  const L1Stats s = l1.stats();
  EXPECT_EQ(s.hits, 2U);
  EXPECT_EQ(s.misses, 2U);
  EXPECT_EQ(s.puts, 3U);
  EXPECT_EQ(s.replaced, 1U);
  EXPECT_EQ(s.rejected_too_large, 1U);
  EXPECT_EQ(s.removed_explicit, 1U);
  EXPECT_EQ(s.evicted_expired, 1U);
  EXPECT_EQ(s.evicted_size, 0U);
  EXPECT_EQ(s.stale_fills, 1U);
  EXPECT_EQ(s.rejected_expired, 0U);
  EXPECT_DOUBLE_EQ(s.hit_ratio(), 0.5);
  EXPECT_EQ(l1.entries(), 0U);
}

TEST_F(L1Test, ChargesKeyValueTagsAndDependenciesByWhatTheyAllocate) {
  const auto bare = make("");
  const std::size_t base = L1::charge("k", *bare);
  EXPECT_GE(base, sizeof(Entry) + 64);  // node + Entry block at least
  Entry big = *bare;
  big.value.assign(1000, 'x');
  EXPECT_GE(L1::charge("k", big), base + 1000);
  big.tags = {std::string(100, 't')};
  big.dependencies = {std::string(200, 'd')};
  EXPECT_GE(L1::charge("k", big), base + 1300);
  EXPECT_GE(L1::charge(std::string(500, 'k'), *bare), base + 500);
}

TEST_F(L1Test, RejectsAShardCountThatIsNotAPowerOfTwo) {
  auto o = options();
  o.shards = 3;
  EXPECT_THROW(L1(o, clock_), std::invalid_argument);
  o.shards = 1;
  o.max_bytes = 1000;  // cannot hold a shard's own state
  EXPECT_THROW(L1(o, clock_), std::invalid_argument);
}

TEST_F(L1Test, PicksAPowerOfTwoShardCountByDefault) {
  L1Options o;
  L1 l1(o, clock_);
  EXPECT_GE(l1.shard_count(), 1U);
  EXPECT_EQ(l1.shard_count() & (l1.shard_count() - 1), 0U);
  EXPECT_GE(l1.max_bytes() / l1.shard_count(), std::size_t{256} << 10);
}

}  // namespace
}  // namespace tiercache::cache
