#include "health/cluster_info.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace tiercache::health::detail {

RedisInfo merge_redis_info(const std::vector<NodeInfo>& nodes) {
  RedisInfo all = nodes.front().info;
  bool every_node_bounded = all.maxmemory != 0;
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    const RedisInfo& n = nodes[i].info;
    all.used_memory += n.used_memory;
    all.used_memory_peak += n.used_memory_peak;
    all.maxmemory += n.maxmemory;
    every_node_bounded = every_node_bounded && n.maxmemory != 0;
    all.evicted_keys += n.evicted_keys;
    all.keyspace_hits += n.keyspace_hits;
    all.keyspace_misses += n.keyspace_misses;
    all.connected_clients += n.connected_clients;
    all.keys += n.keys;
    all.expires += n.expires;
  }
  if (!every_node_bounded) all.maxmemory = 0;
  return all;
}

void assess_node_memory(const std::vector<NodeInfo>& nodes, const HealthThresholds& limits,
                        Assessment& assessment) {
  auto& reasons = assessment.reasons;
  std::erase_if(reasons, [](const HealthReason& r) { return r.code == "memory_near_limit"; });
  for (const auto& [node, info] : nodes) {
    const auto f = info.memory_fraction();
    if (!f || *f < limits.memory_degraded_fraction) continue;
    const auto severity =
        *f >= limits.memory_unhealthy_fraction ? HealthStatus::unhealthy : HealthStatus::degraded;
    reasons.push_back(HealthReason{
        severity, "memory_near_limit",
        fmt::format("Memory near maxmemory on master {}: {} of {} bytes ({:.1f}%, policy {})", node,
                    info.used_memory, info.maxmemory, *f * 100, info.maxmemory_policy)});
  }
  assessment.status = HealthStatus::healthy;
  for (const auto& r : reasons) assessment.status = std::max(assessment.status, r.severity);
}

}  // namespace tiercache::health::detail
