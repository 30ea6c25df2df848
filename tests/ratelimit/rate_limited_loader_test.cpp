// RateLimitedLoader and acquire() against a real redis-server: a load runs only once admitted,
// waits up to its bound for the quota to refill, or fails with Errc::rate_limited and the
// refusing decision, without calling the loader.
#include "tiercache/ratelimit/rate_limited_loader.hpp"

#include "tiercache/ratelimit/error.hpp"

#include "tests/ratelimit/ratelimit_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;

// The upstream: counts its calls and answers with the call number.
struct Upstream {
  std::atomic<int> calls{0};
};

asio::awaitable<Result<int>> fetch(Upstream* upstream) { co_return ++upstream->calls; }

class RateLimitedLoaderTest : public testing::Test {
 protected:
  RateLimitedLoaderTest() : client_(test::make_client(io_.executor(), server_.config())) {}
  ~RateLimitedLoaderTest() override { client_->stop(); }

  Limiter limiter(std::uint32_t limit, std::chrono::milliseconds window) {
    return Limiter(client_,
                   {.algorithm = Algorithm::sliding_log, .limit = limit, .window = window});
  }

  tiercache::test::RedisServer server_;
  test::IoThreads io_;
  std::shared_ptr<redis::Client> client_;
  Upstream upstream_;
};

TEST_F(RateLimitedLoaderTest, RunsTheLoaderWhenAdmitted) {
  auto load = rate_limited(limiter(2, 60s), "search", [this] { return fetch(&upstream_); });
  static_assert(std::is_same_v<decltype(load), RateLimitedLoader<int>>);
  EXPECT_EQ(*io_.run(load()), 1);
  auto outcome = io_.run(load.load());
  ASSERT_TRUE(outcome.value);
  EXPECT_EQ(*outcome.value, 2);
  ASSERT_TRUE(outcome.decision);
  EXPECT_TRUE(outcome.decision->allowed);
  EXPECT_EQ(outcome.decision->remaining, 0u);
}

asio::awaitable<Result<std::string>> fetch_page() {
  co_return std::string(4096, 'p');  // on the heap: a value destroyed twice would show
}

TEST_F(RateLimitedLoaderTest, HandsOverALargeValueIntact) {
  auto load = rate_limited(limiter(2, 60s), "pages", [] { return fetch_page(); });
  auto value = io_.run(load());
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, std::string(4096, 'p'));
  auto outcome = io_.run(load.load());
  ASSERT_TRUE(outcome.value);
  EXPECT_EQ(*outcome.value, std::string(4096, 'p'));
}

TEST_F(RateLimitedLoaderTest, FailsWithRateLimitedAndTheDecisionWithoutCallingTheLoader) {
  auto load = rate_limited(limiter(1, 60s), "search", [this] { return fetch(&upstream_); });
  ASSERT_TRUE(io_.run(load()));
  Result<int> refused = io_.run(load());
  EXPECT_EQ(refused.error(), Errc::rate_limited);
  auto outcome = io_.run(load.load());
  EXPECT_EQ(outcome.value.error(), Errc::rate_limited);
  ASSERT_TRUE(outcome.decision);
  EXPECT_FALSE(outcome.decision->allowed);
  EXPECT_GT(outcome.decision->retry_after, 50s);
  EXPECT_EQ(upstream_.calls.load(), 1);
}

TEST_F(RateLimitedLoaderTest, WaitsForTheQuotaUpToItsBound) {
  // 2 per 300 ms; a third load waits until the first leaves the window, within a bound of 2 s.
  auto load = rate_limited(limiter(2, 300ms), "search", [this] { return fetch(&upstream_); },
                           {.max_wait = 2s});
  // Measured from before the first admission: however slow the first two loads are (a loaded
  // machine), the third cannot be admitted before the first is 300 ms old.
  const auto first = std::chrono::steady_clock::now();
  ASSERT_TRUE(io_.run(load()));
  ASSERT_TRUE(io_.run(load()));
  const auto start = std::chrono::steady_clock::now();
  auto outcome = io_.run(load.load());
  const auto now = std::chrono::steady_clock::now();
  ASSERT_TRUE(outcome.value) << outcome.value.error().message();
  EXPECT_EQ(*outcome.value, 3);
  EXPECT_GE(now - first, 290ms);  // Redis's clock and ours agree to well under 10 ms here
  EXPECT_LT(now - start, 2s);
}

TEST_F(RateLimitedLoaderTest, DoesNotWaitLongerThanItsBound) {
  auto load = rate_limited(limiter(1, 10s), "search", [this] { return fetch(&upstream_); },
                           {.max_wait = 200ms});
  ASSERT_TRUE(io_.run(load()));
  const auto start = std::chrono::steady_clock::now();
  Result<int> refused = io_.run(load());
  EXPECT_EQ(refused.error(), Errc::rate_limited);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 200ms);  // 10 s would pass the bound
  EXPECT_EQ(upstream_.calls.load(), 1);
}

TEST_F(RateLimitedLoaderTest, ChargesTheConfiguredCost) {
  Limiter shared = limiter(5, 60s);
  auto load = rate_limited(shared, "search", [this] { return fetch(&upstream_); }, {.cost = 3});
  ASSERT_TRUE(io_.run(load()));
  EXPECT_EQ(io_.run(load()).error(), Errc::rate_limited);
  EXPECT_EQ(io_.run(shared.peek("search"))->remaining, 2u);
}

TEST_F(RateLimitedLoaderTest, PassesTheLimitersErrorsThrough) {
  auto load = rate_limited(limiter(1, 60s), "", [this] { return fetch(&upstream_); });
  EXPECT_EQ(io_.run(load()).error(), Errc::invalid_argument);
  EXPECT_EQ(upstream_.calls.load(), 0);
}

}  // namespace
}  // namespace tiercache::ratelimit
