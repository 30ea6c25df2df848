#pragma once
// Measuring helpers every benchmark shares: this process's CPU time (getrusage, all threads:
// the steadiest figure on a shared machine) and a percentile of recorded latencies.
// Use: const double cpu0 = bench::cpu_seconds(); ...; double p99 = bench::percentile(ms, 0.99);
// Thread-safety: plain functions; percentile reorders the vector it is given.

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace tiercache::bench {

// User + system CPU seconds this process has used so far.
inline double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// The p-quantile (0..1) of v, nearest rank below; 0 for an empty v. Partially sorts v.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace tiercache::bench
