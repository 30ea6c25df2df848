#pragma once
// Histogram: counts of observations in fixed buckets, with their sum, one series of a histogram
// family. Bucket i counts observations <= bounds[i] (Prometheus's `le`); a last, implicit bucket
// counts everything (+Inf). Durations are observed in seconds, Prometheus's base unit.
// Use: auto& latency = registry.histogram("tiercache_operation_duration_seconds", "...",
//                                         {"operation"}, latency_buckets()).with({"get"});
//      latency.observe(std::chrono::steady_clock::now() - start);
// Thread-safety: safe from any thread, lock-free: observe() of a duration is two atomic adds on
// this thread's cell (the bucket's count, and the sum in whole nanoseconds); observe() of a
// double adds its sum with a compare-and-swap instead. snapshot() sums the cells; concurrent
// with observe() its counts are consistent with one another (count is their sum) but the sum
// may miss or include an observation that the counts do not.

#include "tiercache/metrics/shard.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

namespace tiercache::metrics {

// Prometheus's default buckets: 5 ms to 10 s.
std::vector<double> default_buckets();
// Latency in seconds, 50 µs to 10 s: 50, 100, 250, 500 µs, 1, 2.5, 5, 10, 25, 50, 100, 250,
// 500 ms, 1, 2.5, 5, 10 s. Sized for an L1 hit at the bottom and a slow upstream at the top.
std::vector<double> latency_buckets();
// `count` bounds: start, start * factor, start * factor^2, ... (item sizes, TTLs).
// REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

class Histogram {
 public:
  // REQUIRES: bounds finite and strictly increasing (Registry checks this).
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Adds one observation. NaN goes to the +Inf bucket and makes the sum NaN (client_golang).
  void observe(double v) noexcept;
  // Adds a duration, in seconds. An integral one (every clock's) goes in whole nanoseconds to an
  // integer sum: one atomic add where a double needs a compare-and-swap loop.
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) noexcept {
    if constexpr (std::is_floating_point_v<Rep>) {
      observe(std::chrono::duration<double>(d).count());
    } else {
      observe_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    }
  }
  // Adds a duration of ns nanoseconds (observe(duration) of an integral one comes here).
  void observe_ns(std::int64_t ns) noexcept;

  struct Snapshot {
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; bounds().size() + 1
    double sum = 0;
    std::uint64_t count = 0;  // the sum of counts
  };
  Snapshot snapshot() const;

  // Empties every bucket and the sum. An observe() racing with reset() may be kept in part.
  void reset() noexcept;

  std::span<const double> bounds() const noexcept { return bounds_; }

 private:
  // A shard's words: the sum of observe_ns() as a two's complement int64, the sum of
  // observe(double) as the bits of a double, then one count per bucket (+Inf last); padded to
  // whole cache lines so that shards never share one.
  static constexpr std::size_t kNsSum = 0;
  static constexpr std::size_t kDoubleSum = 1;
  static constexpr std::size_t kCounts = 2;
  struct alignas(detail::kCacheLine) Line {
    std::atomic<std::uint64_t> word[detail::kCacheLine / sizeof(std::uint64_t)];
  };
  std::atomic<std::uint64_t>& word(std::size_t shard, std::size_t i) const noexcept {
    constexpr std::size_t kWords = detail::kCacheLine / sizeof(std::uint64_t);
    return lines_[shard * lines_per_shard_ + i / kWords].word[i % kWords];
  }
  // The bucket of v: the first bound >= v, or bounds_.size() (+Inf).
  std::size_t bucket(double v) const noexcept;

  std::vector<double> bounds_;
  // By octave (a double's sign and exponent bits) from first_octave_ to last_octave_: the first
  // bound at or above the octave's smallest value. Empty unless every bound is positive.
  std::vector<std::uint32_t> octave_start_;
  std::uint64_t first_octave_ = 0;
  std::uint64_t last_octave_ = 0;
  std::size_t lines_per_shard_;
  std::size_t shards_;
  std::unique_ptr<Line[]> lines_;
};

}  // namespace tiercache::metrics
