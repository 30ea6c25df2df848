#include "server/namespaces.hpp"

#include "tiercache/redis/cluster_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tiercache::server {
namespace {

constexpr std::size_t kL1OnlyFallbackBytes = std::size_t{16} << 20;

}  // namespace

cache::CacheStats Namespace::stats() const {
  cache::CacheStats now = cache->stats();
  std::lock_guard lock(mu_);
  now.hits_l1 -= std::min(now.hits_l1, baseline_.hits_l1);
  now.hits_l2 -= std::min(now.hits_l2, baseline_.hits_l2);
  now.stale_served -= std::min(now.stale_served, baseline_.stale_served);
  now.misses -= std::min(now.misses, baseline_.misses);
  now.errors -= std::min(now.errors, baseline_.errors);
  return now;
}

void Namespace::reset_stats() {
  const cache::CacheStats now = cache->stats();
  std::lock_guard lock(mu_);
  baseline_ = now;
}

Namespaces::Namespaces(asio::any_io_executor executor, const Config& config,
                       std::optional<redis::Config> redis, metrics::Registry& registry)
    : executor_(std::move(executor)),
      config_(config),
      redis_(std::move(redis)),
      writes_(registry.counter("tiercache_server_cache_writes_total",
                               "REST cache writes by namespace and outcome.",
                               {"namespace", "result"})),
      collector_(registry) {
  std::lock_guard lock(mu_);
  for (const auto& ns : config_.namespaces) map_.emplace(ns.name, make(ns));
}

Namespaces::~Namespaces() { close(); }

std::shared_ptr<Namespace> Namespaces::make(const NamespaceConfig& ns) {
  std::shared_ptr<redis::AnyClient> client;
  if (redis_) {
    redis::Config rc = *redis_;
    rc.client_tracking = true;
    rc.client_name = "tiercached:" + ns.name;
    client = redis::make_client(executor_, config_.redis_settings(std::move(rc)));
  }
  std::size_t l1_bytes = ns.l1_bytes;
  if (!client && l1_bytes == 0) {
    // With no Redis, L1 is the only place to keep anything: an L1-off namespace gets a small one
    // rather than stopping the daemon (docs/decisions/0010-daemon.md).
    l1_bytes = kL1OnlyFallbackBytes;
    spdlog::warn("namespace '{}': l1_bytes = 0 but no Redis: running with a {} MiB L1", ns.name,
                 l1_bytes >> 20);
  }
  auto out = std::make_shared<Namespace>();
  out->config = ns;
  out->cache = std::make_unique<cache::Cache>(std::move(client),
                                              cache::Options{.ns = ns.name,
                                                             .default_ttl = ns.default_ttl,
                                                             .default_grace = ns.grace,
                                                             .max_ttl = ns.max_ttl,
                                                             .l1_bytes = l1_bytes,
                                                             .max_value_size = ns.max_value_size});
  const auto counter = [&](std::string_view result) { return &writes_.with({ns.name, result}); };
  const auto latency = [&](std::string_view op) {
    return &collector_.operation_latency(ns.name, op);
  };
  out->counters = NamespaceCounters{.sets = counter("set"),
                                    .deletes = counter("delete"),
                                    .write_errors = counter("error"),
                                    .get_seconds = latency("get"),
                                    .set_seconds = latency("set"),
                                    .delete_seconds = latency("delete")};
  collector_.add_cache(*out->cache);
  return out;
}

std::variant<std::shared_ptr<Namespace>, ApiError> Namespaces::find(std::string_view name) {
  std::lock_guard lock(mu_);
  if (closed_) {
    return ApiError{http::status::service_unavailable, "shutting_down", "the server is stopping"};
  }
  if (auto it = map_.find(name); it != map_.end()) return it->second;
  const auto ns = config_.find_namespace(name);
  if (!ns) {
    return ApiError::not_found("namespace_not_found",
                               "namespace '" + std::string(name) +
                                   "' is not configured (list it under [namespaces." +
                                   std::string(name) + "])");
  }
  if (map_.size() >= config_.max_namespaces) {
    return ApiError{http::status::service_unavailable, "too_many_namespaces",
                    "cache.max_namespaces (" + std::to_string(config_.max_namespaces) +
                        ") namespaces exist already"};
  }
  auto created = make(*ns);
  spdlog::info("namespace '{}' created on first use", ns->name);
  map_.emplace(ns->name, created);
  return created;
}

std::vector<std::shared_ptr<Namespace>> Namespaces::all() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Namespace>> out;
  out.reserve(map_.size());
  for (const auto& [name, ns] : map_) out.push_back(ns);
  return out;
}

void Namespaces::close() {
  std::map<std::string, std::shared_ptr<Namespace>, std::less<>> dropped;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    dropped.swap(map_);
  }
  // The collector must not read a cache that is gone; requests may still hold one for a while.
  for (const auto& [name, ns] : dropped) collector_.remove_cache(*ns->cache);
}

}  // namespace tiercache::server
