#include "tiercache/resilience/retry.hpp"

#include "tiercache/base/clock.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace tiercache::resilience {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using boost::system::errc::make_error_code;

const error_code kTransient = make_error_code(boost::system::errc::connection_reset);
const error_code kFatal = make_error_code(boost::system::errc::permission_denied);

bool is_transient(const error_code& ec) { return ec == kTransient; }

// An operation that fails with the scripted errors, then succeeds; each attempt takes `cost`.
struct ScriptedOp {
  std::vector<error_code>* script;
  int* calls;
  ManualClock* clock;
  Clock::duration cost = 0ns;

  asio::awaitable<Result<int>> operator()() const {
    clock->advance(cost);
    const auto i = static_cast<std::size_t>((*calls)++);
    if (i < script->size()) co_return (*script)[i];
    co_return 42;
  }
};

// Sleeps by moving the manual clock, and remembers each delay.
struct FakeSleep {
  ManualClock* clock;
  std::vector<Clock::duration>* delays;
  error_code result{};

  asio::awaitable<error_code> operator()(Clock::duration d) const {
    delays->push_back(d);
    clock->advance(d);
    co_return result;
  }
};

struct RetryTest : ::testing::Test {
  Result<int> run(std::vector<error_code> errors, RetryPolicy policy, Clock::duration cost = 0ns,
                  error_code sleep_result = {}) {
    script = std::move(errors);
    asio::io_context ctx;
    auto future =
        asio::co_spawn(ctx,
                       retry(ScriptedOp{&script, &calls, &clock, cost}, policy, is_transient, clock,
                             FakeSleep{&clock, &delays, sleep_result}),
                       asio::use_future);
    ctx.run();
    return future.get();
  }

  ManualClock clock;
  std::vector<error_code> script;
  std::vector<Clock::duration> delays;
  int calls = 0;
};

TEST_F(RetryTest, RetriesRetryableErrorsUntilSuccess) {
  const BackoffPolicy backoff{.initial = 10ms, .max = 1s};
  const auto r = run({kTransient, kTransient}, RetryPolicy{.backoff = backoff, .seed = 3});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(delays.size(), 2u);
  EXPECT_LE(delays[0], 10ms);
  EXPECT_LE(delays[1], 20ms);
}

TEST_F(RetryTest, ReturnsANonRetryableErrorAtOnce) {
  const auto r = run({kFatal}, RetryPolicy{});
  EXPECT_EQ(r.error(), kFatal);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(delays.empty());
}

TEST_F(RetryTest, StopsAfterMaxAttempts) {
  const auto r =
      run({kTransient, kTransient, kTransient, kTransient}, RetryPolicy{.max_attempts = 3});
  EXPECT_EQ(r.error(), kTransient);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(delays.size(), 2u);
}

TEST_F(RetryTest, NeverSleepsPastMaxElapsed) {
  // Each attempt takes 500 ms: the first retry starts at 500 ms + d1, the second would start at
  // 1 s + d1 + d2, past max_elapsed.
  const auto r = run({kTransient, kTransient, kTransient},
                     RetryPolicy{.max_attempts = 10,
                                 .max_elapsed = 1s,
                                 .backoff = {.initial = 100ms, .max = 100ms},
                                 .seed = 1},
                     500ms);
  EXPECT_EQ(r.error(), kTransient);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(delays.size(), 1u);
}

TEST_F(RetryTest, ACancelledSleepEndsTheRetries) {
  const auto r = run({kTransient, kTransient}, RetryPolicy{}, 0ns, asio::error::operation_aborted);
  EXPECT_EQ(r.error(), asio::error::operation_aborted);
  EXPECT_EQ(calls, 1);
}

TEST(SleepForTest, WaitsOnTheExecutorsTimer) {
  asio::io_context ctx;
  auto future = asio::co_spawn(ctx, sleep_for(1ms), asio::use_future);
  const auto start = std::chrono::steady_clock::now();
  ctx.run();
  EXPECT_FALSE(future.get());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1ms);
}

}  // namespace
}  // namespace tiercache::resilience
