// Cache operations beyond one key's get and set: get_many / set_many (one round trip each, seen
// in Redis's own command counts), set_if_absent and compare_and_set under racing writers over two
// instances, counters with a TTL set once, TTL jitter, and all of them in the embedded mode.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheOpsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    options.clock = &clock_;
    return test::tracked_cache(ex(), server_, std::move(options));
  }
  asio::any_io_executor ex() { return io_.executor(); }

  // How many times Redis ran `command`, to count round trips.
  std::uint64_t calls(const std::string& command) { return server_.calls(command); }

  ManualClock clock_;
  test::RedisServer server_;
  test::IoThreads io_{2};
};

TEST_F(CacheOpsTest, GetManyAnswersInOrderFromL1AndOneMget) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k1", "one")));
  ASSERT_TRUE(run(ex(), a->set("k2", "two")));
  ASSERT_TRUE(run(ex(), b->set("k3", "three")));  // in b's L1
  const auto mgets = calls("mget");
  auto r = run(ex(), b->get_many({"k1", "k3", "absent", "k2"}));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].source, Source::l2);
  EXPECT_EQ((*r)[0].value(), "one");
  EXPECT_EQ((*r)[1].source, Source::l1);
  EXPECT_EQ((*r)[1].value(), "three");
  EXPECT_FALSE((*r)[2].hit());
  EXPECT_FALSE((*r)[2].error);
  EXPECT_EQ((*r)[3].value(), "two");
  EXPECT_EQ(calls("mget"), mgets + 1);
  r = run(ex(), b->get_many({"k1", "k2"}));  // now both from L1: no round trip
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].source, Source::l1);
  EXPECT_EQ(calls("mget"), mgets + 1);
}

TEST_F(CacheOpsTest, GetManyWithRedisGoneServesWhatL1KeptAndFlagsTheRest) {
  auto a = make();
  ASSERT_TRUE(run(ex(), a->set("kept", "v")));
  server_.stop();
  ASSERT_TRUE(test::eventually([&] { return !a->tracking(); }));
  auto r = run(ex(), a->get_many({"kept", "never"}));
  ASSERT_TRUE(r);
  ASSERT_TRUE((*r)[0].hit());
  EXPECT_TRUE((*r)[0].degraded);
  EXPECT_EQ((*r)[0].value(), "v");
  EXPECT_FALSE((*r)[1].hit());
  EXPECT_TRUE((*r)[1].degraded);
  EXPECT_EQ((*r)[1].error, Errc::redis_unavailable);
}

TEST_F(CacheOpsTest, WithL1OffAReadIsOneGetAndVersionsStayCoherent) {
  auto a = make(Options{.l1_bytes = 0});
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "v", {.tags = {"t"}})));
  ASSERT_TRUE(run(ex(), a->get("k")));  // learns the namespace and tag versions
  const auto gets = calls("get");
  for (int i = 0; i < 10; ++i) {
    auto r = run(ex(), a->get("k"));
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->source, Source::l2);
  }
  EXPECT_EQ(calls("get"), gets + 10);  // no version GETs: they are cached, tracked
  ASSERT_TRUE(run(ex(), b->invalidate_tags({"t"})));
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), a->get("k"));
    return r && !r->hit();
  }));
  ASSERT_TRUE(run(ex(), a->set("k", "v2")));
  ASSERT_TRUE(run(ex(), b->invalidate_namespace()));
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), a->get("k"));
    return r && !r->hit();
  }));
}

TEST_F(CacheOpsTest, SetManyWritesEveryItemInOneTransaction) {
  auto a = make();
  auto b = make();
  const auto execs = calls("exec");
  std::vector<std::pair<std::string, std::string>> items{{"x", "1"}, {"y", "2"}, {"z", "3"}};
  ASSERT_TRUE(run(ex(), a->set_many(items, {.tags = {"batch"}})));
  EXPECT_EQ(calls("exec"), execs + 1);
  auto r = run(ex(), b->get_many({"x", "y", "z"}));
  ASSERT_TRUE(r);
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE((*r)[i].hit()) << items[i].first;
    EXPECT_EQ((*r)[i].value(), items[i].second);
  }
  ASSERT_TRUE(run(ex(), a->invalidate_tags({"batch"})));
  // b learns of the new tag version by its tracking push, a moment after the bump.
  ASSERT_TRUE(test::eventually([&] {
    auto after = run(ex(), b->get_many({"x", "y", "z"}));
    return after && std::none_of(after->begin(), after->end(),
                                 [](const ReadResult& one) { return one.hit(); });
  }));
}

