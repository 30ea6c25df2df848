// The collector's families, one table: each row is a name, its help, its type, its labels and
// the source kind whose counters it reads. At scrape time a family's callback walks the sources
// of its kind under the collector's lock and adds one series per source (and label value).
//
// Reads (tiercache_cache_requests_total) are counted once per key asked, in exactly one series:
//   tier="l1" result="hit"    a fresh value from L1
//   tier="l2" result="hit"    a fresh value from Redis
//   tier="l2" result="stale"  a value past its fresh_until (CacheStats does not say which tier
//                             held it; Redis's grace window is where stale values live)
//   tier="l2" result="miss"   neither tier had a value (nothing, or the loader made one)
//   tier="l2" result="error"  the read failed with nothing to serve
// so sum(rate(...)) is the read rate and the hit rate is result=~"hit|stale" over all.
#include "tiercache/health/cache_collector.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace tiercache::health {
namespace {

enum class Kind { cache, breaker, limiter };

struct FamilySpec {
  const char* name;
  const char* help;
  metrics::MetricType type;
  std::vector<std::string> labels;
  Kind kind;
};

using metrics::MetricType;

const std::vector<FamilySpec>& families() {
  static const std::vector<FamilySpec> specs = {
      // Caches (0-11).
      {"tiercache_cache_requests_total",
       "Cache reads by the tier that answered and the outcome.",
       MetricType::counter,
       {"namespace", "tier", "result"},
       Kind::cache},
      {"tiercache_cache_loader_calls_total",
       "Loader runs (misses and refreshes) by outcome: ok, error (failed or threw), timeout.",
       MetricType::counter,
       {"namespace", "result"},
       Kind::cache},
      {"tiercache_cache_refreshes_total",
       "Refreshes started: background (stale-while-revalidate) or early (of a fresh value).",
       MetricType::counter,
       {"namespace", "kind"},
       Kind::cache},
      {"tiercache_cache_lock_waits_total",
       "Loads that waited for another process's fleet lock.",
       MetricType::counter,
       {"namespace"},
       Kind::cache},
      {"tiercache_cache_lock_waiters",
       "Keys a load waits on now for the fleet lock.",
       MetricType::gauge,
       {"namespace"},
       Kind::cache},
      {"tiercache_cache_fail_safe_served_total",
       "Stale values served because the loader or Redis failed.",
       MetricType::counter,
       {"namespace"},
       Kind::cache},
      {"tiercache_cache_invalidations_received_total",
       "Keys named by Redis invalidation pushes (client-side caching).",
       MetricType::counter,
       {"namespace"},
       Kind::cache},
      {"tiercache_cache_fences_total",
       "L1 flushes after a tracking link dropped.",
       MetricType::counter,
       {"namespace"},
       Kind::cache},
      {"tiercache_l1_bytes", "Bytes L1 holds now.", MetricType::gauge, {"namespace"}, Kind::cache},
      {"tiercache_l1_max_bytes", "L1's byte bound.", MetricType::gauge, {"namespace"}, Kind::cache},
      {"tiercache_l1_entries",
       "Entries L1 holds now.",
       MetricType::gauge,
       {"namespace"},
       Kind::cache},
      {"tiercache_l1_evictions_total",
       "Entries L1 dropped: size (evicted or refused for room) or expired.",
       MetricType::counter,
       {"namespace", "cause"},
       Kind::cache},
      // Breakers (12-15).
      {"tiercache_circuit_breaker_state",
       "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
       MetricType::gauge,
       {"endpoint"},
       Kind::breaker},
      {"tiercache_circuit_breaker_transitions_total",
       "Circuit breaker transitions, by state entered.",
       MetricType::counter,
       {"endpoint", "state"},
       Kind::breaker},
      {"tiercache_circuit_breaker_rejected_total",
       "Calls the breaker refused (open, or half-open with its probes out).",
       MetricType::counter,
       {"endpoint"},
       Kind::breaker},
      {"tiercache_circuit_breaker_calls_total",
       "Calls the breaker let through, by outcome.",
       MetricType::counter,
       {"endpoint", "outcome"},
       Kind::breaker},
      // Limiters (16-18).
      {"tiercache_ratelimit_decisions_total",
       "Rate-limit decisions: allowed or denied.",
       MetricType::counter,
       {"limiter", "decision"},
       Kind::limiter},
      {"tiercache_ratelimit_redis_failures_total",
       "Rate-limit calls Redis could not decide.",
       MetricType::counter,
       {"limiter"},
       Kind::limiter},
      {"tiercache_ratelimit_fallback_decisions_total",
       "Rate-limit decisions made without Redis, by the configured fallback.",
       MetricType::counter,
       {"limiter", "mode"},
       Kind::limiter},
  };
  return specs;
}

constexpr const char* kLatencyName = "tiercache_operation_duration_seconds";

double d(std::uint64_t v) { return static_cast<double>(v); }

}  // namespace

