// L1's read buffer (policy.cpp, "The read buffer"): a hit only records its node, and the policy
// replays the buffered hits later. A buffered node that leaves the shard before a replay must not
// be touched again (the asan build reports it), buffered hits must still count once replayed, and
// a full buffer must replay by itself.
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include "cache/l1/charge.hpp"
#include "cache/l1/expiry_clock.hpp"
#include "cache/l1/shard.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace tiercache::cache {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Entry> make(const Clock& clock, Priority priority = Priority::normal,
                                  std::chrono::seconds ttl = 60s) {
  Entry e;
  e.value.assign(100, 'v');
  e.fresh_until = e.stale_until = clock.wall_now() + ttl;
  e.priority = priority;
  return std::make_shared<const Entry>(std::move(e));
}

std::string key(const char* prefix, int i) { return prefix + std::to_string(i); }

// How a hit node leaves before anything else replays the buffer.
enum class Removal {
  erase,
  erase_if,
  clear,
  fence,
  replace,
  expire_on_get,
  sweep,
  evict_expired,
  evict
};

class L1ReadBufferRemovalTest : public ::testing::TestWithParam<Removal> {
 protected:
  // One shard of about 50 entries, so that the churn below evicts.
  L1Options options() {
    L1Options o;
    o.shards = 1;
    o.max_bytes = 16384 + 50 * (48 + L1::charge("key:00000", *make(clock_)));
    o.on_removal = [this](std::string_view k, const std::shared_ptr<const Entry>&,
                          RemovalCause cause) { removed_.emplace_back(std::string(k), cause); };
    return o;
  }
  PutResult put(L1& l1, const std::string& k, std::shared_ptr<const Entry> e) {
    const PutResult r = l1.put(k, std::move(e));
    if (r == PutResult::admitted) ++admitted_;
    if (r == PutResult::rejected) ++rejected_;
    return r;
  }
  bool removed(const std::string& k) const {
    for (const auto& r : removed_) {
      if (r.first == k) return true;
    }
    return false;
  }

  ManualClock clock_;
  std::vector<std::pair<std::string, RemovalCause>> removed_;
  std::uint64_t admitted_ = 0;
  std::uint64_t rejected_ = 0;
};

TEST_P(L1ReadBufferRemovalTest, AHitNodeThatLeavesBeforeAReplayIsNeverTouchedAgain) {
  L1 l1(options(), clock_);
  // x is the only normal entry among high ones, so that it is the first to leave for room.
  ASSERT_EQ(put(l1, "x", make(clock_, Priority::normal, 10s)), PutResult::admitted);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(put(l1, key("high:", i), make(clock_, Priority::high)), PutResult::admitted);
  }
  ASSERT_NE(l1.get("x"), nullptr);  // buffered, not yet replayed
  switch (GetParam()) {
    case Removal::erase:
      ASSERT_TRUE(l1.erase("x"));
      break;
    case Removal::erase_if:
      ASSERT_EQ(l1.erase_if([](std::string_view k, const Entry&) { return k == "x"; }), 1U);
      break;
    case Removal::clear:
      l1.clear();
      break;
    case Removal::fence:
      l1.fence();
      break;
    case Removal::replace:
      ASSERT_EQ(put(l1, "x", make(clock_)), PutResult::admitted);
      break;
    case Removal::expire_on_get:
      clock_.advance(11s);
      ASSERT_EQ(l1.get("x"), nullptr);
      break;
    case Removal::sweep:
      clock_.advance(11s);
      ASSERT_EQ(put(l1, "y", make(clock_, Priority::high)), PutResult::admitted);
      break;
    case Removal::evict_expired:
      clock_.advance(11s);
      ASSERT_EQ(l1.evict_expired(), 1U);
      break;
    case Removal::evict:
      for (int i = 10; !removed("x"); ++i) {
        ASSERT_LT(i, 1000) << "x never left";
        ASSERT_NE(l1.get("x"), nullptr);
        ASSERT_EQ(put(l1, key("high:", i), make(clock_, Priority::high)), PutResult::admitted);
      }
      break;
  }
  ASSERT_TRUE(removed("x"));
  ASSERT_EQ(l1.get("x") == nullptr, GetParam() != Removal::replace);

  // Churn through every queue, hits filling the buffer, then check that what the policy holds
  // adds up: a node lost or left behind in a queue would break the bound or the balance.
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 100; ++i) {
      const std::string k = key("churn:", (i * 7 + round) % 100);
      if (l1.get(k) == nullptr) (void)put(l1, k, make(clock_));
    }
  }
  const L1Stats s = l1.stats();
  EXPECT_GT(s.evicted_size, 0U);
  EXPECT_LE(l1.size_bytes(), l1.max_bytes());
  EXPECT_EQ(removed_.size(), s.evicted_size + s.evicted_expired + s.removed_explicit + s.replaced);
  EXPECT_EQ(admitted_, s.puts);
  EXPECT_EQ(admitted_ + rejected_, removed_.size() + l1.entries());
  l1.clear();
  EXPECT_EQ(l1.entries(), 0U);
}