TEST_F(CacheOpsTest, SetManyWithOneBadKeyWritesNothing) {
  auto a = make();
  std::vector<std::pair<std::string, std::string>> items{{"good", "1"}, {"", "2"}};
  auto w = run(ex(), a->set_many(items));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::invalid_key);
  auto r = run(ex(), a->get("good"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
}

TEST_F(CacheOpsTest, SetIfAbsentHasOneWinnerAmongRacersOverTwoInstances) {
  auto a = make();
  auto b = make();
  std::vector<std::future<Result<bool>>> racers;
  for (int i = 0; i < 40; ++i) {
    auto& cache = i % 2 == 0 ? *a : *b;
    racers.push_back(test::start(ex(), cache.set_if_absent("lock", "owner-" + std::to_string(i))));
  }
  int winners = 0;
  std::string winner;
  for (std::size_t i = 0; i < racers.size(); ++i) {
    ASSERT_EQ(racers[i].wait_for(20s), std::future_status::ready);
    auto won = racers[i].get();
    ASSERT_TRUE(won) << won.error().message();
    if (*won) {
      ++winners;
      winner = "owner-" + std::to_string(i);
    }
  }
  EXPECT_EQ(winners, 1);
  for (auto* cache : {a.get(), b.get()}) {
    auto r = run(ex(), cache->get("lock"));
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->value(), winner);
  }
}

TEST_F(CacheOpsTest, SetIfAbsentReplacesAStaleOrInvalidatedValueButNotAFreshOne) {
  auto a = make();
  ASSERT_TRUE(run(ex(), a->set("k", "fresh", {.ttl = 1s, .grace = 1h, .tags = {"t"}})));
  EXPECT_FALSE(*run(ex(), a->set_if_absent("k", "other")));
  clock_.advance(2s);  // stale now, still in Redis for its grace
  EXPECT_TRUE(*run(ex(), a->set_if_absent("k", "second", {.ttl = 1h, .tags = {"t"}})));
  EXPECT_EQ(run(ex(), a->get("k"))->value(), "second");
  ASSERT_TRUE(run(ex(), a->invalidate_tags({"t"})));
  EXPECT_TRUE(*run(ex(), a->set_if_absent("k", "third")));
  EXPECT_EQ(run(ex(), a->get("k"))->value(), "third");
}

TEST_F(CacheOpsTest, CompareAndSetWritesOnlyOverTheVersionItRead) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "v1")));
  auto seen_a = run(ex(), a->get("k"));  // from a's L1
  auto seen_b = run(ex(), b->get("k"));  // from Redis
  ASSERT_TRUE(seen_a && seen_a->hit() && seen_b && seen_b->hit());
  EXPECT_EQ(seen_a->source, Source::l1);
  EXPECT_EQ(seen_b->source, Source::l2);
  const std::uint64_t version = seen_a->entry->version;
  EXPECT_NE(version, 0u);
  EXPECT_EQ(seen_b->entry->version, version);  // both tiers agree on the token
  EXPECT_TRUE(*run(ex(), b->compare_and_set("k", version, "v2")));
  EXPECT_FALSE(*run(ex(), a->compare_and_set("k", version, "v3")));  // lost: v2 came first
  auto r = run(ex(), a->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v2");
  EXPECT_FALSE(*run(ex(), a->compare_and_set("absent", version, "v")));
}

TEST_F(CacheOpsTest, CompareAndSetRacersOnTheSameVersionHaveOneWinner) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "start")));
  const auto version = run(ex(), a->get("k"))->entry->version;
  std::vector<std::future<Result<bool>>> racers;
  for (int i = 0; i < 20; ++i) {
    auto& cache = i % 2 == 0 ? *a : *b;
    racers.push_back(
        test::start(ex(), cache.compare_and_set("k", version, "by-" + std::to_string(i))));
  }
  int winners = 0;
  for (auto& f : racers) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto won = f.get();
    ASSERT_TRUE(won);
    winners += *won ? 1 : 0;
  }
  EXPECT_EQ(winners, 1);
}

