#include "server/namespaces.hpp"

#include "tiercache/redis/cluster_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tiercache::server {

// The PING loop's state, shared by Namespaces and the loop. `timer` and `stopped` are touched
// on the strand only, so close() can end the loop from any thread by posting there.
struct Namespaces::Probes {
  explicit Probes(const asio::any_io_executor& executor) : strand(asio::make_strand(executor)) {}

  asio::strand<asio::any_io_executor> strand;
  std::mutex mu;
  std::vector<std::weak_ptr<resilience::GuardedClient>> guards TIERCACHE_GUARDED_BY(mu);
  asio::steady_timer* timer = nullptr;  // the loop's, while it runs
  bool stopped = false;
};

namespace {

using resilience::BreakerState;

constexpr std::size_t kL1OnlyFallbackBytes = std::size_t{16} << 20;
// How often a breaker that is not closed is probed. A breaker only leaves open when a request
// asks after its cool-down; without these probes an idle namespace would report "breaker open"
// in /v1/health long after Redis came back.
constexpr auto kProbeEvery = std::chrono::seconds(1);

// Up to `probes` PINGs through the guard while it is not closed: refused at once while it cools
// down; after that each is a half-open probe, and all of them succeeding closes it.
asio::awaitable<void> probe_guard(std::shared_ptr<resilience::GuardedClient> guard,
                                  std::uint32_t probes) {
  for (std::uint32_t i = 0; i < probes && guard->state() != BreakerState::closed; ++i) {
    resp::Request ping;
    ping.push("PING");
    auto r = co_await guard->exec(std::move(ping));
    if (!r || r->is_error()) co_return;
  }
}

asio::awaitable<void> probe_loop(std::shared_ptr<Namespaces::Probes> p, std::uint32_t probes) {
  asio::steady_timer timer(p->strand);
  p->timer = &timer;
  while (!p->stopped) {
    timer.expires_after(kProbeEvery);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || p->stopped) break;
    std::vector<std::shared_ptr<resilience::GuardedClient>> due;
    {
      std::lock_guard lock(p->mu);
      for (const auto& weak : p->guards) {
        auto g = weak.lock();
        if (g && g->state() != BreakerState::closed) due.push_back(std::move(g));
      }
    }
    // Side by side: a stalled Redis holds each probe up to request_timeout, and one guard's
    // probe must not delay another's.
    for (auto& g : due)
      asio::co_spawn(p->strand, probe_guard(std::move(g), probes), asio::detached);
  }
  p->timer = nullptr;
}

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
  if (redis_) endpoint_ = config_.redis_settings(*redis_).describe();
  if (redis_ && config_.redis_breaker.enabled) {
    probes_ = std::make_shared<Probes>(executor_);
    asio::co_spawn(probes_->strand, probe_loop(probes_, config_.redis_breaker.half_open_probes),
                   asio::detached);
  }
  try {
    std::lock_guard lock(mu_);
    for (const auto& ns : config_.namespaces) map_.emplace(ns.name, make(ns));
  } catch (...) {
    close();  // ends the probe loop, which would otherwise keep the io_context busy
    throw;
  }
}

Namespaces::~Namespaces() { close(); }

std::shared_ptr<Namespace> Namespaces::make(const NamespaceConfig& ns) {
  std::shared_ptr<redis::AnyClient> client;
  if (redis_) {
    redis::Config rc = *redis_;
    rc.client_tracking = true;
    rc.client_name = "tiercached:" + ns.name;
    redis::ClientSettings settings = config_.redis_settings(std::move(rc));
    // With L1 off the cache keeps versions alone: Redis need not record every key it reads.
    settings.config.tracking_optin = ns.l1_bytes == 0 && !settings.cluster;
    client = redis::make_client(executor_, std::move(settings));
  }
  std::shared_ptr<resilience::GuardedClient> guarded = guard(client, "namespace:" + ns.name);
  if (guarded) client = guarded;
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
  out->redis = std::move(guarded);
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
  {
    // Likewise the breakers (the guards stay alive in guards_ until this object goes).
    std::lock_guard lock(guards_mu_);
    if (!guards_closed_) {
      guards_closed_ = true;
      for (const auto& g : guards_) {
        collector_.remove_breaker(g->breaker());
        if (monitor_) monitor_->unwatch_breaker(g->breaker());
      }
      monitor_ = nullptr;
    }
  }
  if (probes_) {
    asio::post(probes_->strand, [p = probes_] {
      p->stopped = true;
      if (p->timer) p->timer->cancel();
    });
  }
}

std::shared_ptr<resilience::GuardedClient> Namespaces::guard(
    std::shared_ptr<redis::AnyClient> client, std::string_view what) {
  const BreakerConfig& b = config_.redis_breaker;
  if (!b.enabled || !redis_ || !client) return nullptr;
  std::string name = std::string(what) + "@" + endpoint_;
  auto guarded = std::make_shared<resilience::GuardedClient>(
      std::move(client),
      resilience::GuardedClientOptions{.breaker = {.name = std::move(name),
                                                   .window = b.window,
                                                   .minimum_calls = b.minimum_calls,
                                                   .failure_rate_threshold = b.failure_rate,
                                                   .consecutive_timeouts = b.consecutive_timeouts,
                                                   .open_duration = b.open_duration,
                                                   .max_open_duration = b.max_open_duration,
                                                   .half_open_probes = b.half_open_probes},
                                       .max_in_flight = b.max_in_flight});
  std::lock_guard lock(guards_mu_);
  if (!guards_closed_) {
    collector_.add_breaker(guarded->breaker());  // tiercache_circuit_breaker_*{endpoint=name}
    if (monitor_) monitor_->watch_breaker(guarded->breaker());
  }
  guards_.push_back(guarded);
  if (probes_) {
    std::lock_guard probes_lock(probes_->mu);
    probes_->guards.push_back(guarded);
  }
  return guarded;
}

void Namespaces::watch_breakers(health::HealthMonitor* monitor) {
  std::lock_guard lock(guards_mu_);
  if (guards_closed_ || monitor == monitor_) return;
  for (const auto& g : guards_) {
    if (monitor_) monitor_->unwatch_breaker(g->breaker());
    if (monitor) monitor->watch_breaker(g->breaker());
  }
  monitor_ = monitor;
}

}  // namespace tiercache::server
