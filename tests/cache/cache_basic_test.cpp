// Cache on one key: write-through and read-your-own-write, del/exists/ttl/expire, TTL expiry in
// L1 (the cache's clock decides) and in L2 (Redis's TTL decides), the stale window, corrupt and
// foreign bytes, oversized values, bad keys, and the embedded (no Redis) mode.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheBasicTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    options.clock = &clock_;
    return std::make_unique<Cache>(test::tracking_client(io_.executor(), server_), options);
  }
  asio::any_io_executor ex() { return io_.executor(); }

  // Declared first so it outlives the io threads: a load still running at teardown reads it.
  ManualClock clock_;
  test::RedisServer server_;
  test::IoThreads io_{2};
};

TEST_F(CacheBasicTest, SetThenGetReadsItsOwnWriteFromL1) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), cache->set("k", "v1")));
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->hit());
  EXPECT_EQ(r->value(), "v1");
  ASSERT_TRUE(run(ex(), cache->set("k", "v2")));
  r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v2");  // never the old value, whatever tier answers
}

TEST_F(CacheBasicTest, ASecondInstanceReadsTheValueFromRedis) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "hello")));
  auto r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::l2);
  EXPECT_EQ(r->value(), "hello");
  r = run(ex(), b->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::l1);
}

TEST_F(CacheBasicTest, DelRemovesFromBothTiersAndExistsFollows) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), cache->set("k", "v")));
  EXPECT_TRUE(*run(ex(), cache->exists("k")));
  EXPECT_TRUE(*run(ex(), cache->del("k")));
  EXPECT_FALSE(*run(ex(), cache->exists("k")));
  EXPECT_FALSE(*run(ex(), cache->del("k")));
  auto rk = run(ex(), cache->redis_key("k"));
  ASSERT_TRUE(rk);
  EXPECT_EQ(server_.cli({"EXISTS", *rk}), "0");
}

TEST_F(CacheBasicTest, TtlIsFreshPlusGraceAndExpireTouchesIt) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), cache->set("k", "v", {.ttl = 10s, .grace = 5s})));
  auto t = run(ex(), cache->ttl("k"));
  ASSERT_TRUE(t && *t);
  EXPECT_GT(**t, 14s);
  EXPECT_LE(**t, 15s);
  ASSERT_TRUE(*run(ex(), cache->expire("k", 100s)));
  t = run(ex(), cache->ttl("k"));
  ASSERT_TRUE(t && *t);
  EXPECT_GT(**t, 100s);
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v");
  EXPECT_FALSE(*run(ex(), cache->expire("absent", 1s)));
  EXPECT_FALSE(*run(ex(), cache->ttl("absent")));
}

TEST_F(CacheBasicTest, AnEntryTurnsStaleThenExpiresByTheCachesClock) {
  auto cache = make();
  ASSERT_TRUE(run(ex(), cache->set("k", "v", {.ttl = 10s, .grace = 20s})));
  clock_.advance(11s);
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_TRUE(r->stale);
  EXPECT_EQ(r->source, Source::l1);
  clock_.advance(20s);  // past stale_until: L1 drops it, and L2's header says expired too
  r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
}

TEST_F(CacheBasicTest, StatsCountEveryReadByWhereItsAnswerCameFrom) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("k", "v", {.ttl = 10s, .grace = 20s})));
  ASSERT_TRUE(run(ex(), b->get("k")));       // from Redis
  ASSERT_TRUE(run(ex(), b->get("k")));       // from L1
  ASSERT_TRUE(run(ex(), b->get("absent")));  // nowhere
  EXPECT_FALSE(run(ex(), b->get("")));       // refused
  auto calls = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(run(ex(), b->get_or_load("loaded", test::counting(calls, "x"))));  // a miss, loaded
  auto many = run(ex(), b->get_many({"k", "absent"}));  // one L1 hit, one miss
  ASSERT_TRUE(many);
  clock_.advance(11s);
  ASSERT_TRUE(run(ex(), b->get("k")));  // stale, inside its grace

  const CacheStats s = b->stats();
  EXPECT_EQ(s.hits_l2, 1u);
  EXPECT_EQ(s.hits_l1, 2u);
  EXPECT_EQ(s.misses, 3u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.stale_served, 1u);
  EXPECT_EQ(s.reads(), 8u);
  EXPECT_DOUBLE_EQ(s.hit_ratio(), 4.0 / 8.0);
  EXPECT_EQ(s.l1_entries, 2u);  // k and loaded
  EXPECT_GT(s.l1_bytes, 0u);
  EXPECT_EQ(a->stats().reads(), 0u);  // a only wrote
}