TEST_F(CacheOpsTest, CountersCountAcrossInstancesAndTheirTtlIsSetOnce) {
  auto a = make();
  auto b = make();
  std::vector<std::future<Result<std::int64_t>>> adds;
  for (int i = 0; i < 200; ++i) {
    adds.push_back(test::start(ex(), (i % 2 == 0 ? *a : *b).incr("hits", 1, 10s)));
  }
  for (auto& f : adds) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    ASSERT_TRUE(f.get());
  }
  auto total = run(ex(), b->counter("hits"));
  ASSERT_TRUE(total && *total);
  EXPECT_EQ(**total, 200);
  auto rk = *run(ex(), a->redis_key("hits"));
  const auto expires_at = server_.cli({"PEXPIRETIME", rk});
  const auto pttl = std::stoll(server_.cli({"PTTL", rk}));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 10'000);
  ASSERT_TRUE(run(ex(), a->incr("hits", 5, 1h)));
  EXPECT_EQ(server_.cli({"PEXPIRETIME", rk}), expires_at);  // not extended
  EXPECT_EQ(**run(ex(), a->counter("hits")), 205);
  EXPECT_EQ(*run(ex(), a->counter("never")), std::nullopt);
}

TEST_F(CacheOpsTest, CountersAndEntriesDoNotMix) {
  auto a = make();
  ASSERT_TRUE(run(ex(), a->set("entry", "v")));
  auto bad = run(ex(), a->incr("entry"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), Errc::invalid_argument);
  ASSERT_TRUE(run(ex(), a->incr("count", 2)));
  auto r = run(ex(), a->get("count"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  EXPECT_EQ(r->error, Errc::not_an_entry);
  auto c = run(ex(), a->counter("entry"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), Errc::invalid_argument);
  auto overflow = run(ex(), a->incr("count", std::numeric_limits<std::int64_t>::max()));
  ASSERT_FALSE(overflow);
  EXPECT_EQ(overflow.error(), Errc::invalid_argument);
}

TEST_F(CacheOpsTest, TtlJitterSpreadsTheExpiriesOfValuesWrittenTogether) {
  auto a = make(Options{.ttl_jitter = 0.5});
  std::set<std::int64_t> ttls;
  for (int i = 0; i < 100; ++i) {
    const std::string key = "j" + std::to_string(i);
    ASSERT_TRUE(run(ex(), a->set(key, "v", {.ttl = 100s, .grace = 0ms})));
    auto t = run(ex(), a->ttl(key));
    ASSERT_TRUE(t && *t);
    EXPECT_GE(**t, 49s);
    EXPECT_LE(**t, 100s);
    ttls.insert((**t).count() / 1000);
  }
  EXPECT_GT(ttls.size(), 20u);  // spread over the 50 s window, not one instant
}

TEST(CacheOpsEmbeddedTest, EveryOperationWorksWithoutRedis) {
  test::IoThreads io;
  ManualClock clock;
  Cache cache(nullptr, Options{.clock = &clock});
  auto ex = io.executor();
  std::vector<std::pair<std::string, std::string>> items{{"a", "1"}, {"b", "2"}};
  ASSERT_TRUE(run(ex, cache.set_many(items)));
  auto many = run(ex, cache.get_many({"b", "none", "a"}));
  ASSERT_TRUE(many);
  EXPECT_EQ((*many)[0].value(), "2");
  EXPECT_FALSE((*many)[1].hit());
  EXPECT_EQ((*many)[2].value(), "1");

  EXPECT_TRUE(*run(ex, cache.set_if_absent("once", "first")));
  EXPECT_FALSE(*run(ex, cache.set_if_absent("once", "second")));
  const auto version = run(ex, cache.get("once"))->entry->version;
  EXPECT_TRUE(*run(ex, cache.compare_and_set("once", version, "third")));
  EXPECT_FALSE(*run(ex, cache.compare_and_set("once", version, "fourth")));
  EXPECT_EQ(run(ex, cache.get("once"))->value(), "third");

  EXPECT_EQ(*run(ex, cache.incr("n", 3, 1s)), 3);
  EXPECT_EQ(*run(ex, cache.incr("n", 4, 1h)), 7);
  clock.advance(2s);  // the first TTL holds
  EXPECT_EQ(*run(ex, cache.counter("n")), std::nullopt);
  EXPECT_EQ(*run(ex, cache.incr("n")), 1);
}

}  // namespace
}  // namespace tiercache::cache
