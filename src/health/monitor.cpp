// The monitor's state lives in a shared Impl, so a probe in flight and the periodic loop keep it
// alive after the HealthMonitor is gone. Two locks:
//   mu_        the watched objects, the latest report and the run state; never held across a
//              co_await, never held while calling out.
//   notify_mu_ serializes "compare with the previous state, log, call the hook", so changes are
//              reported one at a time and in order; the destructor takes it to know that no hook
//              runs after it returns.
// The periodic loop runs on a strand of the client's executor, which also owns the timer;
// stop() cancels the timer by posting to that strand. A generation number retires the loop of a
// previous start() even when the cancel and a new start() race.
#include "tiercache/health/monitor.hpp"

#include "tiercache/health/hit_rate.hpp"
#include "tiercache/health/redis_info.hpp"

#include "health/cluster_info.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace tiercache::health {

struct HealthMonitor::Impl {
  Impl(std::shared_ptr<redis::AnyClient> r, MonitorOptions o)
      : redis(std::move(r)),
        options(std::move(o)),
        strand(asio::make_strand(redis->get_executor())),
        timer(strand) {}

  std::shared_ptr<redis::AnyClient> redis;
  const MonitorOptions options;
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer timer;  // touched on the strand only

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<HitRateView>> caches;
  std::vector<const resilience::CircuitBreaker*> breakers;
  std::optional<HealthReport> last;
  bool running = false;
  std::uint64_t generation = 0;

  std::mutex notify_mu_;
  bool closed = false;                   // guarded by notify_mu_
  std::optional<HealthStatus> notified;  // guarded by notify_mu_

  bool current(std::uint64_t gen) {
    std::lock_guard lock(mu_);
    return running && generation == gen;
  }
};

namespace {

using Impl = HealthMonitor::Impl;

std::string reply_error(const resp::Reply& reply) { return std::string(reply.str()); }

// The caches' windows and the breakers' states, read under the lock.
void observe_local(Impl& self, const HealthThresholds& limits, Observations& seen) {
  std::lock_guard lock(self.mu_);
  for (auto& view : self.caches) {
    auto counts = view->counts();
    // A window closes once it holds enough reads to judge; a quiet cache keeps accumulating.
    if (counts.reads() >= limits.min_reads) counts = view->reset();
    seen.caches.push_back(CacheObservation{.ns = view->cache().options().ns,
                                           .reads = counts.reads(),
                                           .hits = counts.hits(),
                                           .hit_ratio = counts.hit_ratio()});
  }
  for (const auto* b : self.breakers) {
    seen.breakers.push_back(BreakerObservation{.endpoint = b->name(), .state = b->state()});
  }
}

// Publishes the report and reports a change, both under notify_mu_: concurrent probes publish in
// the order they notify, and status() shows a state only once its hook has run.
void notify(Impl& self, const HealthReport& report) {
  std::lock_guard lock(self.notify_mu_);
  const auto publish = [&] {
    std::lock_guard state_lock(self.mu_);
    self.last = report;
  };
  if (self.closed) {
    publish();
    return;
  }
  const auto from = self.notified;
  const auto to = report.status();
  self.notified = to;
  if (from == to) {
    publish();
    return;
  }
  std::string reasons;
  for (const auto& r : report.assessment.reasons) {
    if (!reasons.empty()) reasons += "; ";
    reasons += r.message;
  }
  const auto level = to == HealthStatus::healthy ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "tiercache health: {} -> {}{}{}", from ? to_string(*from) : "(none)",
              to_string(to), reasons.empty() ? "" : ": ", reasons);
  if (self.options.on_change) {
    self.options.on_change(HealthChange{.from = from, .to = to, .report = report});
  }
  publish();
}

// Each master of a cluster in turn: PING, timed (the slowest sets seen.ping), then INFO. A master
// that does not answer makes Redis unreachable, named: its slots are. The INFOs are merged into
// seen.info and returned for the per-master memory verdict. `seen` is the caller's, which awaits
// this at once.
asio::awaitable<std::vector<detail::NodeInfo>> probe_primaries(std::shared_ptr<Impl> self,
                                                               std::vector<std::string> primaries,
                                                               Observations& seen) {
  const Clock& clock = *self->options.clock;
  std::vector<detail::NodeInfo> nodes;
  for (const auto& node : primaries) {
    resp::Request ping;
    ping.push("PING");
    const auto start = clock.now();
    auto pong = co_await self->redis->exec_on(node, std::move(ping));
    const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(clock.now() - start);
    if (!pong || pong->is_error()) {
      seen.redis_reachable = false;
      seen.ping.reset();
      seen.redis_error = "master " + node + ": " +
                         (pong ? reply_error(*pong) : std::string(pong.error().message()));
      co_return std::vector<detail::NodeInfo>{};
    }
    seen.ping = std::max(seen.ping.value_or(elapsed), elapsed);
    resp::Request info_request;
    info_request.push("INFO");
    auto info = co_await self->redis->exec_on(node, std::move(info_request));
    std::string error;
    if (!info) {
      error = info.error().message();
    } else if (info->is_error()) {
      error = reply_error(*info);
    } else if (auto parsed = parse_redis_info(info->str()); parsed) {
      nodes.push_back(detail::NodeInfo{node, std::move(*parsed)});
      continue;
    } else {
      error = parsed.error().message();
    }
    seen.redis_error = "INFO of master " + node + ": " + error;
    co_return std::vector<detail::NodeInfo>{};
  }
  seen.info = detail::merge_redis_info(nodes);
  co_return nodes;
}

