#pragma once
// Backoff: delays between attempts, exponential with a cap and full jitter (each delay uniform in
// [0, min(max, initial * multiplier^attempt)]), which spreads retries of many clients best of the
// usual schemes (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
// Use: Backoff backoff(BackoffPolicy{.initial = 10ms, .max = 1s});
//      auto d = backoff.next();   // ... after a success: backoff.reset();
// Thread-safety: not thread-safe; one per retry loop or reconnect loop.

#include "tiercache/base/clock.hpp"

#include <chrono>
#include <cstdint>

namespace tiercache::resilience {

struct BackoffPolicy {
  // The ceiling of the first delay. Default: 10 ms.
  Clock::duration initial = std::chrono::milliseconds(10);
  // No delay exceeds this. Default: 1 s.
  Clock::duration max = std::chrono::seconds(1);
  // Growth of the ceiling per attempt. Default: 2.
  double multiplier = 2;
};

// The ceiling of the delay before retry number `attempt` (0 for the first retry):
// min(max, initial * multiplier^attempt).
Clock::duration backoff_ceiling(const BackoffPolicy& policy, std::uint32_t attempt) noexcept;

class Backoff {
 public:
  // seed 0 picks one at random; tests pass their own.
  explicit Backoff(BackoffPolicy policy, std::uint64_t seed = 0);

  // The next delay, uniform in [0, backoff_ceiling(policy, attempts())]; counts an attempt.
  Clock::duration next() noexcept;
  // Back to the first attempt (after a success).
  void reset() noexcept { attempt_ = 0; }
  std::uint32_t attempts() const noexcept { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::uint64_t rng_;
  std::uint32_t attempt_ = 0;
};

}  // namespace tiercache::resilience
