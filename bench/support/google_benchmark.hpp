#pragma once
// The main() of the Google Benchmark programs here: warns when the build is not Release, says
// what machine this is, then runs the benchmarks the command line selects.
// Use: int main(int argc, char** argv) { return bench::run_google_benchmarks(argc, argv); }
//      `note`, when given, is printed under the machine line (a setting the figures depend on).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <thread>

namespace tiercache::bench {

// 0, or 1 when the command line holds an argument Google Benchmark does not know.
inline int run_google_benchmarks(int argc, char** argv, const std::string& note = {}) {
#ifndef NDEBUG
  std::printf("WARNING: assertions on (not a Release build); figures are not representative\n");
#endif
  std::printf("machine: %u hardware threads\n", std::thread::hardware_concurrency());
  if (!note.empty()) std::printf("%s\n", note.c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace tiercache::bench