std::vector<std::string_view> collector_metric_names() {
  std::vector<std::string_view> names;
  for (const auto& f : families()) names.emplace_back(f.name);
  names.emplace_back(kLatencyName);
  return names;
}

CacheCollector::CacheCollector(metrics::Registry& registry)
    : latency_(registry.histogram(kLatencyName, "Duration of cache operations as callers see them.",
                                  {"namespace", "operation"}, metrics::latency_buckets())) {
  const auto& specs = families();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    const int family = static_cast<int>(i);
    std::function<void(metrics::CallbackSink&)> collect;
    switch (spec.kind) {
      case Kind::cache:
        collect = [this, family](metrics::CallbackSink& sink) { collect_caches(sink, family); };
        break;
      case Kind::breaker:
        collect = [this, family](metrics::CallbackSink& sink) { collect_breakers(sink, family); };
        break;
      case Kind::limiter:
        collect = [this, family](metrics::CallbackSink& sink) { collect_limiters(sink, family); };
        break;
    }
    handles_.push_back(
        registry.callback(spec.name, spec.help, spec.type, spec.labels, std::move(collect)));
  }
}

CacheCollector::~CacheCollector() {
  for (auto& h : handles_) h.reset();
}

void CacheCollector::add_cache(const cache::Cache& cache) {
  std::lock_guard lock(mu_);
  for (const auto* c : caches_) {
    if (c->options().ns == cache.options().ns) {
      throw std::invalid_argument("CacheCollector: namespace '" + cache.options().ns +
                                  "' is already exported");
    }
  }
  caches_.push_back(&cache);
}

void CacheCollector::remove_cache(const cache::Cache& cache) {
  std::lock_guard lock(mu_);
  std::erase(caches_, &cache);
}

void CacheCollector::add_breaker(const resilience::CircuitBreaker& breaker) {
  if (breaker.name().empty()) throw std::invalid_argument("CacheCollector: breaker has no name");
  std::lock_guard lock(mu_);
  for (const auto* b : breakers_) {
    if (b->name() == breaker.name()) {
      throw std::invalid_argument("CacheCollector: breaker '" + breaker.name() +
                                  "' is already exported");
    }
  }
  breakers_.push_back(&breaker);
}

void CacheCollector::remove_breaker(const resilience::CircuitBreaker& breaker) {
  std::lock_guard lock(mu_);
  std::erase(breakers_, &breaker);
}

void CacheCollector::add_limiter(std::string name, ratelimit::Limiter limiter) {
  if (name.empty()) throw std::invalid_argument("CacheCollector: limiter has no name");
  std::lock_guard lock(mu_);
  for (const auto& l : limiters_) {
    if (l.name == name) {
      throw std::invalid_argument("CacheCollector: limiter '" + name + "' is already exported");
    }
  }
  limiters_.push_back(Limiter{std::move(name), std::move(limiter)});
}

void CacheCollector::remove_limiter(std::string_view name) {
  std::lock_guard lock(mu_);
  std::erase_if(limiters_, [&](const Limiter& l) { return l.name == name; });
}

