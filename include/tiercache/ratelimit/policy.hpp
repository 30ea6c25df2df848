#pragma once
// Policy: what a Limiter enforces: the algorithm, its limit and window, the token bucket's burst,
// where its keys live and what to do when Redis is down. An aggregate with defaults:
// Use: ratelimit::Policy{.algorithm = Algorithm::sliding_log, .limit = 120, .window = 1min}
// Thread-safety: a plain value.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tiercache::ratelimit {

enum class Algorithm {
  // Exact: at most `limit` units in any interval of `window`. One sorted-set member per admitted
  // unit still in the window, so memory grows with the limit (src/ratelimit/sliding_log.lua).
  sliding_log,
  // Approximate: the previous fixed window's count, weighted by its overlap, plus the current
  // one's. O(1) memory; exact within one fixed window (src/ratelimit/sliding_window.lua).
  sliding_window,
  // GCRA: `limit` per `window` on average, bursts up to `burst`. O(1) memory; at most
  // burst + t * limit / window units over any interval t (src/ratelimit/token_bucket.lua).
  token_bucket,
};

// What allow() answers while Redis cannot decide (unreachable, timed out, or an error reply).
// Every such decision is counted (Limiter::Stats) and logged at warn, at most once a second.
enum class OnRedisDown {
  fail_open,    // admit everything: the upstream's own limit is the only guard
  fail_closed,  // refuse everything, with retry_after = Policy::fail_closed_retry
  local,        // an in-process token bucket per key (Policy::local_limit per window, each
                // process on its own): close to the limit for one process, N times it for N
};

std::string_view to_string(Algorithm algorithm) noexcept;
std::string_view to_string(OnRedisDown mode) noexcept;

struct Policy {
  // Default: sliding_log (exact).
  Algorithm algorithm = Algorithm::sliding_log;
  // Units admitted per window. REQUIRES: >= 1. Default: 100. With sliding_log, each unit in
  // the window is a member of a sorted set (~70 bytes): prefer sliding_window above ~10,000.
  std::uint32_t limit = 100;
  // REQUIRES: >= 1 ms and <= 1 year. Default: 1 s.
  std::chrono::milliseconds window{1000};
  // token_bucket only: the bucket's capacity, the most units admitted at once. 0 means `limit`.
  // Default: 0. Raising it lets bursts through; the average rate stays limit / window.
  std::uint32_t burst = 0;
  // Prepended to every key: Redis key = key_prefix + key. Default: "ratelimit:". Put a hash tag
  // in a key ("{tenant}:search") to keep related limits on one Redis Cluster slot; each limit
  // is one key, so none is needed for correctness.
  std::string key_prefix = "ratelimit:";
  // Default: local.
  OnRedisDown on_redis_down = OnRedisDown::local;
  // local: units per window of the in-process bucket (its burst too). 0 means `limit`.
  // Default: 0. With N processes sharing one quota, set limit / N.
  std::uint32_t local_limit = 0;
  // fail_closed: the retry_after of a refusal while Redis is down. Default: 1 s.
  std::chrono::milliseconds fail_closed_retry{1000};
  // local: most keys the in-process limiter tracks; beyond it, idle (full) buckets are dropped,
  // then all. Default: 100,000 (~100 bytes each).
  std::size_t local_max_keys = 100'000;
  // Most decisions one script call carries. A Limiter's decisions that arrive while its call is
  // in flight wait for it and leave together in the next, decided in order by one EVALSHA, so
  // Redis's fixed cost per call (parsing, the Lua call, TIME, the reply) is paid once per batch
  // (docs/decisions/0005-rate-limiter.md). REQUIRES: 1 to 1,000. Default: 64. Raising it lets
  // one call hold Redis's thread longer (~2-10 us a decision, by algorithm). 1 turns batching
  // off: each decision is its own call, pipelined with the others as they come.
  std::uint32_t max_batch = 64;
  // Most script calls a Limiter has in flight at once (per hash slot on a cluster). With 2, the
  // next batch is already at Redis when one returns, so Redis does not sit idle while the
  // returned batch's callers run and ask again (8-32% more decisions per second than 1 in
  // ratelimit_bench); 1 makes the batches largest. Decisions stay in order: calls on one link
  // run in the order they were sent.
  // REQUIRES: 1 to 16. Default: 2.
  std::uint32_t max_in_flight = 2;

  // The token bucket's capacity: burst, or limit when burst is 0.
  std::uint32_t effective_burst() const noexcept { return burst != 0 ? burst : limit; }
  // Most units one request may cost: limit, or the burst for a token bucket.
  std::uint32_t max_cost() const noexcept {
    return algorithm == Algorithm::token_bucket ? effective_burst() : limit;
  }
};

}  // namespace tiercache::ratelimit
