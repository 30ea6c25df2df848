#pragma once
// LocalLimiter: the in-process fallback of a Limiter whose Redis is down: a token bucket per key
// (capacity = rate per window), on the injected Clock. Each process counts alone, so N processes
// admit up to N times the local limit between them.
// Use: LocalLimiter local(100, 1s, 100'000, clock); Decision d = local.decide("k", 1, false);
// Thread-safety: safe from any thread (one mutex, never held across a suspension).

#include "tiercache/base/clock.hpp"
#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/ratelimit/decision.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tiercache::ratelimit {

class LocalLimiter {
 public:
  // REQUIRES: capacity >= 1, window > 0, max_keys >= 1. `clock` outlives this.
  LocalLimiter(std::uint32_t capacity, std::chrono::milliseconds window, std::size_t max_keys,
               const Clock& clock);

  // Takes `cost` tokens from `key`'s bucket if it holds them (only looks when `peek`).
  // REQUIRES: 1 <= cost.
  Decision decide(const std::string& key, std::uint32_t cost, bool peek);
  void reset(const std::string& key);
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated{};
  };

  // Refills `bucket` up to now.
  void refill(Bucket& bucket, Clock::time_point now) const noexcept;
  // Makes room for one more key: drops full buckets (they equal a missing one), then all.
  void make_room(Clock::time_point now) TIERCACHE_REQUIRES(mu_);

  const double capacity_;
  const double tokens_per_ns_;
  const std::size_t max_keys_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ TIERCACHE_GUARDED_BY(mu_);
};

}  // namespace tiercache::ratelimit
