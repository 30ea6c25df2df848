#include "tiercache/metrics/histogram.hpp"

#include <algorithm>
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

// A double's sign and biased exponent: the top 12 bits.
std::uint64_t sign_and_exponent(double v) noexcept { return std::bit_cast<std::uint64_t>(v) >> 52; }

}  // namespace

// bucket() in two steps: a table by binary exponent (one entry per octave the bounds span)
// gives the first bound at or above the octave's smallest value, so every bound before it is
// below v; a scan from there to the first bound >= v then takes a compare or two, since a
// 1-2.5-5 series puts at most two bounds in an octave. No search of all bounds, no branch that
// depends on more than the octave. Only positive bounds get a table; with a bound <= 0 the scan
// starts at 0. NaN compares false with every bound, so it ends at +Inf (bounds_.size()).
Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      // The two sums, then bounds_.size() + 1 bucket counts.
      lines_per_shard_((kCounts + bounds_.size() + 1 + kWordsPerLine - 1) / kWordsPerLine),
      shards_(detail::shard_count()),
      lines_(std::make_unique<Line[]>(lines_per_shard_ * shards_)) {
  if (!bounds_.empty() && bounds_.front() > 0) {
    first_octave_ = sign_and_exponent(bounds_.front());
    // The octave above the last bound's starts past every bound: its entry is bounds_.size().
    last_octave_ = std::min<std::uint64_t>(sign_and_exponent(bounds_.back()) + 1, 0x7ff);
    for (std::uint64_t e = first_octave_; e <= last_octave_; ++e) {
      const double smallest = std::bit_cast<double>(e << 52);  // 2^(e - 1023)
      octave_start_.push_back(static_cast<std::uint32_t>(
          std::lower_bound(bounds_.begin(), bounds_.end(), smallest) - bounds_.begin()));
    }
  }
  reset();
}

std::size_t Histogram::bucket(double v) const noexcept {
  const std::uint64_t e = sign_and_exponent(v);
  std::size_t i = 0;
  // Positive (or +NaN) and at least the first bound's octave: start where the table says.
  if (e >= first_octave_ && e < 0x800 && !octave_start_.empty()) {
    i = octave_start_[std::min(e, last_octave_) - first_octave_];
  }
  const std::size_t n = bounds_.size();
  while (i < n && !(v <= bounds_[i])) ++i;
  return i;
}

void Histogram::observe(double v) noexcept {
  const std::size_t i = bucket(v);
  const std::size_t shard = detail::this_thread_shard() & (shards_ - 1);
  word(shard, kCounts + i).fetch_add(1, std::memory_order_relaxed);
  auto& sum = word(shard, kDoubleSum);
  std::uint64_t old = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(old,
                                    std::bit_cast<std::uint64_t>(std::bit_cast<double>(old) + v),
                                    std::memory_order_relaxed)) {
  }
}

void Histogram::observe_ns(std::int64_t ns) noexcept {
  // Seconds as duration<double> computes them (a division), so a duration lands in the bucket
  // observe(double) would give it.
  const std::size_t i = bucket(static_cast<double>(ns) / 1e9);
  const std::size_t shard = detail::this_thread_shard() & (shards_ - 1);
  word(shard, kCounts + i).fetch_add(1, std::memory_order_relaxed);
  // Unsigned wrap-around is two's complement addition: a negative duration subtracts.
  word(shard, kNsSum).fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.counts.assign(bounds_.size() + 1, 0);
  std::uint64_t ns = 0;
  for (std::size_t shard = 0; shard < shards_; ++shard) {
    for (std::size_t i = 0; i < s.counts.size(); ++i) {
      s.counts[i] += word(shard, kCounts + i).load(std::memory_order_relaxed);
    }
    s.sum += std::bit_cast<double>(word(shard, kDoubleSum).load(std::memory_order_relaxed));
    ns += word(shard, kNsSum).load(std::memory_order_relaxed);
  }
  s.sum += static_cast<double>(static_cast<std::int64_t>(ns)) / 1e9;
  for (const auto c : s.counts) s.count += c;
  return s;
}

void Histogram::reset() noexcept {
  const std::uint64_t zero_sum = std::bit_cast<std::uint64_t>(0.0);
  for (std::size_t shard = 0; shard < shards_; ++shard) {
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      word(shard, kCounts + i).store(0, std::memory_order_relaxed);
    }
    word(shard, kDoubleSum).store(zero_sum, std::memory_order_relaxed);
    word(shard, kNsSum).store(0, std::memory_order_relaxed);
  }
}

}  // namespace tiercache::metrics
