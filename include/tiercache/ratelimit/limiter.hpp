#pragma once
// Limiter: a rate limit shared by every process that uses the same Redis, decided by an atomic
// Lua script (the Policy's algorithm) on the Redis server's clock. Decisions are coalesced: one
// leaves at once when the Limiter has no script call in flight; those that arrive meanwhile wait
// and leave together in the next call (up to Policy::max_batch), decided in order as if one by one.
// Use: ratelimit::Limiter search(redis, {.limit = 120, .window = 1min});
//      Result<Decision> d = co_await search.allow("flights:search");
//      if (d && !d->allowed) ... d->retry_after ...
// Thread-safety: safe from any thread; each call completes on its caller's executor. A Limiter is
// a cheap handle: copies share the policy, the queue, the local fallback and the stats; calls in
// flight keep them alive.

#include "tiercache/base/clock.hpp"
#include "tiercache/base/result.hpp"
#include "tiercache/ratelimit/decision.hpp"
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/ratelimit/policy.hpp"
#include "tiercache/redis/any_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::ratelimit {

namespace asio = boost::asio;

class Limiter {
 public:
  // Counters since construction, shared by copies. Every decision Redis did not make is in
  // exactly one of fail_open, fail_closed and local, and in redis_failures.
  struct Stats {
    std::uint64_t allowed = 0;            // allow() calls admitted (by any source)
    std::uint64_t denied = 0;             // allow() calls refused (by any source)
    std::uint64_t redis_failures = 0;     // calls Redis could not decide (allow, peek, reset)
    std::uint64_t fail_open = 0;          // allow() decisions made by OnRedisDown::fail_open
    std::uint64_t fail_closed = 0;        // ... by OnRedisDown::fail_closed
    std::uint64_t local = 0;              // ... by the in-process token bucket
    std::uint64_t batches = 0;            // script calls sent (one per batch of decisions)
    std::uint64_t batched_decisions = 0;  // allow() and peek() calls they carried
  };

  // REQUIRES: redis is not null. Throws std::invalid_argument for a policy outside the
  // REQUIRES of its fields (bad start-up config fails fast). `clock` drives the local fallback
  // only (Redis's clock drives the shared limit) and must outlive the Limiter and its calls.
  Limiter(std::shared_ptr<redis::AnyClient> redis, Policy policy,
          const Clock& clock = Clock::real());

  // Counts a request of `cost` units against `key` and says whether it may proceed.
  // Completes with: a Decision (allowed or refused; source says who decided: Redis, or the
  //   policy's fallback when Redis could not), or Errc::invalid_argument (empty key, cost 0 or
  //   above Policy::max_cost(); nothing counted), or operation_aborted when cancelled.
  // Cancellation: terminal (any type). A call still queued for the next batch leaves the queue
  //   and counts nothing; one already sent completes at once, and Redis may still count it. The
  //   Limiter stays usable.
  // Lifetimes: none: the key is moved in, and the call holds what it needs of the Limiter.
  // Example: examples/rate_limit.cpp
  [[nodiscard]] asio::awaitable<Result<Decision>> allow(std::string key, std::uint32_t cost = 1);

  // What allow(key, cost) would answer now, counting nothing. remaining is the units available
  // now (the cost not taken off).
  // Completes with: a Decision; Errc::invalid_argument as allow(); when Redis cannot answer,
  //   the local bucket's view under OnRedisDown::local, else Errc::redis_unavailable or
  //   Errc::unexpected_reply.
  // Cancellation, Lifetimes: as allow().
  [[nodiscard]] asio::awaitable<Result<Decision>> peek(std::string key, std::uint32_t cost = 1);

  // Forgets all usage of `key` (in Redis and in the local fallback).
  // Completes with: success, Errc::invalid_argument for an empty key, or Errc::redis_unavailable
  //   / Errc::unexpected_reply (the local bucket is reset anyway).
  // Cancellation, Lifetimes: as allow().
  [[nodiscard]] asio::awaitable<Result<void>> reset(std::string key);

  const Policy& policy() const noexcept;
  // The Redis key that holds `key`'s usage: Policy::key_prefix + key.
  std::string redis_key(std::string_view key) const;
  Stats stats() const noexcept;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace tiercache::ratelimit
