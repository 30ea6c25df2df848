#pragma once
// HealthMonitor: probes Redis and the watched caches and breakers, assesses the result (healthy /
// degraded / unhealthy, with reasons), and tells an alert hook and the log whenever the assessed
// state changes (seed 000). Probes run on demand (check) or every interval on an Asio timer.
// Use: health::HealthMonitor monitor(std::make_shared<redis::Client>(ex, cfg),
//          {.interval = 15s, .on_change = [](const health::HealthChange& c) { page(c); }});
//      monitor.watch_cache(flights);  monitor.watch_breaker(guarded->breaker());  monitor.start();
//      HealthReport r = co_await monitor.check();    // GET /v1/health: to_json(r)
// Thread-safety: safe from any thread. on_change runs on the probing thread, one call at a time.

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/health/assessment.hpp"
#include "tiercache/health/keyspace_sample.hpp"
#include "tiercache/health/report.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/resilience/circuit_breaker.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace tiercache::health {

namespace asio = boost::asio;

// One change of the assessed state. `from` is nullopt for the first assessment.
struct HealthChange {
  std::optional<HealthStatus> from;
  HealthStatus to;
  const HealthReport& report;  // valid during the call only
};

struct MonitorOptions {
  // What counts as degraded or unhealthy. Default: HealthThresholds's defaults.
  HealthThresholds thresholds{};
  // Sample key counts and TTLs by SCAN on each probe. Default: on, within `keyspace`'s bounds
  // (at most 1000 keys and 20 round trips per probe).
  bool sample_keyspace = true;
  KeyspaceSampleOptions keyspace{};
  // Time between periodic probes (start()). Default: 15 s.
  std::chrono::milliseconds interval = std::chrono::seconds(15);
  // The alert hook: called on every change of the assessed state, after the log line. It must not
  // call stop() or destroy the monitor (both wait for it). Default: none (the log line only).
  std::function<void(const HealthChange&)> on_change;
  // Where PING latency is measured. REQUIRES: outlives the monitor. Default: the real clock.
  const Clock* clock = &Clock::real();
};

class HealthMonitor {
 public:
  // Starts the client: give the monitor a client of its own, not one a Cache owns or one behind
  // a circuit breaker (a probe must reach Redis to tell that it is back). REQUIRES: redis is not
  // null; the client's executor's io_context outlives the monitor.
  HealthMonitor(std::shared_ptr<redis::AnyClient> redis, MonitorOptions options = {});
  // Stops the periodic probe and the client; after it returns no hook runs and no watched object
  // is touched. A probe in flight finishes in the background (within the client's timeouts).
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // The cache's hit rate is assessed over the window since the previous probe that saw at least
  // min_reads reads (a HitRateView of the monitor's own). REQUIRES: the object outlives the
  // monitor or is unwatched first.
  void watch_cache(const cache::Cache& cache);
  void unwatch_cache(const cache::Cache& cache);
  void watch_breaker(const resilience::CircuitBreaker& breaker);
  void unwatch_breaker(const resilience::CircuitBreaker& breaker);

  // Probes now: PING (timed), INFO, the keyspace sample, the watched caches and breakers; then
  // assesses, and notifies when the state changed.
  // Completes with: the report; an unreachable Redis is a report (unhealthy), not an error.
  // Cancellation: none of its own; each Redis request waits at most the client's request_timeout.
  // Lifetimes: the call keeps what it needs alive; the monitor may be destroyed meanwhile.
  [[nodiscard]] asio::awaitable<HealthReport> check();

  // Probes every `interval` on the client's executor until stop(): the first probe at once.
  // Idempotent. Cancel-safe: stop() cancels the wait; a pending wait is freed with its io_context.
  void start();
  // Ends the periodic probe. Idempotent.
  void stop();

  // The latest report, if any probe completed. A report shows here once its change, if any, has
  // been logged and passed to on_change.
  std::optional<HealthReport> last_report() const;
  std::optional<HealthStatus> status() const;

  // Exports the latest report's figures as gauges (tiercache_health_status, tiercache_redis_*);
  // see monitor_metric_names(). Keep the handles: dropping them unregisters. REQUIRES: the
  // registry outlives the handles. Throws std::invalid_argument when a name is taken.
  std::vector<metrics::CallbackHandle> export_metrics(metrics::Registry& registry);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The family names export_metrics registers.
std::vector<std::string_view> monitor_metric_names();

}  // namespace tiercache::health
