#pragma once
// bench's two drivers share their arguments, their checks and their report: bench_command.cpp
// drives the daemon's REST API from threads, redis_bench.cpp drives Redis through the library's
// Cache from coroutines on one pipelined link.
// Use: auto plan = plan_bench(ctx, args); ... return report_bench(ctx, args, total, elapsed, who);
// Thread-safety: a BenchTally belongs to one worker until the workers are done.

#include "cli/context.hpp"
#include "cli/latency_histogram.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace tiercache::cli {

inline constexpr std::uint64_t kMaxBenchRequests = 10'000'000;
inline constexpr std::chrono::hours kMaxBenchDuration{1};

struct BenchArgs {
  std::string ns = "default";
  std::size_t concurrency = 4;
  std::uint64_t requests = 0;  // 0: use duration, or the default count
  std::string duration;
  std::uint64_t keys = 1000;
  std::size_t value_size = 100;
  double read_ratio = 0.9;
  bool allow_remote = false;
  bool no_prefill = false;
};

// What one worker saw; merged when all are done.
struct BenchTally {
  LatencyHistogram latency;
  std::uint64_t gets = 0, sets = 0, hits = 0, misses = 0, errors = 0;
  std::string first_error;

  void merge(const BenchTally& other);
};

// How long to run: a count of requests, or (requests 0) a duration.
struct BenchPlan {
  std::uint64_t requests = 0;
  std::optional<std::chrono::milliseconds> duration{};
};
// The plan, or the exit code after a usage error (a bad or too long --duration, or both
// --requests and --duration).
std::variant<BenchPlan, int> plan_bench(Context& ctx, const BenchArgs& a);

// Prints throughput, percentiles, the hit rate and errors (or --json); returns 0 no errors,
// 5 some failed, 3 all failed. `links` says what the load went through, for the human output.
int report_bench(Context& ctx, const BenchArgs& a, const BenchTally& total,
                 std::chrono::steady_clock::duration elapsed, std::string_view links);

// bench --redis (redis_bench.cpp). REQUIRES: ctx.redis_mode().
int redis_bench(Context& ctx, const BenchArgs& a);

}  // namespace tiercache::cli
