// Limiter against a real redis-server, for each algorithm: admission up to the limit, refusals
// with a usable retry-after, cost > 1, peek and reset, windows that slide in real (short) time,
// the token bucket's burst and refill, and scripts that survive SCRIPT FLUSH.
#include "tiercache/ratelimit/limiter.hpp"

#include "tiercache/ratelimit/error.hpp"

#include "tests/ratelimit/ratelimit_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;
using test::eventually;

class LimiterTest : public testing::TestWithParam<Algorithm> {
 protected:
  LimiterTest() : client_(test::make_client(io_.executor(), server_.config())) {}
  ~LimiterTest() override { client_->stop(); }

  Limiter make(Policy policy) {
    policy.algorithm = GetParam();
    return Limiter(client_, std::move(policy));
  }
  Decision allow(Limiter& limiter, const std::string& key, std::uint32_t cost = 1) {
    Result<Decision> d = io_.run(limiter.allow(key, cost));
    EXPECT_TRUE(d) << d.error().message();
    return d ? *d : Decision{};
  }
  Decision peek(Limiter& limiter, const std::string& key, std::uint32_t cost = 1) {
    Result<Decision> d = io_.run(limiter.peek(key, cost));
    EXPECT_TRUE(d) << d.error().message();
    return d ? *d : Decision{};
  }
  int admitted(Limiter& limiter, const std::string& key, int tries) {
    int n = 0;
    for (int i = 0; i < tries; ++i) n += allow(limiter, key).allowed ? 1 : 0;
    return n;
  }
  std::string cli(std::vector<std::string> args) { return server_.cli(args); }

  tiercache::test::RedisServer server_;
  test::IoThreads io_;
  std::shared_ptr<redis::Client> client_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, LimiterTest,
                         testing::Values(Algorithm::sliding_log, Algorithm::sliding_window,
                                         Algorithm::token_bucket),
                         [](const auto& param) { return std::string(to_string(param.param)); });

TEST_P(LimiterTest, AdmitsUpToTheLimitThenRefusesWithRetryAfter) {
  Limiter limiter = make({.limit = 5, .window = 60s});
  for (std::uint32_t i = 0; i < 5; ++i) {
    Decision d = allow(limiter, "k");
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.limit, 5u);
    EXPECT_EQ(d.source, Source::redis);
    EXPECT_EQ(d.retry_after, 0us);
    EXPECT_GT(d.reset_at, std::chrono::system_clock::now() - 1min);
  }
  Decision refused = allow(limiter, "k");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  // The whole window for the log and the counter; one emission interval (12 s) for GCRA.
  EXPECT_GT(refused.retry_after, 10s);
  // The counter: the rest of this fixed window, then a fifth of the next for c = 5 to fade to 4.
  EXPECT_LE(refused.retry_after, GetParam() == Algorithm::sliding_window ? 72s : 60s);
  // The counter's estimate reaches zero at the end of the next fixed window.
  const auto windows = GetParam() == Algorithm::sliding_window ? 2 : 1;
  EXPECT_LE(refused.reset_at, std::chrono::system_clock::now() + windows * 60s + 1s);
  // Another key is another limit.
  EXPECT_TRUE(allow(limiter, "other").allowed);
}

TEST_P(LimiterTest, CountsACostAboveOneAsThatManyUnits) {
  Limiter limiter = make({.limit = 10, .window = 60s});
  EXPECT_TRUE(allow(limiter, "k", 4).allowed);
  Decision d = allow(limiter, "k", 4);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2u);
  Decision refused = allow(limiter, "k", 3);  // 3 > 2 left: refused, and nothing taken
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 2u);
  EXPECT_GT(refused.retry_after, 0us);
  EXPECT_TRUE(allow(limiter, "k", 2).allowed);
  EXPECT_FALSE(allow(limiter, "k", 1).allowed);
}

TEST_P(LimiterTest, RejectsACostNoRequestCouldEverPay) {
  Limiter limiter = make({.limit = 10, .window = 60s});
  EXPECT_EQ(io_.run(limiter.allow("k", 11)).error(), Errc::invalid_argument);
  EXPECT_EQ(io_.run(limiter.allow("k", 0)).error(), Errc::invalid_argument);
  EXPECT_EQ(io_.run(limiter.allow("", 1)).error(), Errc::invalid_argument);
  EXPECT_EQ(peek(limiter, "k").remaining, 10u);  // nothing was counted
}

