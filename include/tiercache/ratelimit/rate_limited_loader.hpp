#pragma once
// RateLimitedLoader: a loader (any callable returning asio::awaitable<Result<T>>) that first asks
// a Limiter, so cache misses respect the upstream's quota: it waits up to a bound for admission,
// or fails with Errc::rate_limited and the refusing Decision. It is itself such a loader, so a
// cache's get_or_load takes it unchanged (the cache layer is a peer: nothing here knows it).
// Use: auto load = ratelimit::rate_limited(search_limit, "flights:search",
//                                          [&] { return fetch_flights(query); }, {.max_wait = 2s});
//      Result<Flights> r = co_await load();          // or: co_await cache.get_or_load(key, load)
// Thread-safety: const calls are safe from any thread if the wrapped loader's are.

#include "tiercache/base/result.hpp"
#include "tiercache/ratelimit/decision.hpp"
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/ratelimit/limiter.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace tiercache::ratelimit {

struct WaitOptions {
  // Longest total wait for admission, over as many refusals as it takes (each wait is the
  // decision's retry_after). Default: 0: a refusal fails at once. Raising it holds callers (and
  // their memory) while the quota refills.
  std::chrono::milliseconds max_wait{0};
  // Units one load costs. REQUIRES: 1 <= cost <= the policy's max_cost(). Default: 1.
  std::uint32_t cost = 1;
};

// Asks `limiter` for `options.cost` units of `key` until admitted or until waiting for the next
// retry_after would pass options.max_wait.
// Completes with: the admitting Decision, or the last refusal (allowed == false) when the wait
//   would be too long; the Limiter's errors (Errc::invalid_argument); operation_aborted.
// Cancellation: terminal, during a wait or a Redis request; nothing is counted after it.
// Lifetimes: none: everything is taken by value.
// Example: examples/rate_limit.cpp
[[nodiscard]] asio::awaitable<Result<Decision>> acquire(Limiter limiter, std::string key,
                                                        WaitOptions options = {});

template <class T>
class RateLimitedLoader {
 public:
  using Loader = std::function<asio::awaitable<Result<T>>()>;

  // A load's value and the decision that let it run (or refused it); no decision when the
  // limiter failed.
  struct Outcome {
    Result<T> value;
    std::optional<Decision> decision;
  };

  // REQUIRES: loader is not empty.
  RateLimitedLoader(Limiter limiter, std::string key, Loader loader, WaitOptions options = {})
      : limiter_(std::move(limiter)),
        key_(std::move(key)),
        loader_(std::move(loader)),
        options_(options) {}

  // Runs the loader once the limiter admits it.
  // Completes with: the loader's result; Errc::rate_limited when refused for longer than
  //   max_wait (see load() for the retry_after); acquire()'s errors. An exception thrown by the
  //   loader propagates (the cache turns it into loader_failed).
  // Cancellation: as acquire(), then as the loader.
  // Lifetimes: none: the call copies the limiter, key and loader.
  [[nodiscard]] asio::awaitable<Result<T>> operator()() const {
    return value_of(run(limiter_, key_, loader_, options_));
  }

  // operator() with the deciding Decision alongside, for a Retry-After or X-RateLimit-* header.
  [[nodiscard]] asio::awaitable<Outcome> load() const {
    return run(limiter_, key_, loader_, options_);
  }

  const std::string& key() const noexcept { return key_; }

 private:
  static asio::awaitable<Outcome> run(Limiter limiter, std::string key, Loader loader,
                                      WaitOptions options) {
    Result<Decision> d = co_await acquire(std::move(limiter), std::move(key), options);
    if (!d) co_return Outcome{d.error(), std::nullopt};
    if (!d->allowed) co_return Outcome{make_error_code(Errc::rate_limited), *d};
    // Named first: g++ 12 destroys a co_await result used inside a braced initializer twice.
    Result<T> value = co_await loader();
    co_return Outcome{std::move(value), *d};
  }
  static asio::awaitable<Result<T>> value_of(asio::awaitable<Outcome> outcome) {
    Outcome done = co_await std::move(outcome);
    co_return std::move(done.value);
  }

  Limiter limiter_;
  std::string key_;
  Loader loader_;
  WaitOptions options_;
};

// A RateLimitedLoader for `loader`, whose T comes from its return type.
template <class Loader>
auto rate_limited(Limiter limiter, std::string key, Loader loader, WaitOptions options = {}) {
  using Value = typename std::invoke_result_t<Loader&>::value_type::value_type;
  return RateLimitedLoader<Value>(std::move(limiter), std::move(key), std::move(loader), options);
}

}  // namespace tiercache::ratelimit
