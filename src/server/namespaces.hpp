#pragma once
// Namespaces: the daemon's cache namespaces, each a cache::Cache with its own Redis client (a
// Cache owns its client's lifecycle and push handler) and its REST counters. Listed namespaces
// are created at start; unlisted ones on first use when the config allows them, up to
// cache.max_namespaces (docs/decisions/0010-daemon.md). Every namespace's cache is exported to
// /metrics by the health layer's CacheCollector, which the daemon also gives its rate limiters.
// Every Redis client that serves traffic goes behind a circuit breaker made here (guard():
// the namespaces', the limiters', the calendar's; docs/decisions/0017-daemon-breaker.md).
// Use: auto ns = namespaces.find("flights"); if (ns) co_await ns->cache->get(key);
// Thread-safety: safe from any thread. A Namespace stays alive while a request holds it, even
// across close().

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/health/cache_collector.hpp"
#include "tiercache/health/monitor.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/resilience/guarded_client.hpp"

#include "server/api_error.hpp"
#include "server/config.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tiercache::server {

namespace asio = boost::asio;

// Writes the REST API counts per namespace (reads are counted by the cache: CacheStats), and
// the latency of its cache operations (tiercache_operation_duration_seconds{namespace,operation}).
struct NamespaceCounters {
  metrics::Counter* sets;
  metrics::Counter* deletes;
  metrics::Counter* write_errors;
  metrics::Histogram* get_seconds;
  metrics::Histogram* set_seconds;
  metrics::Histogram* delete_seconds;
};

struct Namespace {
  NamespaceConfig config;
  // The breaker in front of the cache's Redis client; null in L1-only mode or with
  // [redis.breaker] enabled = false. Declared before cache: the cache goes first.
  std::shared_ptr<resilience::GuardedClient> redis;
  std::unique_ptr<cache::Cache> cache;
  NamespaceCounters counters;

  // The cache's read counters since the last reset_stats() (they only grow in the cache).
  cache::CacheStats stats() const;
  void reset_stats();

 private:
  mutable std::mutex mu_;
  cache::CacheStats baseline_ TIERCACHE_GUARDED_BY(mu_);
};

class Namespaces {
 public:
  // redis: where L2 lives; nullopt for L1 alone. Creates the listed namespaces (which throws
  // std::invalid_argument for options the cache refuses).
  Namespaces(asio::any_io_executor executor, const Config& config,
             std::optional<redis::Config> redis, metrics::Registry& registry);
  ~Namespaces();

  // The namespace, created if unlisted and allowed. 404 namespace_not_found, or 503
  // too_many_namespaces past the bound, or 503 shutting_down after close().
  std::variant<std::shared_ptr<Namespace>, ApiError> find(std::string_view name);
  // Every namespace now, by name.
  std::vector<std::shared_ptr<Namespace>> all() const;
  // Drops every namespace; each Cache (and its Redis client) stops when its last request ends.
  // Stops the breakers' probes and their export (the guards stay usable).
  void close();
  // The exporter of the namespaces' caches; also takes the daemon's limiters and breakers.
  health::CacheCollector& collector() noexcept { return collector_; }

  // Puts a Redis client that serves traffic behind a circuit breaker and an in-flight bound
  // ([redis.breaker]), named "<what>@<endpoint>" (as "namespace:flights@10.0.0.5:6379"). The
  // guard logs each state change (warn on open, info otherwise); the breaker is exported to
  // /metrics (tiercache_circuit_breaker_*), watched by the health monitor once one is given,
  // and probed with PING once a second while not closed, so an idle client closes by itself
  // when Redis is back. Returns null when breakers are off, or with no Redis (client unchanged).
  // REQUIRES: client not started yet, or started by its owner (the guard does not start it);
  // `what` unique among the guards.
  std::shared_ptr<resilience::GuardedClient> guard(std::shared_ptr<redis::AnyClient> client,
                                                   std::string_view what);
  // The monitor watches every guard's breaker, those made now and later; nullptr unwatches
  // them (call it before the monitor goes). REQUIRES: monitor outlives the call with nullptr.
  void watch_breakers(health::HealthMonitor* monitor);

  struct Probes;

 private:
  std::shared_ptr<Namespace> make(const NamespaceConfig& ns) TIERCACHE_REQUIRES(mu_);

  asio::any_io_executor executor_;
  const Config& config_;
  std::optional<redis::Config> redis_;
  metrics::CounterFamily& writes_;
  health::CacheCollector collector_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Namespace>, std::less<>> map_ TIERCACHE_GUARDED_BY(mu_);
  bool closed_ TIERCACHE_GUARDED_BY(mu_) = false;
  // The breakers: taken after mu_ when both are (make() guards under mu_).
  std::string endpoint_;  // the Redis the guards name, "" without Redis
  mutable std::mutex guards_mu_;
  std::vector<std::shared_ptr<resilience::GuardedClient>> guards_ TIERCACHE_GUARDED_BY(guards_mu_);
  health::HealthMonitor* monitor_ TIERCACHE_GUARDED_BY(guards_mu_) = nullptr;
  bool guards_closed_ TIERCACHE_GUARDED_BY(guards_mu_) = false;
  // The PING loop of the breakers that are not closed (shared with its coroutine).
  std::shared_ptr<Probes> probes_;
};

}  // namespace tiercache::server
