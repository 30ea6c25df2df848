#include "tiercache/health/hit_rate.hpp"

namespace tiercache::health {
namespace {

std::uint64_t minus(std::uint64_t now, std::uint64_t base) noexcept {
  return now >= base ? now - base : 0;
}

}  // namespace

std::optional<double> ReadCounts::hit_ratio() const noexcept {
  const auto total = reads();
  if (total == 0) return std::nullopt;
  return static_cast<double>(hits()) / static_cast<double>(total);
}

ReadCounts read_counts_between(const cache::CacheStats& base,
                               const cache::CacheStats& now) noexcept {
  return ReadCounts{.hits_l1 = minus(now.hits_l1, base.hits_l1),
                    .hits_l2 = minus(now.hits_l2, base.hits_l2),
                    .stale_served = minus(now.stale_served, base.stale_served),
                    .misses = minus(now.misses, base.misses),
                    .errors = minus(now.errors, base.errors)};
}

HitRateView::HitRateView(const cache::Cache& cache) : cache_(cache), base_(cache.stats()) {}

ReadCounts HitRateView::counts() const {
  const auto now = cache_.stats();
  std::lock_guard lock(mu_);
  return read_counts_between(base_, now);
}

ReadCounts HitRateView::reset() {
  auto now = cache_.stats();
  std::lock_guard lock(mu_);
  const auto closed = read_counts_between(base_, now);
  base_ = std::move(now);
  return closed;
}

}  // namespace tiercache::health
