#pragma once
// The cache counters of GET /v1/stats, in all and per namespace, as one JSON object: the REST
// API and the dashboard both answer with it, so the page and the API always agree.
// Use: boost::json::object body = stats_counters(*services.namespaces);
// Thread-safety: as Namespaces (safe from any thread).

#include "server/namespaces.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string_view>

namespace tiercache::server {

enum class RedisMode;

// Hits over reads (hits, misses and failed reads), as CacheStats::hit_ratio; 0 before any read.
double hit_rate(std::uint64_t hits, std::uint64_t others) noexcept;

// {"hits", "misses", "errors", "hit_rate", "degraded", "namespaces": {name: {...}}}. Each
// namespace says "breaker" (its circuit breaker's state: "closed", "open", "half_open", or null
// without one) and "degraded" (the breaker is not closed); "degraded" at the top is true when a
// namespace's is: the daemon runs two-tier, but that namespace serves from L1 alone for now.
boost::json::object stats_counters(const Namespaces& namespaces);

// Whether a namespace's circuit breaker is not closed now.
bool any_breaker_open(const Namespaces& namespaces);

// "connected", "unreachable" or "not_configured", as /readyz and /v1/stats say it.
std::string_view mode_name(RedisMode mode) noexcept;

}  // namespace tiercache::server
