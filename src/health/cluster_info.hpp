#pragma once
// The health probe on a Redis Cluster: every master's INFO read as one RedisInfo for the report
// (counts and memory summed), and memory assessed per master, since one full master refuses
// writes to its slots however empty the others are. Decision: docs/decisions/0011-cluster.md.
// Use: RedisInfo all = merge_redis_info(nodes); assess_node_memory(nodes, limits, assessment);
// Thread-safety: pure functions over values.

#include "tiercache/health/assessment.hpp"
#include "tiercache/health/redis_info.hpp"

#include <string>
#include <utility>
#include <vector>

namespace tiercache::health::detail {

// One master's INFO, with its "host:port".
struct NodeInfo {
  std::string node;
  RedisInfo info;
};

// Counts (memory, peak, evictions, hits, misses, clients, keys, expires) summed; maxmemory summed
// when every master has one, else 0 (some master may grow without bound); version and policy
// the first master's. REQUIRES: nodes not empty.
RedisInfo merge_redis_info(const std::vector<NodeInfo>& nodes);

// Replaces `assessment`'s memory_near_limit reasons (judged on the sums) by one per master at or
// above the thresholds, naming it, and recomputes the status from the reasons.
void assess_node_memory(const std::vector<NodeInfo>& nodes, const HealthThresholds& limits,
                        Assessment& assessment);

}  // namespace tiercache::health::detail
