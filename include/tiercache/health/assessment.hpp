#pragma once
// assess: the health verdict (healthy / degraded / unhealthy, with reasons) from what a probe
// observed, against thresholds. Pure, so every rule is unit-tested without a server.
// Rules (defaults in HealthThresholds): Redis unreachable or memory at the limit -> unhealthy;
// a cache's hit rate under min_hit_ratio, memory near maxmemory, a breaker not closed, a slow
// PING -> degraded; a very slow PING -> unhealthy. The worst reason decides.
// Thread-safety: pure functions over values.

#include "tiercache/health/redis_info.hpp"
#include "tiercache/resilience/circuit_breaker.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::health {

enum class HealthStatus : std::uint8_t { healthy = 0, degraded = 1, unhealthy = 2 };
std::string_view to_string(HealthStatus status) noexcept;

struct HealthThresholds {
  // A cache whose hit rate over the assessment's window is below this is degraded: the upstream
  // takes more load than planned. Seed 004's 70%. Default: 0.70.
  double min_hit_ratio = 0.70;
  // Reads a window must hold before its hit rate counts (a cold or idle cache is not degraded).
  // Default: 100.
  std::uint64_t min_reads = 100;
  // used_memory / maxmemory at or above this is degraded (evictions are near or under way);
  // at or above memory_unhealthy_fraction unhealthy (writes fail under noeviction). Only when
  // maxmemory is set. Default: 0.90 and 0.98.
  double memory_degraded_fraction = 0.90;
  double memory_unhealthy_fraction = 0.98;
  // PING round trip at or above these is degraded / unhealthy. Default: 50 ms / 500 ms (a
  // local Redis answers in well under 1 ms; 50 ms eats most of an L2 read's budget).
  std::chrono::microseconds ping_degraded = std::chrono::milliseconds(50);
  std::chrono::microseconds ping_unhealthy = std::chrono::milliseconds(500);
};

// A cache's reads over the window (health::ReadCounts, flattened for the report).
struct CacheObservation {
  std::string ns;
  std::uint64_t reads = 0;
  std::uint64_t hits = 0;
  std::optional<double> hit_ratio;  // nullopt when reads == 0
};

struct BreakerObservation {
  std::string endpoint;
  resilience::BreakerState state = resilience::BreakerState::closed;
};

struct Observations {
  bool redis_reachable = false;
  std::string redis_error;  // why not, when not reachable
  std::optional<std::chrono::microseconds> ping;
  std::optional<RedisInfo> info;
  std::vector<CacheObservation> caches;
  std::vector<BreakerObservation> breakers;
};

struct HealthReason {
  HealthStatus severity = HealthStatus::degraded;
  std::string code;     // stable, for machines: "redis_unreachable", "low_hit_rate", ...
  std::string message;  // for people: "Low hit rate: 42.0% in namespace flights (< 70%)"
};

struct Assessment {
  HealthStatus status = HealthStatus::healthy;
  std::vector<HealthReason> reasons;  // empty when healthy
};

Assessment assess(const Observations& seen, const HealthThresholds& limits);

}  // namespace tiercache::health
