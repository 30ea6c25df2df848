// Metrics micro-benchmark: ns per Counter::inc and Histogram::observe at 1 and 2 threads against
// a plain relaxed std::atomic fetch_add on one shared word in the same run (the baseline: what a
// naive registry costs, and what sharding is meant to beat once threads contend); the cost of
// SlowLog::record under its threshold; a scrape of 1,000 series into Prometheus text; the
// per-request metrics of tiercached's REST layer, by label and resolved; and Cache::get of an L1
// hit with and without the metrics tiercached keeps per get (the cost of metrics on the hot
// path, issue #5: target < 5%).
// Run: build/release/bench/metrics_bench  (see bench/README.md). Build in Release.
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/health/cache_collector.hpp"
#include "tiercache/metrics/counter.hpp"
#include "tiercache/metrics/histogram.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/metrics/shard.hpp"
#include "tiercache/metrics/slow_log.hpp"
#include "tiercache/metrics/text_format.hpp"

#include "support/google_benchmark.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

using namespace tiercache;
using namespace tiercache::metrics;

// METRICS_BENCH_ITERATIONS=n runs a benchmark that applies this exactly n times, once: under
// callgrind two such runs give its instructions per iteration as a difference, free of the
// set-up's (bench/README.md).
void fixed_iterations(benchmark::internal::Benchmark* b) {
  if (const char* n = std::getenv("METRICS_BENCH_ITERATIONS")) b->Iterations(std::atoll(n));
}

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

// The same through observe(duration): whole nanoseconds to an integer sum (one atomic add).
void BM_HistogramObserveDuration(benchmark::State& state) {
  auto& h = shared_histogram();
  std::chrono::nanoseconds v(20'000);
  for (auto _ : state) {
    h.observe(v);
    v = v < std::chrono::milliseconds(20) ? v * 3 / 2 : std::chrono::nanoseconds(20'000);
  }
}
BENCHMARK(BM_HistogramObserveDuration)->Threads(1)->Threads(2)->UseRealTime();

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

// What RestApi::handle did per request before issue #5's work: the labels built as strings and
// both series looked up by them (a shared lock and a map search each), then the increment and
// the observation. "resolved" is what it does now: the series were resolved on the route's
// first request and kept (rest_api.cpp), so the increment and the observation are all.
void BM_RestRequestMetrics_ByLabel(benchmark::State& state) {
  Registry registry;
  auto& requests =
      registry.counter("tiercache_http_requests_total", "Requests.", {"method", "route", "status"});
  auto& durations = registry.histogram("tiercache_http_request_duration_seconds", "Durations.",
                                       {"route"}, latency_buckets());
  const std::string_view pattern = "/v1/cache/{ns}/{key}";
  for (auto _ : state) {
    const std::string method("GET");
    const std::string route(pattern);
    const auto status = std::to_string(200);
    requests.with({method, route, status}).inc();
    durations.with({route}).observe(std::chrono::nanoseconds(40'000));
  }
}
BENCHMARK(BM_RestRequestMetrics_ByLabel)->Apply(fixed_iterations);

void BM_RestRequestMetrics_Resolved(benchmark::State& state) {
  Registry registry;
  auto& requests =
      registry.counter("tiercache_http_requests_total", "Requests.", {"method", "route", "status"})
          .with({"GET", "/v1/cache/{ns}/{key}", "200"});
  auto& durations = registry
                        .histogram("tiercache_http_request_duration_seconds", "Durations.",
                                   {"route"}, latency_buckets())
                        .with({"/v1/cache/{ns}/{key}"});
  for (auto _ : state) {
    requests.inc();
    durations.observe(std::chrono::nanoseconds(40'000));
  }
}
BENCHMARK(BM_RestRequestMetrics_Resolved)->Apply(fixed_iterations);

// What a GET /v1/cache/{ns}/{key} adds to Cache::get for metrics (docs/decisions/0009).
enum class Metrics {
  off,  // Cache::get alone: the cache's own counters (relaxed atomics), which are always on
  on,   // + what rest_cache.cpp does per get: time it unless L1 answered (from the request's
        //   start, which RestApi::handle reads anyway), so for an L1 hit one branch
  on_with_request,  // + what RestApi::handle does per request, whatever the route: two clock
                    //   reads, the route's request counter and its duration histogram (resolved)
};

struct Series {
  Histogram& get_latency;      // tiercache_operation_duration_seconds{namespace,operation="get"}
  Counter& requests;           // tiercache_http_requests_total{method,route,status}
  Histogram& request_latency;  // tiercache_http_request_duration_seconds{route}
};

// Cache::get of one key held in L1 (no Redis: L1 alone), in a loop inside one coroutine so that
// the loop costs nothing beyond the get.
template <Metrics kMetrics>
boost::asio::awaitable<void> get_loop(benchmark::State& state, cache::Cache& c, Series series) {
  using std::chrono::steady_clock;
  const std::string key = "offer:42";
  (void)co_await c.set(key, std::string(1024, 'x'));
  for (auto _ : state) {
    const auto start =
        kMetrics == Metrics::on_with_request ? steady_clock::now() : steady_clock::time_point();
    auto r = co_await c.get(key);
    benchmark::DoNotOptimize(r);
    if constexpr (kMetrics != Metrics::off) {
      if (!r || r->source != cache::Source::l1) {
        series.get_latency.observe(steady_clock::now() - start);
      }
    }
    if constexpr (kMetrics == Metrics::on_with_request) {
      const auto elapsed = steady_clock::now() - start;
      series.request_latency.observe(elapsed);
      series.requests.inc();
    }
  }
}

template <Metrics kMetrics>
void BM_CacheGetL1Hit(benchmark::State& state) {
  boost::asio::io_context io;
  cache::Cache c(nullptr, cache::Options{.ns = "bench", .l1_bytes = std::size_t{1} << 20});
  Registry registry;
  health::CacheCollector collector(registry);
  if (kMetrics != Metrics::off) collector.add_cache(c);
  Series series{
      collector.operation_latency("bench", "get"),
      registry.counter("tiercache_http_requests_total", "Requests.", {"method", "route", "status"})
          .with({"GET", "/v1/cache/{ns}/{key}", "200"}),
      registry
          .histogram("tiercache_http_request_duration_seconds", "Durations.", {"route"},
                     latency_buckets())
          .with({"/v1/cache/{ns}/{key}"})};
  boost::asio::co_spawn(io, get_loop<kMetrics>(state, c, series), boost::asio::detached);
  io.run();
  if (kMetrics != Metrics::off) collector.remove_cache(c);
}
BENCHMARK(BM_CacheGetL1Hit<Metrics::off>)
    ->Name("BM_CacheGetL1Hit/metrics_off")
    ->Apply(fixed_iterations);
BENCHMARK(BM_CacheGetL1Hit<Metrics::on>)
    ->Name("BM_CacheGetL1Hit/metrics_on")
    ->Apply(fixed_iterations);
BENCHMARK(BM_CacheGetL1Hit<Metrics::on_with_request>)
    ->Name("BM_CacheGetL1Hit/metrics_on_with_request")
    ->Apply(fixed_iterations);

}  // namespace

int main(int argc, char** argv) {
  return tiercache::bench::run_google_benchmarks(
      argc, argv, "metrics cells per sharded value: " + std::to_string(detail::shard_count()));
}
