#include "server/stats_counters.hpp"

#include "server/services.hpp"

namespace tiercache::server {

double hit_rate(std::uint64_t hits, std::uint64_t others) noexcept {
  const auto total = hits + others;
  return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
}

boost::json::object stats_counters(const Namespaces& all) {
  boost::json::object namespaces;
  std::uint64_t hits = 0, misses = 0, errors = 0;
  bool degraded = false;
  for (const auto& ns : all.all()) {
    const cache::CacheStats s = ns->stats();
    const std::uint64_t ns_hits = s.hits_l1 + s.hits_l2 + s.stale_served;
    boost::json::object o;
    o["hits"] = ns_hits;
    o["hits_l1"] = s.hits_l1;
    o["hits_l2"] = s.hits_l2;
    o["stale_served"] = s.stale_served;
    o["misses"] = s.misses;
    o["errors"] = s.errors;
    o["hit_rate"] = hit_rate(ns_hits, s.misses + s.errors);
    o["sets"] = ns->counters.sets->value();
    o["deletes"] = ns->counters.deletes->value();
    o["write_errors"] = ns->counters.write_errors->value();
    o["invalidations_received"] = s.invalidations_received;
    o["l1_bytes"] = s.l1_bytes;
    o["l1_entries"] = s.l1_entries;
    o["l1_capacity_bytes"] = ns->cache->options().l1_bytes;
    o["l1_evictions"] = s.l1.evicted_size + s.l1.evicted_expired;
    // The circuit breaker in front of the namespace's Redis: null without one (L1 alone, or
    // [redis.breaker] enabled = false). Not closed: requests that need Redis are refused at once
    // and reads are served from L1 alone, flagged degraded.
    const bool ns_degraded = ns->redis && ns->redis->degraded();
    if (ns->redis) {
      o["breaker"] = resilience::to_string(ns->redis->state());
    } else {
      o["breaker"] = nullptr;
    }
    o["degraded"] = ns_degraded;
    degraded = degraded || ns_degraded;
    namespaces[ns->config.name] = std::move(o);
    hits += ns_hits;
    misses += s.misses;
    errors += s.errors;
  }
  boost::json::object body;
  body["hits"] = hits;
  body["misses"] = misses;
  body["errors"] = errors;
  body["hit_rate"] = hit_rate(hits, misses + errors);
  body["degraded"] = degraded;
  body["namespaces"] = std::move(namespaces);
  return body;
}

bool any_breaker_open(const Namespaces& all) {
  for (const auto& ns : all.all()) {
    if (ns->redis && ns->redis->degraded()) return true;
  }
  return false;
}

std::string_view mode_name(RedisMode mode) noexcept {
  switch (mode) {
    case RedisMode::connected:
      return "connected";
    case RedisMode::unreachable:
      return "unreachable";
    case RedisMode::not_configured:
      return "not_configured";
  }
  return "unknown";
}

}  // namespace tiercache::server