TEST_F(CacheBasicTest, RedisExpiresTheKeyAtItsTtl) {
  auto cache = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), cache->set("k", "v", {.ttl = 100ms, .grace = 0ms})));
  auto rk = *run(ex(), cache->redis_key("k"));
  EXPECT_TRUE(test::eventually([&] { return server_.cli({"EXISTS", rk}) == "0"; }, 3s));
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
}

TEST_F(CacheBasicTest, ForeignBytesUnderAKeyAreAClearMiss) {
  auto cache = make();
  auto rk = *run(ex(), cache->redis_key("k"));
  server_.cli({"SET", rk, "just a string"});
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  EXPECT_EQ(r->error, Errc::not_an_entry);
}

TEST_F(CacheBasicTest, CorruptBytesUnderAKeyAreAClearMiss) {
  auto cache = make(Options{.l1_bytes = 0});
  ASSERT_TRUE(run(ex(), cache->set("k", std::string(200, 'x'))));
  auto rk = *run(ex(), cache->redis_key("k"));
  server_.cli({"SETRANGE", rk, "60", "garbage!"});  // inside the payload: the checksum fails
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  EXPECT_EQ(r->error, Errc::corrupt_entry);
  server_.cli({"SETRANGE", rk, "0", "TC"});
  server_.cli({"SET", rk, "TC\x01"});  // truncated header
  r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  EXPECT_TRUE(r->error);
}

TEST_F(CacheBasicTest, AnOversizedValueIsRefusedWithAClearError) {
  auto cache = make(Options{.max_value_size = 1024});
  auto w = run(ex(), cache->set("k", std::string(2048, 'x')));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::value_too_large);
  auto r = run(ex(), cache->get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
}

TEST_F(CacheBasicTest, BadKeysAreRefused) {
  auto cache = make();
  auto w = run(ex(), cache->set("", "v"));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), Errc::invalid_key);
  auto r = run(ex(), cache->get(std::string("a\nb")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::invalid_key);
}

TEST_F(CacheBasicTest, ABadNamespaceThrowsAtConstruction) {
  EXPECT_THROW(make(Options{.ns = "has space"}), std::invalid_argument);
  EXPECT_THROW(make(Options{.ns = "glob*"}), std::invalid_argument);
}

TEST(CacheEmbeddedTest, WithoutRedisTheCacheServesFromL1Alone) {
  test::IoThreads io;
  ManualClock clock;
  Cache cache(nullptr, Options{.clock = &clock});
  ASSERT_TRUE(run(io.executor(), cache.set("k", "v", {.ttl = 1s, .grace = 0ms, .tags = {"t"}})));
  auto r = run(io.executor(), cache.get("k"));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v");
  ASSERT_TRUE(run(io.executor(), cache.invalidate_tags({"t"})));
  r = run(io.executor(), cache.get("k"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  ASSERT_TRUE(run(io.executor(), cache.set("k2", "v", {.ttl = 1s, .grace = 0ms})));
  clock.advance(2s);
  r = run(io.executor(), cache.get("k2"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());
  EXPECT_FALSE(cache.tracking());
}

}  // namespace
}  // namespace tiercache::cache
