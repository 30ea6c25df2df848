#pragma once
// HealthReport: what one health probe saw and concluded, as a plain value, and its JSON form:
// what tiercached serves at GET /v1/health (seed 004's shape: memory_used, total_keys, hit_rate
// in percent, namespaces, ttl_distribution, timestamp, health {status, issues}; plus the details
// under redis, caches, breakers and keyspace_sample).
// Use: boost::json::object body = to_json(report);  std::string s = boost::json::serialize(body);
// Thread-safety: values and pure functions.

#include "tiercache/health/assessment.hpp"
#include "tiercache/health/keyspace_sample.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace tiercache::health {

struct HealthReport {
  Assessment assessment;
  std::chrono::system_clock::time_point timestamp{};
  Observations observed;
  std::optional<KeyspaceSample> keyspace;  // nullopt when off, or when it failed:
  std::string keyspace_error;              // why it failed

  HealthStatus status() const noexcept { return assessment.status; }
  // Hits over reads of every observed cache; else Redis's keyspace ratio; else nullopt.
  std::optional<double> hit_ratio() const noexcept;
};

boost::json::object to_json(const HealthReport& report);

}  // namespace tiercache::health