metrics::Histogram& CacheCollector::operation_latency(std::string_view ns,
                                                      std::string_view operation) {
  return latency_.with({ns, operation});
}

void CacheCollector::collect_caches(metrics::CallbackSink& sink, int family) const {
  std::lock_guard lock(mu_);
  for (const auto* c : caches_) {
    const std::string_view ns = c->options().ns;
    const auto s = c->stats();
    const cache::L1* l1 = c->l1();
    switch (family) {
      case 0:
        sink.add({ns, "l1", "hit"}, d(s.hits_l1));
        sink.add({ns, "l2", "hit"}, d(s.hits_l2));
        sink.add({ns, "l2", "stale"}, d(s.stale_served));
        sink.add({ns, "l2", "miss"}, d(s.misses));
        sink.add({ns, "l2", "error"}, d(s.errors));
        break;
      case 1: {
        // A call is counted when it starts and its failure when it ends: one still running is ok.
        const auto failed = s.loader_errors + s.loader_timeouts;
        sink.add({ns, "ok"}, d(s.loader_calls > failed ? s.loader_calls - failed : 0));
        sink.add({ns, "error"}, d(s.loader_errors));
        sink.add({ns, "timeout"}, d(s.loader_timeouts));
        break;
      }
      case 2:
        sink.add({ns, "background"}, d(s.background_refreshes));
        sink.add({ns, "early"}, d(s.early_refreshes));
        break;
      case 3:
        sink.add({ns}, d(s.lock_waits));
        break;
      case 4:
        sink.add({ns}, d(s.lock_waiters));
        break;
      case 5:
        sink.add({ns}, d(s.fail_safe_served));
        break;
      case 6:
        sink.add({ns}, d(s.invalidations_received));
        break;
      case 7:
        sink.add({ns}, d(s.fences));
        break;
      case 8:
        sink.add({ns}, d(s.l1_bytes));
        break;
      case 9:
        sink.add({ns}, d(l1 != nullptr ? l1->max_bytes() : 0));
        break;
      case 10:
        sink.add({ns}, d(s.l1_entries));
        break;
      case 11:
        sink.add({ns, "size"}, d(s.l1.evicted_size));
        sink.add({ns, "expired"}, d(s.l1.evicted_expired));
        break;
      default:
        break;
    }
  }
}

void CacheCollector::collect_breakers(metrics::CallbackSink& sink, int family) const {
  std::lock_guard lock(mu_);
  for (const auto* b : breakers_) {
    const std::string_view name = b->name();
    const auto s = b->stats();
    switch (family) {
      case 12:
        sink.add({name}, static_cast<double>(static_cast<int>(b->state())));
        break;
      case 13:
        sink.add({name, "open"}, d(s.opened));
        sink.add({name, "half_open"}, d(s.half_opened));
        sink.add({name, "closed"}, d(s.closed));
        break;
      case 14:
        sink.add({name}, d(s.rejected));
        break;
      case 15:
        sink.add({name, "success"}, d(s.successes));
        sink.add({name, "error"}, d(s.errors));
        sink.add({name, "timeout"}, d(s.timeouts));
        sink.add({name, "ignored"}, d(s.ignored));
        break;
      default:
        break;
    }
  }
}

void CacheCollector::collect_limiters(metrics::CallbackSink& sink, int family) const {
  std::lock_guard lock(mu_);
  for (const auto& l : limiters_) {
    const std::string_view name = l.name;
    const auto s = l.limiter.stats();
    switch (family) {
      case 16:
        sink.add({name, "allowed"}, d(s.allowed));
        sink.add({name, "denied"}, d(s.denied));
        break;
      case 17:
        sink.add({name}, d(s.redis_failures));
        break;
      case 18:
        sink.add({name, "fail_open"}, d(s.fail_open));
        sink.add({name, "fail_closed"}, d(s.fail_closed));
        sink.add({name, "local"}, d(s.local));
        break;
      default:
        break;
    }
  }
}

}  // namespace tiercache::health
