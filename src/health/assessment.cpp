#include "tiercache/health/assessment.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tiercache::health {

std::string_view to_string(HealthStatus status) noexcept {
  switch (status) {
    case HealthStatus::healthy:
      return "healthy";
    case HealthStatus::degraded:
      return "degraded";
    case HealthStatus::unhealthy:
      return "unhealthy";
  }
  return "unknown";
}

namespace {

double ms(std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1000.0; }

void add(Assessment& a, HealthStatus severity, std::string code, std::string message) {
  a.status = std::max(a.status, severity);
  a.reasons.push_back(HealthReason{severity, std::move(code), std::move(message)});
}

}  // namespace

Assessment assess(const Observations& seen, const HealthThresholds& limits) {
  Assessment a;
  if (!seen.redis_reachable) {
    add(a, HealthStatus::unhealthy, "redis_unreachable",
        "Redis unreachable: " +
            (seen.redis_error.empty() ? std::string("no answer to PING") : seen.redis_error));
  }
  if (seen.ping) {
    if (*seen.ping >= limits.ping_unhealthy) {
      add(a, HealthStatus::unhealthy, "ping_latency_high",
          fmt::format("PING latency {:.1f} ms (>= {:.0f} ms)", ms(*seen.ping),
                      ms(limits.ping_unhealthy)));
    } else if (*seen.ping >= limits.ping_degraded) {
      add(a, HealthStatus::degraded, "ping_latency_high",
          fmt::format("PING latency {:.1f} ms (>= {:.0f} ms)", ms(*seen.ping),
                      ms(limits.ping_degraded)));
    }
  }
  if (seen.info) {
    if (const auto f = seen.info->memory_fraction()) {
      const auto text = fmt::format("Memory near maxmemory: {} of {} bytes ({:.1f}%, policy {})",
                                    seen.info->used_memory, seen.info->maxmemory, *f * 100,
                                    seen.info->maxmemory_policy);
      if (*f >= limits.memory_unhealthy_fraction) {
        add(a, HealthStatus::unhealthy, "memory_near_limit", text);
      } else if (*f >= limits.memory_degraded_fraction) {
        add(a, HealthStatus::degraded, "memory_near_limit", text);
      }
    }
  }
  for (const auto& c : seen.caches) {
    if (c.reads >= limits.min_reads && c.hit_ratio && *c.hit_ratio < limits.min_hit_ratio) {
      add(a, HealthStatus::degraded, "low_hit_rate",
          fmt::format("Low hit rate: {:.1f}% in namespace {} over {} reads (< {:.0f}%)",
                      *c.hit_ratio * 100, c.ns, c.reads, limits.min_hit_ratio * 100));
    }
  }
  for (const auto& b : seen.breakers) {
    if (b.state != resilience::BreakerState::closed) {
      add(a, HealthStatus::degraded, "breaker_open",
          fmt::format("Circuit breaker {} is {}: serving from L1 and loaders", b.endpoint,
                      resilience::to_string(b.state)));
    }
  }
  return a;
}

}  // namespace tiercache::health