asio::awaitable<HealthReport> probe(std::shared_ptr<Impl> self) {
  const Clock& clock = *self->options.clock;
  HealthReport report;
  report.timestamp = clock.wall_now();
  auto& seen = report.observed;

  resp::Request ping;
  ping.push("PING");
  const auto start = clock.now();
  auto pong = co_await self->redis->exec(std::move(ping));
  const auto elapsed = clock.now() - start;
  if (!pong) {
    seen.redis_error = pong.error().message();
  } else if (pong->is_error()) {
    seen.redis_error = reply_error(*pong);
  } else {
    seen.redis_reachable = true;
    seen.ping = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  }

  // A cluster: every master answers PING (the slowest is the latency) and INFO (merged).
  std::vector<detail::NodeInfo> nodes;
  const auto primaries =
      seen.redis_reachable ? self->redis->primaries() : std::vector<std::string>{};
  if (primaries.size() > 1) {
    nodes = co_await probe_primaries(self, primaries, seen);
  } else if (seen.redis_reachable) {
    resp::Request info_request;
    info_request.push("INFO");
    auto info = co_await self->redis->exec(std::move(info_request));
    if (!info) {
      seen.redis_error = "INFO: " + info.error().message();
    } else if (info->is_error()) {
      seen.redis_error = "INFO: " + reply_error(*info);
    } else if (auto parsed = parse_redis_info(info->str()); parsed) {
      seen.info = std::move(*parsed);
    } else {
      seen.redis_error = "INFO: " + parsed.error().message();
    }
  }

  if (seen.redis_reachable && self->options.sample_keyspace) {
    auto sample = co_await sample_keyspace(self->redis, self->options.keyspace);
    if (sample) {
      report.keyspace = std::move(*sample);
    } else {
      report.keyspace_error = sample.error().message();
    }
  }

  observe_local(*self, self->options.thresholds, seen);
  report.assessment = assess(seen, self->options.thresholds);
  if (!nodes.empty())
    detail::assess_node_memory(nodes, self->options.thresholds, report.assessment);
  // Redis answered PING but INFO failed: say so, without making it worse than degraded.
  if (seen.redis_reachable && !seen.info) {
    report.assessment.status = std::max(report.assessment.status, HealthStatus::degraded);
    report.assessment.reasons.push_back(
        HealthReason{HealthStatus::degraded, "redis_info_unavailable", seen.redis_error});
  }
  notify(*self, report);
  co_return report;
}

asio::awaitable<void> periodic(std::shared_ptr<Impl> self, std::uint64_t gen) {
  while (self->current(gen)) {
    (void)co_await probe(self);
    if (!self->current(gen)) break;
    self->timer.expires_after(self->options.interval);
    auto [ec] = co_await self->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;  // cancelled by stop(), or a new start(): current() decides
  }
}

}  // namespace

HealthMonitor::HealthMonitor(std::shared_ptr<redis::AnyClient> redis, MonitorOptions options) {
  if (!redis) throw std::invalid_argument("HealthMonitor: redis client is null");
  if (options.clock == nullptr) throw std::invalid_argument("HealthMonitor: clock is null");
  if (options.interval.count() <= 0) {
    throw std::invalid_argument("HealthMonitor: interval must be positive");
  }
  impl_ = std::make_shared<Impl>(std::move(redis), std::move(options));
  impl_->redis->start();
}

HealthMonitor::~HealthMonitor() {
  stop();
  {
    std::lock_guard lock(impl_->notify_mu_);
    impl_->closed = true;
  }
  {
    std::lock_guard lock(impl_->mu_);
    impl_->caches.clear();
    impl_->breakers.clear();
  }
  impl_->redis->stop();
}

void HealthMonitor::watch_cache(const cache::Cache& cache) {
  auto view = std::make_unique<HitRateView>(cache);
  std::lock_guard lock(impl_->mu_);
  impl_->caches.push_back(std::move(view));
}

void HealthMonitor::unwatch_cache(const cache::Cache& cache) {
  std::lock_guard lock(impl_->mu_);
  std::erase_if(impl_->caches, [&](const auto& v) { return &v->cache() == &cache; });
}

void HealthMonitor::watch_breaker(const resilience::CircuitBreaker& breaker) {
  std::lock_guard lock(impl_->mu_);
  impl_->breakers.push_back(&breaker);
}

void HealthMonitor::unwatch_breaker(const resilience::CircuitBreaker& breaker) {
  std::lock_guard lock(impl_->mu_);
  std::erase(impl_->breakers, &breaker);
}

