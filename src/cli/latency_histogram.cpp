#include "cli/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tiercache::cli {
namespace {

std::size_t index_of(std::uint64_t v) {
  if (v < 16) return static_cast<std::size_t>(v);
  const int e = static_cast<int>(std::bit_width(v)) - 1;  // 4..63
  const auto sub = (v >> (e - 4)) & 15;
  return 16 + static_cast<std::size_t>(e - 4) * 16 + static_cast<std::size_t>(sub);
}

// The middle of bucket i.
double middle_of(std::size_t i) {
  if (i < 16) return static_cast<double>(i);
  const int e = static_cast<int>((i - 16) / 16) + 4;
  const auto sub = static_cast<double>((i - 16) % 16);
  const double width = std::ldexp(1.0, e - 4);
  return (16 + sub) * width + width / 2;
}

}  // namespace

void LatencyHistogram::record(std::chrono::nanoseconds d) {
  const auto ns = std::max<std::int64_t>(0, d.count());
  ++buckets_[std::min(index_of(static_cast<std::uint64_t>(ns)), kBuckets - 1)];
  ++count_;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

std::chrono::nanoseconds LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return {};
  const auto rank =
      static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::chrono::nanoseconds(
          std::min<std::int64_t>(static_cast<std::int64_t>(middle_of(i)), max_));
    }
  }
  return std::chrono::nanoseconds(max_);
}

}  // namespace tiercache::cli
