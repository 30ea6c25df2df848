#pragma once
// HitRateView: a cache's read counts and hit rate since a baseline that reset() moves (seed 001's
// CacheMetrics with reset_metrics), while the cache's own counters, and so the Prometheus
// counters exported from them, keep growing.
// Use: HitRateView view(cache);  ...;  auto c = view.counts();  c.hit_ratio();  view.reset();
// Thread-safety: safe from any thread. REQUIRES: the cache outlives the view.

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"

#include <cstdint>
#include <mutex>
#include <optional>

namespace tiercache::health {

// Reads by outcome over some interval, one per key asked (cache::CacheStats's read counters).
struct ReadCounts {
  std::uint64_t hits_l1 = 0;
  std::uint64_t hits_l2 = 0;
  std::uint64_t stale_served = 0;
  std::uint64_t misses = 0;
  std::uint64_t errors = 0;

  std::uint64_t hits() const noexcept { return hits_l1 + hits_l2 + stale_served; }
  std::uint64_t reads() const noexcept { return hits() + misses + errors; }
  // hits() / reads(); nullopt when nothing was read (a rate of nothing is not 0%).
  std::optional<double> hit_ratio() const noexcept;
};

// The counts of `now` minus those of `base`. A counter that went down (a different cache) counts
// as zero rather than wrapping.
ReadCounts read_counts_between(const cache::CacheStats& base,
                               const cache::CacheStats& now) noexcept;

class HitRateView {
 public:
  // The baseline is the cache's counts now.
  explicit HitRateView(const cache::Cache& cache);

  // Reads since the baseline.
  ReadCounts counts() const;
  // Moves the baseline to now; returns the counts it closed.
  ReadCounts reset();

  const cache::Cache& cache() const noexcept { return cache_; }

 private:
  const cache::Cache& cache_;
  mutable std::mutex mu_;
  cache::CacheStats base_ TIERCACHE_GUARDED_BY(mu_);
};

}  // namespace tiercache::health
