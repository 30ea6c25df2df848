#include "tiercache/resilience/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace tiercache::resilience {

Clock::duration backoff_ceiling(const BackoffPolicy& policy, std::uint32_t attempt) noexcept {
  const double max = static_cast<double>(policy.max.count());
  // pow overflows to +inf for large attempts, which min() then caps.
  const double ceiling = static_cast<double>(policy.initial.count()) *
                         std::pow(policy.multiplier, static_cast<double>(attempt));
  return Clock::duration(static_cast<Clock::duration::rep>(std::min(ceiling, max)));
}

Backoff::Backoff(BackoffPolicy policy, std::uint64_t seed)
    : policy_(policy), rng_(seed != 0 ? seed : std::random_device{}()) {}

Clock::duration Backoff::next() noexcept {
  const auto ceiling = backoff_ceiling(policy_, attempt_);
  if (attempt_ < 64) ++attempt_;  // past the cap anyway; keeps pow() finite
  // splitmix64: fast, good enough for jitter, and reproducible from a seed.
  std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  z ^= z >> 31;
  const auto span = static_cast<std::uint64_t>(ceiling.count()) + 1;
  return Clock::duration(static_cast<Clock::duration::rep>(z % span));
}

}  // namespace tiercache::resilience
