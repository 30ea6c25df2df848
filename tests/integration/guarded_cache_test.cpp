// A cache::Cache over a resilience::GuardedClient (issue #5): while Redis stalls and the breaker
// is open, L1 keeps answering, what only Redis had is reported degraded (or redis_unavailable),
// loaders still run, no request reaches Redis, and the cache recovers once a probe is answered.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/error.hpp"
#include "tiercache/redis/client.hpp"
#include "tiercache/resilience/guarded_client.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace tiercache {
namespace {

using namespace std::chrono_literals;
using resilience::BreakerState;

TEST(GuardedCacheTest, ServesL1AndLoadersWhileTheBreakerIsOpenAndRecoversByItself) {
  test::RedisServer server;
  test::IoThreads io(2);
  ManualClock breaker_clock;  // the breaker's cool-down passes only when the test says so

  redis::Config cfg = server.config();
  cfg.client_tracking = true;
  cfg.request_timeout = 300ms;
  cfg.link_timeout = 0ms;  // a stalled server keeps its link: L1 is not fenced
  auto guarded = std::make_shared<resilience::GuardedClient>(
      std::make_shared<redis::Client>(io.executor(), cfg),
      resilience::GuardedClientOptions{.breaker = {.consecutive_timeouts = 2,
                                                   .open_duration = 1s,
                                                   .jitter = 0,
                                                   .half_open_probes = 1},
                                       .clock = &breaker_clock});
  cache::Cache cache(guarded, cache::Options{.ns = "guarded"});
  const auto ex = io.executor();

  ASSERT_TRUE(test::run(ex, cache.set("in-l1", "one")));
  ASSERT_TRUE(test::run(ex, cache.set("only-in-redis", "two")));
  auto rk = test::run(ex, cache.redis_key("only-in-redis"));
  ASSERT_TRUE(rk);
  cache.invalidate_l1_for_test(*rk);

  server.pause();
  // Two reads that only Redis can answer time out; the second opens the breaker.
  for (int i = 0; i < 2; ++i) {
    auto r = test::run(ex, cache.get("only-in-redis"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), cache::Errc::redis_unavailable);
  }
  ASSERT_EQ(guarded->state(), BreakerState::open);
  const auto refused_before = guarded->stats().rejected_open;

  auto hit = test::run(ex, cache.get("in-l1"));
  ASSERT_TRUE(hit);
  ASSERT_TRUE(hit->hit());
  EXPECT_EQ(hit->value(), "one");
  EXPECT_EQ(hit->source, cache::Source::l1);
  EXPECT_FALSE(hit->degraded);

  // Refused at once by the breaker: no 300 ms timeout per call any more.
  auto missing = test::run(ex, cache.get("only-in-redis"), 250ms);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), cache::Errc::redis_unavailable);

  auto many = test::run(ex, cache.get_many({"in-l1", "only-in-redis"}), 250ms);
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 2u);
  EXPECT_EQ((*many)[0].source, cache::Source::l1);
  EXPECT_FALSE((*many)[1].hit());
  EXPECT_TRUE((*many)[1].degraded);

  auto calls = std::make_shared<std::atomic<int>>(0);
  auto loaded = test::run(ex, cache.get_or_load("new", test::counting(calls, "fresh")), 250ms);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->value(), "fresh");
  EXPECT_EQ(loaded->source, cache::Source::loader);
  EXPECT_TRUE(loaded->degraded);
  EXPECT_EQ(calls->load(), 1);

  EXPECT_GT(guarded->stats().rejected_open, refused_before);
  EXPECT_EQ(guarded->stats().breaker.timeouts, 2u);  // nothing else reached the stalled server

  server.resume();
  breaker_clock.advance(2s);
  ASSERT_TRUE(test::eventually(
      [&] {
        auto r = test::run(ex, cache.get("only-in-redis"));
        return r && r->hit() && r->value() == "two" && !r->degraded;
      },
      10s));
  EXPECT_EQ(guarded->state(), BreakerState::closed);
}

}  // namespace
}  // namespace tiercache
