#pragma once
// Zipf: draws ranks 0..n-1 with P(k) proportional to 1 / (k + 1)^s, exactly, from a precomputed
// CDF by binary search (n doubles; 100k keys are 800 KB and a draw is ~17 comparisons). Rank 0
// is the most popular. Deterministic: a std::mt19937_64 with the given seed, u = top 53 bits
// / 2^53, so the same (n, s, seed) gives the same trace with any standard library.
// Use: bench::Zipf zipf(100'000, 1.0); bench::ZipfStream draws(zipf, 42); auto k = draws();
// Thread-safety: a Zipf is immutable after construction (share it); a ZipfStream is not.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace tiercache::bench {

class Zipf {
 public:
  // REQUIRES: s >= 0. n = 0 is taken as 1.
  Zipf(std::size_t n, double s) : cdf_(std::max<std::size_t>(n, 1)) {
    double sum = 0;
    for (std::size_t k = 0; k < cdf_.size(); ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
      cdf_[k] = sum;
    }
    for (double& c : cdf_) c /= sum;  // rounding may leave the last below 1: see rank()
  }

  std::size_t size() const noexcept { return cdf_.size(); }
  // The probability of rank k.
  double probability(std::size_t k) const noexcept {
    return k == 0 ? cdf_[0] : cdf_[k] - cdf_[k - 1];
  }
  // The rank for u in [0, 1): the first k with u < CDF(k).
  std::size_t rank(double u) const noexcept {
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return it == cdf_.end() ? cdf_.size() - 1 : static_cast<std::size_t>(it - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

class ZipfStream {
 public:
  ZipfStream(const Zipf& zipf, std::uint64_t seed) : zipf_(&zipf), rng_(seed) {}
  std::size_t operator()() {
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    return zipf_->rank(u);
  }

 private:
  const Zipf* zipf_;
  std::mt19937_64 rng_;
};

}  // namespace tiercache::bench
