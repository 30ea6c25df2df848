#pragma once
// retry: runs an idempotent operation again after the errors its caller marks retryable, with
// full-jitter exponential backoff between attempts (backoff.hpp), at most max_attempts times and
// never sleeping past max_elapsed since the first attempt. Anything else (success, a
// non-retryable error, the last attempt) is returned as the operation returned it.
// REQUIRES: the operation is idempotent (GET, a SET of the same bytes, a Lua read), never INCR
// or a rate-limit decision: a reply lost after the server applied it would be applied twice.
// Use: auto r = co_await retry(GetOp{client, key}, RetryPolicy{.max_attempts = 3},
//                              [](error_code ec) { return ec == redis::Errc::connection_lost; });
// Thread-safety: a coroutine on the caller's executor; op, retryable and sleep are called there.

#include "tiercache/base/clock.hpp"
#include "tiercache/base/result.hpp"
#include "tiercache/resilience/backoff.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <type_traits>

namespace tiercache::resilience {

struct RetryPolicy {
  // Attempts in all, the first included. Default: 3.
  std::uint32_t max_attempts = 3;
  // No retry starts later than this after the first attempt began; a sleep that would end past
  // it is not taken. Each attempt's own deadline is the operation's business. Default: 1 s.
  Clock::duration max_elapsed = std::chrono::seconds(1);
  BackoffPolicy backoff{};
  // Seed for the jitter; 0 picks one at random. Default: 0.
  std::uint64_t seed = 0;
};

// Waits d on the current executor's steady_timer. Completes with no error after d, or with
// operation_aborted when cancelled (terminal cancellation of the awaiting coroutine).
boost::asio::awaitable<error_code> sleep_for(Clock::duration d);

// What retry() waits with; tests pass one that advances a ManualClock instead.
using Sleeper = std::function<boost::asio::awaitable<error_code>(Clock::duration)>;

// Op: a callable returning asio::awaitable<Result<T>>, called once per attempt.
// Retryable: a callable bool(const error_code&).
// Completes with: the last attempt's result, or the sleeper's error (operation_aborted) if a
// wait between attempts is cancelled.
// Cancellation: whatever op supports while an attempt runs; between attempts, the sleep.
// Lifetimes: op, retryable and sleep are moved into the coroutine; what they refer to must outlive
// it. clock must outlive it.
template <class Op, class Retryable>
[[nodiscard]] std::invoke_result_t<Op&> retry(Op op, RetryPolicy policy, Retryable retryable,
                                              const Clock& clock = Clock::real(),
                                              Sleeper sleep = sleep_for) {
  using R = typename std::invoke_result_t<Op&>::value_type;
  Backoff backoff(policy.backoff, policy.seed);
  const auto start = clock.now();
  for (std::uint32_t attempt = 1;; ++attempt) {
    R result = co_await op();
    if (result || attempt >= policy.max_attempts || !retryable(result.error())) co_return result;
    const auto delay = backoff.next();
    if (clock.now() + delay - start > policy.max_elapsed) co_return result;
    if (const error_code ec = co_await sleep(delay)) {
      co_return R(boost::system::in_place_error, ec);
    }
  }
}

}  // namespace tiercache::resilience
