// L1 micro-benchmark: ns per hit (1 and 2 threads), per miss, per put that evicts; then the
// hit ratio of L1's policy against plain LRU at the same byte budget on replayed traces
// (Caffeine's simulator/). Run: build/release/bench/l1_bench  (see bench/README.md).
// The bar (DESIGN.md): Caffeine, about 70 ns per hit at one thread on this 2-core machine.
#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include "cache/l1/simulator.hpp"
#include "support/google_benchmark.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace tiercache;
using namespace tiercache::cache;
namespace sim = detail::sim;

constexpr std::size_t kKeys = 100'000;

std::vector<std::string> make_keys(std::size_t n, const char* prefix) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

std::shared_ptr<const Entry> make_entry(const Clock& clock, std::size_t bytes) {
  Entry e;
  e.value.assign(bytes, 'v');
  e.stale_until = e.fresh_until = clock.wall_now() + std::chrono::hours(1);
  return std::make_shared<const Entry>(std::move(e));
}

// One L1 shared by all benchmark threads: 100k keys of 100-byte values, all resident. Each key
// has an Entry of its own, as in use: a hit takes a reference to its entry, which writes the
// entry's count, so one Entry shared by every key would keep that cache line hot and flatter
// the figures at 100k keys.
struct Shared {
  Shared()
      : keys(make_keys(kKeys, "bench:key:")),
        misses(make_keys(kKeys, "bench:absent:")),
        l1(L1Options{.max_bytes = std::size_t{256} << 20}, Clock::real()) {
    for (const auto& k : keys) (void)l1.put(k, make_entry(Clock::real(), 100));
  }
  std::vector<std::string> keys;
  std::vector<std::string> misses;
  L1 l1;
};

Shared& shared() {
  static Shared s;
  return s;
}

// Zipf(1.0)-distributed indexes over the first `keys` keys, precomputed so that the loop measures
// only L1. 10k keys (~4 MB of nodes, ~2.5 MB of entries) stay in the L3 cache, as in Caffeine's
// GetPutBenchmark; 100k (~40 MB and ~25 MB) do not, and measure memory latency as much as L1.
const std::vector<std::uint32_t>& zipf_indexes(std::size_t keys) {
  static const std::vector<std::uint32_t> resident = [] {
    const auto trace = sim::zipf_trace(10'000, 1.0, 1 << 20, 42);
    return std::vector<std::uint32_t>(trace.begin(), trace.end());
  }();
  static const std::vector<std::uint32_t> all = [] {
    const auto trace = sim::zipf_trace(kKeys, 1.0, 1 << 20, 42);
    return std::vector<std::uint32_t>(trace.begin(), trace.end());
  }();
  return keys == kKeys ? all : resident;
}

void BM_HitUniform(benchmark::State& state) {
  Shared& s = shared();
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto e = s.l1.get(s.keys[i % kKeys]);
    benchmark::DoNotOptimize(e);
    i += 104729;
  }
}
BENCHMARK(BM_HitUniform)->Threads(1)->Threads(2)->UseRealTime();

void BM_HitZipf(benchmark::State& state) {
  Shared& s = shared();
  const auto& idx = zipf_indexes(static_cast<std::size_t>(state.range(0)));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 4099;
  for (auto _ : state) {
    auto e = s.l1.get(s.keys[idx[i & (idx.size() - 1)]]);
    benchmark::DoNotOptimize(e);
    ++i;
  }
}
BENCHMARK(BM_HitZipf)->Arg(10'000)->Arg(100'000)->Threads(1)->Threads(2)->UseRealTime();

void BM_Miss(benchmark::State& state) {
  Shared& s = shared();
  std::size_t i = 0;
  for (auto _ : state) {
    auto e = s.l1.get(s.misses[i % kKeys]);
    benchmark::DoNotOptimize(e);
    i += 104729;
  }
}
BENCHMARK(BM_Miss)->Threads(1)->UseRealTime();

// Every put is a new key into a full L1 of 10k entries: each one evicts (or is refused).
void BM_PutEvicting(benchmark::State& state) {
  const auto keys = make_keys(1 << 20, "bench:put:");
  const auto entry = make_entry(Clock::real(), 100);
  L1 l1(L1Options{.max_bytes = 10'000 * L1::charge(keys[0], *entry), .shards = 1}, Clock::real());
  std::size_t i = 0;
  for (; l1.stats().evicted_size == 0; ++i) (void)l1.put(keys[i], entry);
  const L1Stats before = l1.stats();
  std::size_t puts = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(l1.put(keys[i & (keys.size() - 1)], entry));
    ++i;
    ++puts;
  }
  const L1Stats after = l1.stats();
  state.counters["evictions/put"] =
      static_cast<double>(after.evicted_size - before.evicted_size) / static_cast<double>(puts);
  state.counters["tinylfu_rejected%"] =
      100.0 * static_cast<double>(after.admissions_rejected - before.admissions_rejected) /
      static_cast<double>(puts);
}
BENCHMARK(BM_PutEvicting)->UseRealTime();

// Latency distribution of a hit at one thread, Zipf(1.0): each sample times a batch of 16 hits
// (a single hit is too short for the clock), so p50/p99 are of the per-hit mean in a batch.
void print_hit_percentiles(std::size_t keys) {
  Shared& s = shared();
  const auto& idx = zipf_indexes(keys);
  constexpr std::size_t kBatch = 16;
  std::vector<double> samples(200'000);
  std::size_t i = 0;
  for (double& sample : samples) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t j = 0; j < kBatch; ++j, ++i) {
      auto e = s.l1.get(s.keys[idx[i & (idx.size() - 1)]]);
      benchmark::DoNotOptimize(e);
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    sample = static_cast<double>(std::chrono::nanoseconds(elapsed).count()) / kBatch;
  }
  std::sort(samples.begin(), samples.end());
  std::printf(
      "Hit latency, 1 thread, Zipf(1.0) over %zu keys, %zu shards: p50 %.1f ns, p99 %.1f ns\n",
      keys, s.l1.shard_count(), samples[samples.size() / 2], samples[samples.size() * 99 / 100]);
}

void print_trace_ratios() {
  struct Case {
    const char* name;
    sim::Trace trace;
    std::size_t entries;
  };
  constexpr std::size_t kValue = 64;
  const Case cases[] = {
      {"zipf(0.8), 100k keys", sim::zipf_trace(100'000, 0.8, 1'000'000, 1), 2000},
      {"zipf(1.0), 100k keys", sim::zipf_trace(100'000, 1.0, 1'000'000, 2), 2000},
      {"zipf(0.9) + 2k-key scans every 5k", sim::scan_trace(100'000, 0.9, 1'000'000, 5000, 2000, 3),
       2000},
      {"loop of 2200 keys", sim::loop_trace(2200, 1'000'000), 2000},
  };
  std::printf(
      "\nHit ratio at the same byte budget (~2000 entries of %zu-byte values; L1 one shard)\n",
      kValue);
  std::printf("%-36s %8s %8s %8s\n", "trace", "L1", "LRU", "L1-LRU");
  for (const Case& c : cases) {
    const auto r = sim::replay(c.trace, sim::budget_for(c.entries, kValue), kValue);
    std::printf("%-36s %7.2f%% %7.2f%% %+7.2f\n", c.name, 100 * r.l1, 100 * r.lru,
                100 * (r.l1 - r.lru));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (const int rc = bench::run_google_benchmarks(argc, argv); rc != 0) return rc;
  std::printf("\n");
  print_hit_percentiles(10'000);
  print_hit_percentiles(kKeys);
  print_trace_ratios();
  return 0;
}