asio::awaitable<HealthReport> HealthMonitor::check() {
  auto self = impl_;
  co_return co_await probe(std::move(self));
}

void HealthMonitor::start() {
  std::uint64_t gen = 0;
  {
    std::lock_guard lock(impl_->mu_);
    if (impl_->running) return;
    impl_->running = true;
    gen = ++impl_->generation;
  }
  asio::co_spawn(impl_->strand, periodic(impl_, gen), asio::detached);
}

void HealthMonitor::stop() {
  {
    std::lock_guard lock(impl_->mu_);
    if (!impl_->running) return;
    impl_->running = false;
    ++impl_->generation;
  }
  asio::post(impl_->strand, [self = impl_] { self->timer.cancel(); });
}

std::optional<HealthReport> HealthMonitor::last_report() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->last;
}

std::optional<HealthStatus> HealthMonitor::status() const {
  std::lock_guard lock(impl_->mu_);
  if (!impl_->last) return std::nullopt;
  return impl_->last->status();
}

namespace {

struct GaugeSpec {
  const char* name;
  const char* help;
  metrics::MetricType type;
  double (*read)(const HealthReport&);
};

double info_or_nan(const HealthReport& r, std::uint64_t RedisInfo::*field) {
  return r.observed.info ? static_cast<double>((*r.observed.info).*field)
                         : std::numeric_limits<double>::quiet_NaN();
}

const std::vector<GaugeSpec>& gauge_specs() {
  using metrics::MetricType;
  static const std::vector<GaugeSpec> specs = {
      {"tiercache_health_status", "Assessed health: 0 healthy, 1 degraded, 2 unhealthy.",
       MetricType::gauge,
       [](const HealthReport& r) { return static_cast<double>(static_cast<int>(r.status())); }},
      {"tiercache_redis_up", "Whether Redis answered the latest PING (1) or not (0).",
       MetricType::gauge,
       [](const HealthReport& r) { return r.observed.redis_reachable ? 1.0 : 0.0; }},
      {"tiercache_redis_ping_seconds", "Round trip of the latest PING.", MetricType::gauge,
       [](const HealthReport& r) {
         return r.observed.ping ? static_cast<double>(r.observed.ping->count()) / 1e6
                                : std::numeric_limits<double>::quiet_NaN();
       }},
      {"tiercache_redis_memory_used_bytes", "Redis used_memory.", MetricType::gauge,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::used_memory); }},
      {"tiercache_redis_memory_max_bytes", "Redis maxmemory (0: no limit).", MetricType::gauge,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::maxmemory); }},
      {"tiercache_redis_evicted_keys_total", "Keys Redis evicted for maxmemory since it started.",
       MetricType::counter,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::evicted_keys); }},
      {"tiercache_redis_keyspace_hits_total", "Redis keyspace_hits since it started.",
       MetricType::counter,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::keyspace_hits); }},
      {"tiercache_redis_keyspace_misses_total", "Redis keyspace_misses since it started.",
       MetricType::counter,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::keyspace_misses); }},
      {"tiercache_redis_connected_clients", "Redis connected_clients.", MetricType::gauge,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::connected_clients); }},
      {"tiercache_redis_keys", "Keys in Redis (INFO keyspace, every db).", MetricType::gauge,
       [](const HealthReport& r) { return info_or_nan(r, &RedisInfo::keys); }},
  };
  return specs;
}

constexpr const char* kNamespaceKeys = "tiercache_redis_namespace_keys";

}  // namespace

std::vector<std::string_view> monitor_metric_names() {
  std::vector<std::string_view> names;
  for (const auto& g : gauge_specs()) names.emplace_back(g.name);
  names.emplace_back(kNamespaceKeys);
  return names;
}

std::vector<metrics::CallbackHandle> HealthMonitor::export_metrics(metrics::Registry& registry) {
  std::vector<metrics::CallbackHandle> handles;
  // Before the first probe a family has no series: the reads report nothing until then.
  std::weak_ptr<Impl> weak = impl_;
  for (const auto& spec : gauge_specs()) {
    auto read = spec.read;
    handles.push_back(registry.callback(spec.name, spec.help, spec.type, {},
                                        [weak, read](metrics::CallbackSink& sink) {
                                          auto self = weak.lock();
                                          if (!self) return;
                                          std::lock_guard lock(self->mu_);
                                          if (!self->last) return;
                                          const double v = read(*self->last);
                                          if (!std::isnan(v))
                                            sink.add(std::span<const std::string_view>(), v);
                                        }));
  }
  handles.push_back(registry.callback(
      kNamespaceKeys, "Keys in Redis by namespace, from the latest bounded SCAN sample.",
      metrics::MetricType::gauge, {"namespace"}, [weak](metrics::CallbackSink& sink) {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard lock(self->mu_);
        if (!self->last || !self->last->keyspace) return;
        for (const auto& [name, ns] : self->last->keyspace->namespaces) {
          sink.add({name}, static_cast<double>(ns.estimated));
        }
      }));
  return handles;
}

}  // namespace tiercache::health