const char* name(Removal removal) {
  static const char* const kNames[] = {"Erase",       "EraseIf", "Clear",        "Fence", "Replace",
                                       "ExpireOnGet", "Sweep",   "EvictExpired", "Evict"};
  return kNames[static_cast<int>(removal)];
}
// GoogleTest prints a parameter with this (the test list, and so ctest's names, show it).
void PrintTo(Removal removal, std::ostream* os) { *os << name(removal); }
std::string removal_name(const ::testing::TestParamInfo<Removal>& info) { return name(info.param); }

INSTANTIATE_TEST_SUITE_P(EveryRemoval, L1ReadBufferRemovalTest,
                         ::testing::Values(Removal::erase, Removal::erase_if, Removal::clear,
                                           Removal::fence, Removal::replace, Removal::expire_on_get,
                                           Removal::sweep, Removal::evict_expired, Removal::evict),
                         removal_name);

TEST(L1ReadBufferTest, BufferedHitsProtectAnEntryFromEvictionOnceReplayed) {
  ManualClock clock;
  L1Options o;
  o.shards = 1;
  o.max_bytes = 16384 + 50 * (48 + L1::charge("key:00000", *make(clock)));
  L1 l1(o, clock);
  // hot and cold arrive together; only hot is read, fewer times than fill the buffer.
  ASSERT_EQ(l1.put("hot", make(clock)), PutResult::admitted);
  ASSERT_EQ(l1.put("cold", make(clock)), PutResult::admitted);
  for (int i = 0; i < 40; ++i) (void)l1.put(key("fill:", i), make(clock));
  for (int i = 0; i < 10; ++i) ASSERT_NE(l1.get("hot"), nullptr);
  // Newcomers read 3 times each outrank an unread entry, never one read 10 times.
  for (int i = 0; i < 300; ++i) {
    const std::string k = key("new:", i);
    (void)l1.put(k, make(clock));
    for (int j = 0; j < 3; ++j) (void)l1.get(k);
  }
  EXPECT_EQ(l1.get("cold"), nullptr);
  EXPECT_NE(l1.get("hot"), nullptr);
}

// The shard itself, to see the policy's state without replaying the buffer first.
class L1ReadBufferShardTest : public ::testing::Test {
 protected:
  void SetUp() override { shard_.configure(1 << 20, L1Options{}); }
  std::uint64_t put(const std::string& k) {
    const auto entry = make(clock_);
    auto node = std::make_unique<detail::Node>();
    node->key = k;
    node->hash = std::hash<std::string>{}(k);
    node->charge = detail::entry_charge(k, *entry);
    node->stale_until = entry->stale_until;
    node->entry = entry;
    const std::uint64_t hash = node->hash;
    detail::Graveyard out;
    EXPECT_EQ(shard_.put(std::move(node), clock_.wall_now(), nullptr, out), PutResult::admitted);
    return hash;
  }
  bool get(const std::string& k) {
    const detail::ExpiryClock expiry(clock_, false);
    detail::Graveyard out;
    return shard_.get(k, std::hash<std::string>{}(k), expiry, expiry.bound(), out) != nullptr;
  }

  ManualClock clock_;
  detail::Shard shard_;
};

TEST_F(L1ReadBufferShardTest, AFullBufferReplaysItself) {
  const std::uint64_t a = put("a");
  ASSERT_EQ(shard_.frequency_for_test(a), 1U);  // the put counted once
  for (std::size_t i = 0; i + 1 < detail::Shard::kReadBuffer; ++i) ASSERT_TRUE(get("a"));
  EXPECT_EQ(shard_.frequency_for_test(a), 1U) << "hits are buffered";
  ASSERT_TRUE(get("a"));
  EXPECT_EQ(shard_.frequency_for_test(a), 15U) << "the buffer filled and was replayed";
}

TEST_F(L1ReadBufferShardTest, AMissOrAPutReplaysTheBufferFirst) {
  const std::uint64_t a = put("a");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("a"));
  EXPECT_EQ(shard_.frequency_for_test(a), 1U);
  EXPECT_FALSE(get("absent"));
  EXPECT_EQ(shard_.frequency_for_test(a), 4U);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("a"));
  (void)put("b");
  EXPECT_EQ(shard_.frequency_for_test(a), 7U);
}

}  // namespace
}  // namespace tiercache::cache
