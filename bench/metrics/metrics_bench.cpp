// Metrics micro-benchmark: ns per Counter::inc and Histogram::observe at 1 and 2 threads against
// a plain relaxed std::atomic fetch_add on one shared word in the same run (the baseline: what a
// naive registry costs, and what sharding is meant to beat once threads contend); the cost of
// SlowLog::record under its threshold; and a scrape of 1,000 series into Prometheus text.
// Run: build/rel/bench/metrics_bench  (see bench/README.md). Build in Release.
#include "tiercache/base/clock.hpp"
#include "tiercache/metrics/counter.hpp"
#include "tiercache/metrics/histogram.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/metrics/shard.hpp"
#include "tiercache/metrics/slow_log.hpp"
#include "tiercache/metrics/text_format.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

using namespace tiercache;
using namespace tiercache::metrics;

// One word every thread adds to, on its own cache line.
struct alignas(64) Shared {
  std::atomic<std::uint64_t> value{0};
};
Shared baseline;

void BM_AtomicFetchAddShared(benchmark::State& state) {
  for (auto _ : state) baseline.value.fetch_add(1, std::memory_order_relaxed);
}
BENCHMARK(BM_AtomicFetchAddShared)->Threads(1)->Threads(2)->UseRealTime();

Counter& shared_counter() {
  static Counter c;
  return c;
}

void BM_CounterInc(benchmark::State& state) {
  auto& c = shared_counter();
  for (auto _ : state) c.inc();
  if (state.thread_index() == 0)
    state.counters["cells"] = static_cast<double>(detail::shard_count());
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->UseRealTime();

Histogram& shared_histogram() {
  static Histogram h(latency_buckets());
  return h;
}

void BM_HistogramObserve(benchmark::State& state) {
  auto& h = shared_histogram();
  // Values spread over the buckets, as latencies are: 20 µs .. 20 ms.
  double v = 20e-6;
  for (auto _ : state) {
    h.observe(v);
    v = v < 20e-3 ? v * 1.5 : 20e-6;
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

void BM_SlowLogRecordUnderThreshold(benchmark::State& state) {
  static SlowLog log(SlowLogOptions{.threshold = std::chrono::milliseconds(100)}, Clock::real());
  for (auto _ : state) log.record("get", "users:42", std::chrono::microseconds(50), "l1");
}
BENCHMARK(BM_SlowLogRecordUnderThreshold)->Threads(1)->Threads(2)->UseRealTime();

// 1,000 series: 900 counters (3 labels) and 100 latency histograms (18 buckets each), the shape
// of tiercache's own metrics with ~30 namespaces.
void BM_Scrape1000Series(benchmark::State& state) {
  Registry registry;
  auto& requests = registry.counter("tiercache_cache_requests_total", "Cache lookups.",
                                    {"namespace", "tier", "result"});
  for (int ns = 0; ns < 100; ++ns) {
    for (const char* tier : {"l1", "l2", "loader"}) {
      for (const char* result : {"hit", "miss", "stale"}) {
        requests.with({"namespace_" + std::to_string(ns), tier, result}).inc(12345);
      }
    }
  }
  auto& latency = registry.histogram("tiercache_operation_duration_seconds", "Latency.",
                                     {"namespace"}, latency_buckets());
  for (int ns = 0; ns < 100; ++ns) {
    auto& h = latency.with({"namespace_" + std::to_string(ns)});
    for (int i = 0; i < 100; ++i) h.observe(i * 1e-4);
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto text = registry.scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["lines"] = 900 + 100 * (18 + 2);
}
BENCHMARK(BM_Scrape1000Series)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::printf("WARNING: assertions on (not a Release build); figures are not representative\n");
#endif
  std::printf("machine: %u hardware threads; metrics cells per sharded value: %zu\n",
              std::thread::hardware_concurrency(), detail::shard_count());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
