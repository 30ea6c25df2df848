// Limiter with Redis killed (RedisServer::stop): each OnRedisDown mode answers as configured,
// every such decision is counted (each of a failed batch on its own), calls never hang, and Redis
// decides again once it is back.
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/ratelimit/limiter.hpp"

#include "tests/ratelimit/ratelimit_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;

class LimiterFaultTest : public testing::Test {
 protected:
  LimiterFaultTest() {
    redis::Config cfg = server_.config();
    cfg.request_timeout = 300ms;
    cfg.connect_timeout = 300ms;
    client_ = test::make_client(io_.executor(), cfg);
  }
  ~LimiterFaultTest() override { client_->stop(); }

  Limiter make(OnRedisDown mode) {
    return Limiter(client_, {.algorithm = Algorithm::sliding_log,
                             .limit = 3,
                             .window = 60s,
                             .on_redis_down = mode,
                             .fail_closed_retry = 250ms});
  }
  Result<Decision> allow(Limiter& limiter, std::uint32_t cost = 1) {
    return io_.run(limiter.allow("k", cost), 5s);
  }
  // `n` calls of allow(key) started together, so all but the first leave in one batch.
  std::vector<Result<Decision>> allow_together(Limiter& limiter, int n) {
    std::vector<std::future<Result<Decision>>> futures;
    std::promise<void> started;
    asio::post(io_.io(), [&] {
      for (int i = 0; i < n; ++i) {
        futures.push_back(asio::co_spawn(io_.io(), limiter.allow("k"), asio::use_future));
      }
      started.set_value();
    });
    started.get_future().wait();
    std::vector<Result<Decision>> out;
    for (auto& f : futures) {
      EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
      out.push_back(f.get());
    }
    return out;
  }
  // Kills Redis after one decision it made, so the client has connected once.
  void kill_redis(Limiter& limiter) {
    Result<Decision> d = allow(limiter);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->source, Source::redis);
    server_.stop();
  }

  tiercache::test::RedisServer server_;
  test::IoThreads io_;
  std::shared_ptr<redis::Client> client_;
};

TEST_F(LimiterFaultTest, FailOpenAdmitsAndCountsIt) {
  Limiter limiter = make(OnRedisDown::fail_open);
  kill_redis(limiter);
  for (int i = 0; i < 10; ++i) {
    Result<Decision> d = allow(limiter);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_TRUE(d->allowed);
    EXPECT_EQ(d->source, Source::fail_open);
    EXPECT_TRUE(d->degraded());
  }
  const Limiter::Stats stats = limiter.stats();
  EXPECT_EQ(stats.fail_open, 10u);
  EXPECT_EQ(stats.redis_failures, 10u);
  EXPECT_EQ(stats.allowed, 11u);
  EXPECT_EQ(stats.fail_closed + stats.local, 0u);
}

TEST_F(LimiterFaultTest, FailClosedRefusesWithTheConfiguredRetryAfter) {
  Limiter limiter = make(OnRedisDown::fail_closed);
  kill_redis(limiter);
  Result<Decision> d = allow(limiter);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(d->source, Source::fail_closed);
  EXPECT_EQ(d->retry_after, 250ms);
  EXPECT_EQ(limiter.stats().fail_closed, 1u);
  EXPECT_EQ(limiter.stats().denied, 1u);
}

TEST_F(LimiterFaultTest, LocalFallsBackToAnInProcessBucketPerKey) {
  Limiter limiter = make(OnRedisDown::local);
  kill_redis(limiter);
  for (int i = 0; i < 3; ++i) {
    Result<Decision> d = allow(limiter);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_TRUE(d->allowed);
    EXPECT_EQ(d->source, Source::local);
    EXPECT_EQ(d->remaining, static_cast<std::uint32_t>(2 - i));
  }
  Result<Decision> refused = allow(limiter);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->source, Source::local);
  EXPECT_GT(refused->retry_after, 10s);  // one unit per 20 s
  EXPECT_LE(refused->retry_after, 20s);
  // Peek sees the local bucket; another key has its own.
  Result<Decision> peeked = io_.run(limiter.peek("k"));
  ASSERT_TRUE(peeked);
  EXPECT_EQ(peeked->source, Source::local);
  EXPECT_EQ(peeked->remaining, 0u);
  EXPECT_TRUE(io_.run(limiter.allow("other"))->allowed);
  EXPECT_EQ(limiter.stats().local, 5u);
}

TEST_F(LimiterFaultTest, EveryDecisionOfAFailedBatchGetsTheFallback) {
  Limiter closed = make(OnRedisDown::fail_closed);
  kill_redis(closed);
  for (const Result<Decision>& d : allow_together(closed, 20)) {
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_FALSE(d->allowed);
    EXPECT_EQ(d->source, Source::fail_closed);
  }
  Limiter::Stats stats = closed.stats();
  EXPECT_LT(stats.batches, 1u + 20u);  // the decisions did share batches
  EXPECT_EQ(stats.batched_decisions, 1u + 20u);
  EXPECT_EQ(stats.fail_closed, 20u);
  EXPECT_EQ(stats.redis_failures, 20u);
  EXPECT_EQ(stats.denied, 20u);

  // The local bucket decides each in turn: 3 of 5 pass.
  Limiter local = make(OnRedisDown::local);
  int admitted = 0;
  for (const Result<Decision>& d : allow_together(local, 5)) {
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(d->source, Source::local);
    admitted += d->allowed ? 1 : 0;
  }
  EXPECT_EQ(admitted, 3);
  stats = local.stats();
  EXPECT_EQ(stats.local, 5u);
  EXPECT_EQ(stats.redis_failures, 5u);
  EXPECT_EQ(stats.allowed, 3u);
  EXPECT_EQ(stats.denied, 2u);
}

TEST_F(LimiterFaultTest, PeekAndResetWithoutAFallbackReportRedisUnavailable) {
  Limiter limiter = make(OnRedisDown::fail_open);
  kill_redis(limiter);
  EXPECT_EQ(io_.run(limiter.peek("k")).error(), Errc::redis_unavailable);
  EXPECT_EQ(io_.run(limiter.reset("k")).error(), Errc::redis_unavailable);
  EXPECT_EQ(limiter.stats().redis_failures, 2u);
  EXPECT_EQ(limiter.stats().fail_open, 0u);  // neither is a decision
}

TEST_F(LimiterFaultTest, RedisDecidesAgainOnceItIsBack) {
  Limiter limiter = make(OnRedisDown::fail_closed);
  kill_redis(limiter);
  EXPECT_EQ(allow(limiter)->source, Source::fail_closed);
  server_.restart();  // an empty server: the old usage is gone, the script too
  ASSERT_TRUE(test::eventually([&] { return allow(limiter)->source == Source::redis; }, 10s, 20ms));
  Result<Decision> d = allow(limiter);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->source, Source::redis);
  EXPECT_EQ(d->remaining, 1u);  // two counted since the restart
}

TEST_F(LimiterFaultTest, AnUnexpectedReplyIsHandledLikeRedisDown) {
  Limiter limiter = make(OnRedisDown::fail_closed);
  // A string where the sliding log wants a sorted set: the script's ZCARD fails (WRONGTYPE).
  ASSERT_EQ(server_.cli({"SET", limiter.redis_key("k"), "x"}), "OK");
  Result<Decision> d = allow(limiter);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->source, Source::fail_closed);
  EXPECT_EQ(io_.run(limiter.peek("k")).error(), Errc::unexpected_reply);
  EXPECT_EQ(limiter.stats().redis_failures, 2u);
}

}  // namespace
}  // namespace tiercache::ratelimit
