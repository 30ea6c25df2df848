// get_or_load: single flight in process and across processes (1,000 callers over two
// instances, one loader run; no push for the fleet lock's release), stale-while-revalidate
// refreshing once and its window, fail-safe when the loader throws and when Redis is killed, the
// hard and soft timeouts, and adaptive loaders that choose their TTL or not to store.

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

// An adaptive loader: answers `value` with the TTL it chose, stored or not.
asio::awaitable<Result<std::string>> adaptive_loader(std::shared_ptr<std::atomic<int>> calls,
                                                     std::string value,
                                                     std::chrono::milliseconds ttl, bool store,
                                                     LoadContext& context) {
  calls->fetch_add(1);
  asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);  // callers pile up
  co_await timer.async_wait(asio::use_awaitable);
  context.ttl = ttl;
  context.store = store;
  co_return value;
}

AdaptiveLoader adaptive(std::shared_ptr<std::atomic<int>> calls, std::string value,
                        std::chrono::milliseconds ttl, bool store) {
  return [=](LoadContext& context) { return adaptive_loader(calls, value, ttl, store, context); };
}

class CacheLoadTest : public ::testing::Test {
 protected:
  std::unique_ptr<Cache> make(Options options = {}) {
    options.clock = &clock_;
    return test::tracked_cache(ex(), server_, std::move(options));
  }
  asio::any_io_executor ex() { return io_.executor(); }

  // Declared first so it outlives the io threads: a load still running at teardown reads it.
  ManualClock clock_;
  test::RedisServer server_;
  test::IoThreads io_{2};
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

// The load's only invalidation push is the data key's, which the owner read (its miss) and then
// wrote. Releasing the fleet lock reads the lock key without tracking it, so its DEL pushes
// nothing back (with GET in the release script the owner was told of its own lock: 2 keys).
TEST_F(CacheLoadTest, ReleasingTheFleetLockPushesNoInvalidationBack) {
  auto cache = make();
  // A first load creates the namespace's version key, which this link read: one push of its own.
  ASSERT_TRUE(run(ex(), cache->get_or_load("first", test::counting(calls_, "loaded"))));
  // A later round trip on the same link: a push sent before its reply has been handled by then.
  (void)run(ex(), cache->get("another"));
  const std::uint64_t before = cache->stats().invalidations_received;
  auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "loaded")));
  ASSERT_TRUE(r && r->hit());
  (void)run(ex(), cache->get("another"));
  EXPECT_EQ(cache->stats().invalidations_received - before, 1u);
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

TEST_F(CacheLoadTest, PastTheRevalidateWindowCallersWaitForTheRefresh) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 1h}, .revalidate_window = 30s};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  clock_.advance(20s);  // stale for 10 s: inside the window, answered at once
  auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "v2"), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::stale);
  EXPECT_EQ(r->value(), "v1");
  ASSERT_TRUE(test::eventually([&] {
    auto g = run(ex(), cache->get("k"));
    return g && g->hit() && g->value() == "v2";
  }));
  clock_.advance(60s);  // v2 stale for 50 s: past the window, the caller waits
  r = run(ex(), cache->get_or_load("k", test::counting(calls_, "v3"), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::loader);
  EXPECT_EQ(r->value(), "v3");
  clock_.advance(60s);  // and when that refresh fails, fail-safe still answers stale
  r = run(ex(), cache->get_or_load("k", test::throwing(calls_), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, Source::stale);
  EXPECT_EQ(r->value(), "v3");
  EXPECT_EQ(r->error, Errc::loader_failed);
}

TEST_F(CacheLoadTest, AnAdaptiveLoaderChoosesTheTtlOfWhatItLoaded) {
  auto cache = make();
  LoadPolicy policy{.write = {.ttl = 1h, .grace = 1h}};
  auto r = run(ex(), cache->get_or_load("k", adaptive(calls_, "v", 10s, true), policy));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->entry->fresh_until - r->entry->created, 10s);
  auto other = make();  // what Redis holds carries the loader's TTL too
  auto g = run(ex(), other->get("k"));
  ASSERT_TRUE(g && g->hit());
  EXPECT_EQ(g->entry->fresh_until - g->entry->created, 10s);
  clock_.advance(11s);
  g = run(ex(), other->get("k"));
  ASSERT_TRUE(g && g->hit());
  EXPECT_TRUE(g->stale);
}

