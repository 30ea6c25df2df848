#pragma once
// Measuring helpers every benchmark shares: this process's CPU time (getrusage, all threads:
// the steadiest figure on a shared machine), another process's (a server the benchmark
// started), and a percentile of recorded latencies.
// Use: const double cpu0 = bench::cpu_seconds(); ...; double p99 = bench::percentile(ms, 0.99);
// Thread-safety: plain functions; percentile reorders the vector it is given.

#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tiercache::bench {

// User + system CPU seconds of getrusage(`who`): RUSAGE_SELF or RUSAGE_CHILDREN.
inline double rusage_seconds(int who) {
  rusage u{};
  ::getrusage(who, &u);
  auto secs = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// User + system CPU seconds this process has used so far.
inline double cpu_seconds() { return rusage_seconds(RUSAGE_SELF); }

// ... and its children that have ended and been waited for (a tool run through popen/pclose).
inline double children_cpu_seconds() { return rusage_seconds(RUSAGE_CHILDREN); }

// User + system CPU seconds process `pid` has used so far (/proc/<pid>/stat: utime, stime);
// -1 when it cannot be read. For a server the benchmark started, beside our own cpu_seconds().
inline double process_cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return -1;
  // The fields after the command name, which is in parentheses and may hold spaces.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The p-quantile (0..1) of v, nearest rank below; 0 for an empty v. Partially sorts v.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace tiercache::bench
