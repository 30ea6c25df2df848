// get_or_load: single flight in process and across processes (1,000 callers over two
// instances, one loader run), stale-while-revalidate refreshing once, fail-safe when the loader
// throws and when Redis is killed, and the hard and soft timeouts.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

namespace tiercache::cache {
namespace {

using test::run;
using namespace std::chrono_literals;

class CacheLoadTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    options.clock = &clock_;
    auto cache = std::make_unique<Cache>(test::tracking_client(io_.executor(), server_), options);
    EXPECT_TRUE(test::eventually([&] { return cache->tracking(); }));
    return cache;
  }
  asio::any_io_executor ex() { return io_.executor(); }

  test::RedisServer server_;
  test::IoThreads io_{2};
  ManualClock clock_;
  std::shared_ptr<std::atomic<int>> calls_ = std::make_shared<std::atomic<int>>(0);
};

TEST_F(CacheLoadTest, AMissLoadsOnceThenHits) {
  auto cache = make();
  auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "loaded")));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::loader);
  EXPECT_EQ(r->value(), "loaded");
  r = run(ex(), cache->get_or_load("k", test::counting(calls_, "again")));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "loaded");
  EXPECT_EQ(calls_->load(), 1);
}

TEST_F(CacheLoadTest, AThousandConcurrentMissesOverTwoInstancesRunTheLoaderOnce) {
  auto a = make();
  auto b = make();
  std::vector<std::future<Result<ReadResult>>> futures;
  for (int i = 0; i < 1000; ++i) {
    auto& cache = i % 2 == 0 ? *a : *b;
    futures.push_back(
        test::start(ex(), cache.get_or_load("hot", test::counting(calls_, "value", 50ms))));
  }
  int ok = 0;
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    if (r && r->hit() && r->value() == "value") ++ok;
  }
  EXPECT_EQ(ok, 1000);
  EXPECT_EQ(calls_->load(), 1);
  std::printf("[ measured ] lock waits: A %llu, B %llu\n",
              static_cast<unsigned long long>(a->stats().lock_waits),
              static_cast<unsigned long long>(b->stats().lock_waits));
}

TEST_F(CacheLoadTest, StaleWhileRevalidateServesStaleAndRefreshesExactlyOnce) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 1h}};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  clock_.advance(11s);
  std::vector<std::future<Result<ReadResult>>> futures;
  for (int i = 0; i < 50; ++i) {
    futures.push_back(
        test::start(ex(), cache->get_or_load("k", test::counting(calls_, "v2", 100ms), policy)));
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->value(), "v1");
    EXPECT_TRUE(r->stale);
    EXPECT_EQ(r->source, Source::stale);
  }
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), cache->get("k"));
    return r && r->hit() && r->value() == "v2";
  }));
  EXPECT_EQ(calls_->load(), 2);  // the first load and one refresh
  EXPECT_EQ(cache->stats().background_refreshes, 1u);
}

TEST_F(CacheLoadTest, FailSafeServesStaleWhenTheLoaderThrows) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 1h}, .stale_while_revalidate = false};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  clock_.advance(11s);
  auto r = run(ex(), cache->get_or_load("k", test::throwing(calls_), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v1");
  EXPECT_TRUE(r->stale);
  EXPECT_EQ(r->source, Source::stale);
  EXPECT_EQ(r->error, Errc::loader_failed);
  EXPECT_EQ(cache->stats().fail_safe_served, 1u);
}

TEST_F(CacheLoadTest, AThrowingLoaderWithNothingStaleFailsWithLoaderFailed) {
  auto cache = make();
  auto r = run(ex(), cache->get_or_load("k", test::throwing(calls_)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::loader_failed);
}

TEST_F(CacheLoadTest, FailSafeServesStaleWhenRedisIsKilled) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 1h}, .stale_while_revalidate = false};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  ASSERT_TRUE(test::eventually([&] {
    auto r = run(ex(), cache->get("k"));
    return r && r->hit() && r->source == Source::l1;
  }));
  server_.stop();
  ASSERT_TRUE(test::eventually([&] { return !cache->tracking(); }));
  clock_.advance(11s);
  auto r = run(ex(), cache->get_or_load("k", test::throwing(calls_), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v1");
  EXPECT_TRUE(r->stale);
  EXPECT_TRUE(r->degraded);
  // And a key nobody had: the loader's value, flagged degraded.
  r = run(ex(), cache->get_or_load("other", test::counting(calls_, "fresh")));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "fresh");
  EXPECT_TRUE(r->degraded);
}

TEST_F(CacheLoadTest, TheHardTimeoutBoundsTheWait) {
  auto cache = make();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(
      ex(), cache->get_or_load("k", test::counting(calls_, "slow", 5s), {.hard_timeout = 200ms}));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::loader_timeout);
  EXPECT_LT(took, 2s);
}

TEST_F(CacheLoadTest, TheSoftTimeoutAnswersStaleWhileTheLoadGoesOn) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 1h},
                    .stale_while_revalidate = false,
                    .soft_timeout = 100ms,
                    .hard_timeout = 5s};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  clock_.advance(11s);
  auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "v2", 500ms), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "v1");
  EXPECT_TRUE(r->stale);
  ASSERT_TRUE(test::eventually([&] {
    auto g = run(ex(), cache->get("k"));
    return g && g->hit() && g->value() == "v2";
  }));
}

}  // namespace
}  // namespace tiercache::cache