TEST_F(CacheLoadTest, AnAdaptiveLoaderMayAnswerItsCallersWithoutStoring) {
  auto cache = make();
  std::vector<std::future<Result<ReadResult>>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(
        test::start(ex(), cache->get_or_load("k", adaptive(calls_, "v", 10s, false))));
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->source, Source::loader);
    EXPECT_EQ(r->value(), "v");
  }
  EXPECT_EQ(calls_->load(), 1);  // still one load for concurrent callers
  auto g = run(ex(), cache->get("k"));
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->hit());  // nothing written
  auto r = run(ex(), cache->get_or_load("k", adaptive(calls_, "w", 10s, false)));
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->value(), "w");
  EXPECT_EQ(calls_->load(), 2);
}

TEST_F(CacheLoadTest, AThrowingLoaderWithNothingStaleFailsWithLoaderFailed) {
  auto cache = make();
  auto r = run(ex(), cache->get_or_load("k", test::throwing(calls_)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::loader_failed);
  EXPECT_EQ(cache->stats().loader_errors, 1u);
  EXPECT_EQ(cache->stats().loader_timeouts, 0u);
  EXPECT_EQ(cache->stats().errors, 1u);
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
  // The caller's wait and the flight's end on the same deadline; the flight counts a moment later.
  EXPECT_TRUE(test::eventually([&] { return cache->stats().loader_timeouts == 1; }));
  EXPECT_EQ(cache->stats().loader_errors, 0u);
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

TEST_F(CacheLoadTest, OverResp2WaitersPollAndLeaveNoNoticeBehind) {
  // RESP2 links get no invalidation pushes: fleet-lock waiters find the value by polling, and
  // nothing else would clear their notices from the map.
  auto resp2 = [&] {
    auto config = server_.config();
    config.protocol = 2;
    return std::make_unique<Cache>(std::make_shared<redis::Client>(ex(), config),
                                   Options{.clock = &clock_});
  };
  auto a = resp2();
  auto b = resp2();
  std::vector<std::future<Result<ReadResult>>> futures;
  for (int i = 0; i < 200; ++i) {
    auto& cache = i % 2 == 0 ? *a : *b;
    futures.push_back(
        test::start(ex(), cache.get_or_load("k", test::counting(calls_, "v", 100ms))));
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->value(), "v");
  }
  EXPECT_EQ(calls_->load(), 1);
  EXPECT_GE(a->stats().lock_waits + b->stats().lock_waits, 1u);
  EXPECT_EQ(a->stats().lock_waiters, 0u);
  EXPECT_EQ(b->stats().lock_waiters, 0u);
}

TEST_F(CacheLoadTest, EarlyRefreshReloadsAHotKeyBeforeItExpiresWithoutMakingCallersWait) {
  auto cache = make();
  // Refreshes become likely in the last 1% (100 ms) of a 10 s life.
  LoadPolicy policy{.write = {.ttl = 10s, .grace = 0ms}, .early_refresh = 0.01};
  ASSERT_TRUE(run(ex(), cache->get_or_load("k", test::counting(calls_, "v1"), policy)));
  for (int i = 0; i < 100; ++i) {  // young: the probability is exp(-100)
    auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "v2"), policy));
    ASSERT_TRUE(r && r->hit());
    EXPECT_EQ(r->value(), "v1");
  }
  EXPECT_EQ(cache->stats().early_refreshes, 0u);
  clock_.advance(9990ms);  // 10 ms left: each hit refreshes with probability exp(-0.1) ~ 0.9
  for (int i = 0; i < 50 && cache->stats().early_refreshes == 0; ++i) {
    auto r = run(ex(), cache->get_or_load("k", test::counting(calls_, "v2", 50ms), policy));
    ASSERT_TRUE(r && r->hit());
    EXPECT_FALSE(r->stale);
    EXPECT_NE(r->source, Source::loader);  // answered at once, from the cache
  }
  EXPECT_GE(cache->stats().early_refreshes, 1u);
  ASSERT_TRUE(test::eventually([&] {
    auto g = run(ex(), cache->get("k"));
    return g && g->hit() && g->value() == "v2";
  }));
  EXPECT_EQ(calls_->load(), 2);  // one load, one early refresh
}

}  // namespace
}  // namespace tiercache::cache
