#pragma once
// LatencyHistogram: durations in log-linear buckets (16 per power of two, so about 6% wide), for
// bench's percentiles in bounded memory however long it runs.
// Use: h.record(ns); total.merge(h); auto p99 = total.percentile(0.99);
// Thread-safety: not thread-safe; one per worker, merged after they are joined.

#include <array>
#include <chrono>
#include <cstdint>

namespace tiercache::cli {

class LatencyHistogram {
 public:
  void record(std::chrono::nanoseconds d);
  void merge(const LatencyHistogram& other);
  std::uint64_t count() const noexcept { return count_; }
  std::chrono::nanoseconds max() const noexcept { return std::chrono::nanoseconds(max_); }
  // The value below which a fraction q (0..1) of the samples lie, to a bucket's precision;
  // 0 when empty.
  std::chrono::nanoseconds percentile(double q) const;

 private:
  static constexpr std::size_t kBuckets = 16 + 60 * 16;
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace tiercache::cli