TEST_P(LimiterTest, PeekReportsUsageWithoutConsuming) {
  Limiter limiter = make({.limit = 3, .window = 60s});
  Decision fresh = peek(limiter, "k");
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.remaining, 3u);
  EXPECT_EQ(cli({"EXISTS", limiter.redis_key("k")}), "0");  // peek writes nothing
  ASSERT_TRUE(allow(limiter, "k", 2).allowed);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(peek(limiter, "k").remaining, 1u);
  EXPECT_TRUE(peek(limiter, "k", 1).allowed);
  Decision too_much = peek(limiter, "k", 2);
  EXPECT_FALSE(too_much.allowed);
  EXPECT_GT(too_much.retry_after, 0us);
  EXPECT_TRUE(allow(limiter, "k").allowed);
  EXPECT_FALSE(peek(limiter, "k").allowed);
  EXPECT_EQ(peek(limiter, "k").remaining, 0u);
}

TEST_P(LimiterTest, ResetForgetsAllUsage) {
  Limiter limiter = make({.limit = 2, .window = 60s});
  EXPECT_EQ(admitted(limiter, "k", 3), 2);
  ASSERT_TRUE(io_.run(limiter.reset("k")));
  EXPECT_EQ(cli({"EXISTS", limiter.redis_key("k")}), "0");
  EXPECT_EQ(peek(limiter, "k").remaining, 2u);
  EXPECT_EQ(admitted(limiter, "k", 3), 2);
  EXPECT_EQ(io_.run(limiter.reset("")).error(), Errc::invalid_argument);
}

TEST_P(LimiterTest, KeepsOneKeyPerLimitThatExpiresWhenIdle) {
  Limiter limiter = make({.limit = 5, .window = 60s, .key_prefix = "rl:{tenant}:"});
  ASSERT_TRUE(allow(limiter, "search", 2).allowed);
  EXPECT_EQ(cli({"DBSIZE"}), "1");
  EXPECT_EQ(limiter.redis_key("search"), "rl:{tenant}:search");
  const int ttl = std::stoi(cli({"PTTL", limiter.redis_key("search")}));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 120'000);
  // A later write keeps an expiry (the counter sets it only on a window's first write).
  ASSERT_TRUE(allow(limiter, "search", 1).allowed);
  const int later = std::stoi(cli({"PTTL", limiter.redis_key("search")}));
  EXPECT_GT(later, 0);
  EXPECT_LE(later, 120'000);
  EXPECT_EQ(peek(limiter, "search").remaining, 2u);
}

// The Limiter writes the Redis key into its request on the stack when it fits in 256 bytes and
// on the heap beyond: both are the same key, prefix and all, and count alike.
TEST_P(LimiterTest, KeysOfAnyLengthAreCountedUnderPrefixAndKey) {
  Limiter limiter = make({.limit = 2, .window = 60s, .key_prefix = "rl:long:"});
  for (const std::size_t length :
       {std::size_t{1}, std::size_t{248}, std::size_t{249}, std::size_t{5000}}) {
    const std::string key(length, 'k');
    EXPECT_EQ(admitted(limiter, key, 3), 2) << length;
    EXPECT_EQ(cli({"EXISTS", limiter.redis_key(key)}), "1") << length;
  }
  EXPECT_EQ(cli({"DBSIZE"}), "4");
}

TEST_P(LimiterTest, TheWindowSlidesInRealTime) {
  // 5 per 500 ms: five pass, the sixth waits about a window (GCRA: one interval, 100 ms), then
  // passes again. Waits are on conditions with deadlines.
  Limiter limiter = make({.limit = 5, .window = 500ms});
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(admitted(limiter, "k", 5), 5);
  Decision refused = allow(limiter, "k");
  ASSERT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 20ms);
  EXPECT_LE(refused.retry_after, 1000ms);
  ASSERT_TRUE(eventually([&] { return allow(limiter, "k").allowed; }, 3s));
  const auto waited = std::chrono::steady_clock::now() - start;
  if (GetParam() == Algorithm::sliding_log) {
    EXPECT_GE(waited, 490ms);  // exactly when the first unit leaves the window
  } else {
    // GCRA: one interval. The counter: as the old window's share fades, at least a fifth of a
    // window into the next fixed window.
    EXPECT_GE(waited, 80ms);
  }
  // After two quiet windows the whole limit is back.
  ASSERT_TRUE(eventually([&] { return peek(limiter, "k").remaining == 5; }, 3s, 20ms));
  EXPECT_EQ(admitted(limiter, "k", 6), 5);
}

TEST_P(LimiterTest, RetryAfterIsLongEnough) {
  // Waiting exactly retry_after (rounded up to the next ms) is enough for the same request.
  Limiter limiter = make({.limit = 4, .window = 400ms});
  EXPECT_EQ(admitted(limiter, "k", 4), 4);
  Decision refused = allow(limiter, "k", 2);
  ASSERT_FALSE(refused.allowed);
  std::this_thread::sleep_for(std::chrono::ceil<std::chrono::milliseconds>(refused.retry_after) +
                              2ms);
  EXPECT_TRUE(allow(limiter, "k", 2).allowed);
}

