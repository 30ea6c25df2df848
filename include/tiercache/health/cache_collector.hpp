#pragma once
// CacheCollector: exports caches, circuit breakers and rate limiters to a metrics::Registry. It
// registers one callback per metric family, which reads the sources' own counters at scrape time:
// nothing on the hot path, no Redis round trip. Names and labels: docs/decisions/0009.
// Use: health::CacheCollector collector(registry);
//      collector.add_cache(flights);  collector.add_breaker(guarded->breaker());
//      collector.add_limiter("search", limiter);
//      auto& get_latency = collector.operation_latency("flights", "get");  // resolve once
// Thread-safety: safe from any thread. REQUIRES: the registry outlives the collector, and every
// source added outlives the collector or is removed first. One collector per registry (the
// family names are the collector's).

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/metrics/histogram.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/resilience/circuit_breaker.hpp"

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::health {

// Every family name the collector exports, for the dashboard test and docs.
std::vector<std::string_view> collector_metric_names();

class CacheCollector {
 public:
  // Registers the families. Throws std::invalid_argument when one of the names is taken.
  explicit CacheCollector(metrics::Registry& registry);
  ~CacheCollector();  // unregisters, waiting for a scrape that runs a callback
  CacheCollector(const CacheCollector&) = delete;
  CacheCollector& operator=(const CacheCollector&) = delete;

  // Exports the cache under its namespace (Options::ns). Throws std::invalid_argument when a
  // cache of that namespace is already exported (two would print the same series).
  void add_cache(const cache::Cache& cache);
  void remove_cache(const cache::Cache& cache);
  // Exports the breaker's state and counts under endpoint = its name. Throws
  // std::invalid_argument for an empty or already exported name.
  void add_breaker(const resilience::CircuitBreaker& breaker);
  void remove_breaker(const resilience::CircuitBreaker& breaker);
  // Exports the limiter's decisions under `name` (a Limiter is a handle; the collector keeps a
  // copy). Throws std::invalid_argument for an empty or already exported name.
  void add_limiter(std::string name, ratelimit::Limiter limiter);
  void remove_limiter(std::string_view name);

  // The tiercache_operation_duration_seconds series of (namespace, operation), created on first
  // use; callers time their calls and observe() it. Resolve it once: this is a map lookup.
  metrics::Histogram& operation_latency(std::string_view ns, std::string_view operation);

 private:
  struct Limiter {
    std::string name;
    ratelimit::Limiter limiter;
  };
  void collect_caches(metrics::CallbackSink& sink, int family) const;
  void collect_breakers(metrics::CallbackSink& sink, int family) const;
  void collect_limiters(metrics::CallbackSink& sink, int family) const;

  metrics::HistogramFamily& latency_;
  mutable std::mutex mu_;
  std::vector<const cache::Cache*> caches_ TIERCACHE_GUARDED_BY(mu_);
  std::vector<const resilience::CircuitBreaker*> breakers_ TIERCACHE_GUARDED_BY(mu_);
  std::vector<Limiter> limiters_ TIERCACHE_GUARDED_BY(mu_);
  // Last: destroyed first, so no callback runs on a half-destroyed collector.
  std::vector<metrics::CallbackHandle> handles_;
};

}  // namespace tiercache::health
