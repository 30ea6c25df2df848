#include "tiercache/metrics/histogram.hpp"

#include <bit>
#include <cmath>

namespace tiercache::metrics {

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> latency_buckets() {
  return {50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3,
          50e-3, 100e-3, 250e-3, 500e-3, 1,    2.5,    5,    10};
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  std::vector<double> bounds;
  bounds.reserve(count);
  for (double b = start; bounds.size() < count; b *= factor) bounds.push_back(b);
  return bounds;
}

namespace {
constexpr std::size_t kWordsPerLine = detail::kCacheLine / sizeof(std::uint64_t);
}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      // bounds_.size() + 1 bucket counts, then the sum.
      lines_per_shard_((bounds_.size() + 2 + kWordsPerLine - 1) / kWordsPerLine),
      shards_(detail::shard_count()),
      lines_(std::make_unique<Line[]>(lines_per_shard_ * shards_)) {
  reset();
}

std::atomic<std::uint64_t>& Histogram::word(std::size_t shard, std::size_t i) const noexcept {
  return lines_[shard * lines_per_shard_ + i / kWordsPerLine].word[i % kWordsPerLine];
}

void Histogram::observe(double v) noexcept {
  // A linear scan: ~20 bounds in a line or three, predictable, cheaper than a binary search.
  // NaN compares false with every bound, so it falls through to +Inf.
  std::size_t i = 0;
  while (i < bounds_.size() && !(v <= bounds_[i])) ++i;
  const std::size_t shard = detail::this_thread_shard() & (shards_ - 1);
  word(shard, i).fetch_add(1, std::memory_order_relaxed);
  auto& sum = word(shard, bounds_.size() + 1);
  std::uint64_t old = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(old,
                                    std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + v),
                                    std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.counts.assign(bounds_.size() + 1, 0);
  for (std::size_t shard = 0; shard < shards_; ++shard) {
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
      s.counts[i] += word(shard, i).load(std::memory_order_relaxed);
    }
    s.sum += std::bit_cast<double>(word(shard, bounds_.size() + 1).load(std::memory_order_relaxed));
  }
  for (const auto c : s.counts) s.count += c;
  return s;
}

void Histogram::reset() noexcept {
  const std::uint64_t zero_sum = std::bit_cast<std::uint64_t>(0.0);
  for (std::size_t shard = 0; shard < shards_; ++shard) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      word(shard, i).store(0, std::memory_order_relaxed);
    }
    word(shard, bounds_.size() + 1).store(zero_sum, std::memory_order_relaxed);
  }
}

}  // namespace tiercache::metrics
