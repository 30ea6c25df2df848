// L1 coherence across two Cache instances on their own Clients (standing for two processes):
// a write through one, or a raw SET from redis-cli, stops the other's L1 from serving the old
// value within a measured time; the invalidation that overtakes a GET's reply wins (the reply
// is not cached); a link that drops fences L1; RESP2 links bound L1 by untracked_l1_ttl.

#include "tiercache/cache/cache.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheCoherenceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    return test::tracked_cache(ex(), server_, std::move(options));
  }
  asio::any_io_executor ex() { return io_.executor(); }

  // Reads key through `cache` until it no longer answers `old_value`; returns how long it took.
  std::chrono::microseconds time_until_not(Cache& cache, const std::string& key,
                                           const std::string& old_value,
                                           std::chrono::steady_clock::time_point since) {
    EXPECT_TRUE(test::eventually([&] {
      auto r = run(ex(), cache.get(key));
      return r && (!r->hit() || r->value() != old_value);
    }));
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 since);
  }

  test::RedisServer server_;
  test::IoThreads io_{2};
};

TEST_F(CacheCoherenceTest, AWriteThroughOneInstanceEvictsTheOthersL1Copy) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "old")));
  auto r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  ASSERT_EQ(r->source, Source::l1);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run(ex(), a->set("k", "new")));
  const auto took = time_until_not(*b, "k", "old", t0);
  std::printf("[ measured ] write via instance A -> B's L1 stops serving old: %lld us\n",
              static_cast<long long>(took.count()));
  r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "new");
  EXPECT_LT(took, 1s);
  EXPECT_GE(b->stats().invalidations_received, 1u);
}

TEST_F(CacheCoherenceTest, ARawSetFromRedisCliEvictsTheL1Copy) {
  auto b = make();
  ASSERT_TRUE(run(ex(), b->set("k", "old")));
  auto rk = *run(ex(), b->redis_key("k"));
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), b->get("k"));
    return r && r->hit() && r->source == Source::l1;
  }));
  const auto t0 = std::chrono::steady_clock::now();
  server_.cli({"SET", rk, "raw bytes"});
  const auto took = time_until_not(*b, "k", "old", t0);
  std::printf(
      "[ measured ] raw SET from redis-cli -> L1 stops serving old: %lld us "
      "(includes redis-cli start-up)\n",
      static_cast<long long>(took.count()));
  EXPECT_LT(took, 2s);
}

TEST_F(CacheCoherenceTest, AnInvalidationThatOvertakesTheReplyKeepsItOutOfL1) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "v1")));
  auto rk = *run(ex(), b->redis_key("k"));  // B caches the namespace version now
  const auto misses_before = b->l1()->stats().misses;
  server_.pause();
  auto pending = test::start(ex(), b->get("k"));
  // The read missed L1 and took its ticket; its GET waits on the paused server.
  ASSERT_TRUE(test::eventually([&] { return b->l1()->stats().misses > misses_before; }));
  b->invalidate_l1_for_test(rk);  // the push that overtakes the reply
  server_.resume();
  ASSERT_EQ(pending.wait_for(10s), std::future_status::ready);
  auto r = pending.get();
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v1");                  // the caller gets the reply...
  EXPECT_GE(b->l1()->stats().stale_fills, 1u);  // ...but L1 does not keep it
  r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::l2);
}

TEST_F(CacheCoherenceTest, ALinkThatDropsFencesL1) {
  auto b = make();
  ASSERT_TRUE(run(ex(), b->set("k", "v")));
  (void)run(ex(), b->get("k"));
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), b->get("k"));
    return r && r->hit() && r->source == Source::l1;
  }));
  const auto fences = b->stats().fences;
  server_.cli({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(test::eventually([&] { return b->stats().fences > fences; }));
  ASSERT_TRUE(test::eventually([&] { return b->tracking(); }));
  auto r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::l2);  // L1 was emptied by the fence
}

TEST_F(CacheCoherenceTest, WithoutTrackingL1CopiesLiveAtMostUntrackedL1Ttl) {
  auto config = server_.config();
  config.protocol = 2;
  config.client_tracking = true;
  ManualClock clock;
  Cache b(std::make_shared<redis::Client>(ex(), config),
          Options{.untracked_l1_ttl = 500ms, .clock = &clock});
  ASSERT_TRUE(run(ex(), b.set("k", "old", {.ttl = 1h})));
  auto rk = *run(ex(), b.redis_key("k"));
  (void)run(ex(), b.get("k"));
  auto r = run(ex(), b.get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_FALSE(b.tracking());
  server_.cli({"SET", rk, "raw"});
  clock.advance(600ms);  // past the bound: L1 must ask Redis
  r = run(ex(), b.get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
}

}  // namespace
}  // namespace tiercache::cache
