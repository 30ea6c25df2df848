#pragma once
// Decision: a rate limiter's answer to one request: admitted or not, what is left, when to retry
// and when the limit is whole again. What a caller needs for X-RateLimit-* and Retry-After.
// Use: if (!d.allowed) co_await sleep(d.retry_after);
// Thread-safety: a plain value.

#include <chrono>
#include <cstdint>
#include <string_view>

namespace tiercache::ratelimit {

// Who decided.
enum class Source {
  redis,        // the shared limit in Redis: what the policy promises
  fail_open,    // Redis was down; admitted by policy
  fail_closed,  // Redis was down; refused by policy
  local,        // Redis was down; this process's token bucket decided
};

std::string_view to_string(Source source) noexcept;

struct Decision {
  // The request was admitted and counted (for peek: it would be admitted now).
  bool allowed = false;
  // The policy's limit (the local limit when source is local).
  std::uint32_t limit = 0;
  // Units still available after this decision: after the cost was counted when allowed,
  // untouched when refused (so remaining < cost).
  std::uint32_t remaining = 0;
  // 0 when allowed. When refused: the earliest wait after which the same request could pass,
  // were nothing else admitted in between. A duration, so clock skew does not matter.
  std::chrono::microseconds retry_after{0};
  // When usage is back to zero (the bucket full again), on the Redis server's clock (on this
  // process's for the fallbacks). The epoch when there is nothing to reset.
  std::chrono::system_clock::time_point reset_at{};
  Source source = Source::redis;

  // True when Redis did not decide (source is not redis).
  bool degraded() const noexcept { return source != Source::redis; }
};

}  // namespace tiercache::ratelimit
