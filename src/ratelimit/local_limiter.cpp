#include "local_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace tiercache::ratelimit {

LocalLimiter::LocalLimiter(std::uint32_t capacity, std::chrono::milliseconds window,
                           std::size_t max_keys, const Clock& clock)
    : capacity_(static_cast<double>(capacity)),
      tokens_per_ns_(static_cast<double>(capacity) /
                     static_cast<double>(std::chrono::nanoseconds(window).count())),
      max_keys_(max_keys),
      clock_(clock) {}

void LocalLimiter::refill(Bucket& bucket, Clock::time_point now) const noexcept {
  if (now > bucket.updated) {
    const auto elapsed = static_cast<double>((now - bucket.updated).count());
    bucket.tokens = std::min(capacity_, bucket.tokens + elapsed * tokens_per_ns_);
    bucket.updated = now;
  }
}

void LocalLimiter::make_room(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now);
    it = it->second.tokens >= capacity_ ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() >= max_keys_) buckets_.clear();
}

Decision LocalLimiter::decide(const std::string& key, std::uint32_t cost, bool peek) {
  const Clock::time_point now = clock_.now();
  const auto want = static_cast<double>(cost);
  double tokens = capacity_;  // before this request
  bool allowed = false;
  {
    std::lock_guard lock(mu_);
    auto it = buckets_.find(key);
    if (it != buckets_.end()) {
      refill(it->second, now);
      tokens = it->second.tokens;
    }
    // A little slack for the float arithmetic of refills.
    allowed = want <= tokens + 1e-9;
    if (allowed && !peek) {
      if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) make_room(now);
        it = buckets_.emplace(key, Bucket{capacity_, now}).first;
      }
      it->second.tokens = std::max(0.0, it->second.tokens - want);
    }
  }
  Decision d;
  d.allowed = allowed;
  d.limit = static_cast<std::uint32_t>(capacity_);
  d.source = Source::local;
  const double left = allowed && !peek ? std::max(0.0, tokens - want) : tokens;
  d.remaining = static_cast<std::uint32_t>(std::floor(left + 1e-9));
  const auto ns = [&](double t) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(t / tokens_per_ns_)));
  };
  if (!allowed) {
    d.retry_after = std::max(std::chrono::microseconds(1),
                             std::chrono::ceil<std::chrono::microseconds>(ns(want - tokens)));
  }
  if (left < capacity_) {
    d.reset_at = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        clock_.wall_now() + ns(capacity_ - left));
  }
  return d;
}

void LocalLimiter::reset(const std::string& key) {
  std::lock_guard lock(mu_);
  buckets_.erase(key);
}

std::size_t LocalLimiter::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace tiercache::ratelimit
