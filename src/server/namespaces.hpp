#pragma once
// Namespaces: the daemon's cache namespaces, each a cache::Cache with its own Redis client (a
// Cache owns its client's lifecycle and push handler) and its REST counters. Listed namespaces
// are created at start; unlisted ones on first use when the config allows them, up to
// cache.max_namespaces (docs/decisions/0010-daemon.md). Every namespace's cache is exported to
// /metrics by the health layer's CacheCollector, which the daemon also gives its rate limiters.
// Use: auto ns = namespaces.find("flights"); if (ns) co_await ns->cache->get(key);
// Thread-safety: safe from any thread. A Namespace stays alive while a request holds it, even
// across close().

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/health/cache_collector.hpp"
#include "tiercache/metrics/registry.hpp"

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
  void close();
  // The exporter of the namespaces' caches; also takes the daemon's limiters and breakers.
  health::CacheCollector& collector() noexcept { return collector_; }

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
};

}  // namespace tiercache::server