TEST_P(LimiterTest, ScriptsSurviveScriptFlush) {
  Limiter limiter = make({.limit = 3, .window = 60s});
  ASSERT_TRUE(allow(limiter, "k").allowed);
  EXPECT_EQ(cli({"SCRIPT", "FLUSH"}), "OK");
  Decision d = allow(limiter, "k");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 1u);  // counted once, not twice
  EXPECT_EQ(d.source, Source::redis);
  EXPECT_EQ(limiter.stats().redis_failures, 0u);
}

// The sliding log's own promises: unique members and memory bounded by the limit.
TEST(SlidingLogTest, CountsTwoRequestsInTheSameMillisecond) {
  tiercache::test::RedisServer server;
  test::IoThreads io;
  auto client = test::make_client(io.executor(), server.config());
  Limiter limiter(client, {.algorithm = Algorithm::sliding_log, .limit = 1000, .window = 60s});
  // Pipelined on one link, these run back to back on the server, many per millisecond.
  std::vector<std::future<Result<Decision>>> pending;
  for (int i = 0; i < 200; ++i) {
    pending.push_back(asio::co_spawn(io.io(), limiter.allow("k", 2), asio::use_future));
  }
  for (auto& p : pending) {
    ASSERT_EQ(p.wait_for(10s), std::future_status::ready);
    ASSERT_TRUE(p.get()->allowed);
  }
  EXPECT_EQ(server.cli({"ZCARD", limiter.redis_key("k")}), "400");
  client->stop();
}

TEST(SlidingLogTest, MemoryIsBoundedByTheLimit) {
  tiercache::test::RedisServer server;
  test::IoThreads io;
  auto client = test::make_client(io.executor(), server.config());
  Limiter limiter(client, {.algorithm = Algorithm::sliding_log, .limit = 10, .window = 100ms});
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(io.run(limiter.allow("k")));
    if (i % 25 == 0) std::this_thread::sleep_for(10ms);  // let some entries expire meanwhile
    if (i % 30 == 0) {
      ASSERT_LE(std::stoi(server.cli({"ZCARD", limiter.redis_key("k")})), 10);
    }
  }
  EXPECT_LE(std::stoi(server.cli({"ZCARD", limiter.redis_key("k")})), 10);
  client->stop();
}

TEST(TokenBucketTest, AnIntervalWithAFractionCountsExactly) {
  // 3 per second: T = 333,333.33... us, which the script gets as text from the client's double
  // and writes back with 17 digits. Remaining must step 2, 1, 0 with no unit lost to rounding.
  tiercache::test::RedisServer server;
  test::IoThreads io;
  auto client = test::make_client(io.executor(), server.config());
  Limiter limiter(client, {.algorithm = Algorithm::token_bucket, .limit = 3, .window = 1s});
  for (std::uint32_t left : {2u, 1u, 0u}) {
    Decision d = *io.run(limiter.allow("k"));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, left);
  }
  Decision refused = *io.run(limiter.allow("k"));
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 0us);
  EXPECT_LE(refused.retry_after, 334ms);  // one interval, less the time the calls took
  client->stop();
}

TEST(TokenBucketTest, BurstsUpToTheBurstThenRefillsAtTheRate) {
  tiercache::test::RedisServer server;
  test::IoThreads io;
  auto client = test::make_client(io.executor(), server.config());
  // 10 per second on average (one per 100 ms), 20 at once.
  Limiter limiter(client,
                  {.algorithm = Algorithm::token_bucket, .limit = 10, .window = 1s, .burst = 20});
  EXPECT_EQ(limiter.policy().max_cost(), 20u);
  int burst = 0;
  for (int i = 0; i < 25; ++i) burst += io.run(limiter.allow("k"))->allowed ? 1 : 0;
  EXPECT_GE(burst, 20);
  EXPECT_LE(burst, 21);  // one token may drip back while 25 calls run
  Decision refused = *io.run(limiter.allow("k", 3));
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, 150ms);  // three tokens, one per 100 ms
  EXPECT_LE(refused.retry_after, 300ms);
  // The bucket refills at 10/s: 3 tokens in about 300 ms.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return io.run(limiter.allow("k", 3))->allowed; }, 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  // Refill stops at the burst: after the bucket is full, 20 again and no more.
  ASSERT_TRUE(eventually([&] { return io.run(limiter.peek("k"))->remaining == 20; }, 4s, 50ms));
  EXPECT_TRUE(io.run(limiter.allow("k", 20))->allowed);
  EXPECT_FALSE(io.run(limiter.allow("k", 2))->allowed);
  client->stop();
}

}  // namespace
}  // namespace tiercache::ratelimit
