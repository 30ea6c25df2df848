#include "tiercache/health/report.hpp"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <iterator>

namespace tiercache::health {
namespace {

namespace json = boost::json;

std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  const std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     static_cast<int>((ms - secs).count()));
}

// Redis's used_memory_human style: 1.50M.
std::string human_bytes(std::uint64_t bytes) {
  constexpr const char* kUnits[] = {"B", "K", "M", "G", "T"};
  auto v = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}B", bytes) : fmt::format("{:.2f}{}", v, kUnits[unit]);
}

json::value optional_number(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object ttl_json(const TtlDistribution& t) {
  json::object o;
  static constexpr const char* kNames[] = {"lt_1m", "lt_10m", "lt_1h", "lt_1d", "ge_1d"};
  for (std::size_t i = 0; i < t.buckets.size(); ++i) o[kNames[i]] = t.buckets[i];
  o["no_ttl"] = t.no_ttl;
  o["mean_seconds"] = t.sampled == 0
                          ? json::value(nullptr)
                          : json::value(t.ttl_sum_seconds / static_cast<double>(t.sampled));
  return o;
}

}  // namespace

std::optional<double> HealthReport::hit_ratio() const noexcept {
  std::uint64_t reads = 0;
  std::uint64_t hits = 0;
  for (const auto& c : observed.caches) {
    reads += c.reads;
    hits += c.hits;
  }
  if (reads > 0) return static_cast<double>(hits) / static_cast<double>(reads);
  if (observed.info) return observed.info->keyspace_hit_ratio();
  return std::nullopt;
}

json::object to_json(const HealthReport& report) {
  json::object o;
  const auto& info = report.observed.info;
  o["memory_used"] = info ? json::value(info->used_memory) : json::value(nullptr);
  o["memory_used_human"] =
      info ? json::value(human_bytes(info->used_memory)) : json::value(nullptr);
  o["total_keys"] = info ? json::value(info->keys) : json::value(nullptr);
  const auto ratio = report.hit_ratio();
  o["hit_rate"] = ratio ? json::value(*ratio * 100) : json::value(nullptr);

  json::object namespaces;
  json::object ttl;
  if (report.keyspace) {
    for (const auto& [name, ns] : report.keyspace->namespaces) {
      namespaces[name] = ns.estimated;
      ttl[name] = ttl_json(ns.ttl);
    }
  }
  o["namespaces"] = std::move(namespaces);
  o["ttl_distribution"] = std::move(ttl);
  o["timestamp"] = iso8601(report.timestamp);

  json::object health;
  health["status"] = to_string(report.assessment.status);
  json::array issues;
  json::array reasons;
  for (const auto& r : report.assessment.reasons) {
    issues.emplace_back(r.message);
    reasons.emplace_back(json::object{
        {"severity", to_string(r.severity)}, {"code", r.code}, {"message", r.message}});
  }
  health["issues"] = std::move(issues);
  health["reasons"] = std::move(reasons);
  o["health"] = std::move(health);

  json::object redis;
  redis["reachable"] = report.observed.redis_reachable;
  if (!report.observed.redis_error.empty()) redis["error"] = report.observed.redis_error;
  redis["ping_ms"] = report.observed.ping
                         ? json::value(static_cast<double>(report.observed.ping->count()) / 1000.0)
                         : json::value(nullptr);
  if (info) {
    redis["version"] = info->redis_version;
    redis["used_memory"] = info->used_memory;
    redis["used_memory_peak"] = info->used_memory_peak;
    redis["maxmemory"] = info->maxmemory;
    redis["maxmemory_policy"] = info->maxmemory_policy;
    redis["memory_fraction"] = optional_number(info->memory_fraction());
    redis["evicted_keys"] = info->evicted_keys;
    redis["keyspace_hits"] = info->keyspace_hits;
    redis["keyspace_misses"] = info->keyspace_misses;
    redis["keyspace_hit_rate"] = optional_number(info->keyspace_hit_ratio());
    redis["connected_clients"] = info->connected_clients;
  }
  o["redis"] = std::move(redis);

  json::array caches;
  for (const auto& c : report.observed.caches) {
    caches.emplace_back(json::object{{"namespace", c.ns},
                                     {"reads", c.reads},
                                     {"hits", c.hits},
                                     {"hit_rate", optional_number(c.hit_ratio)}});
  }
  o["caches"] = std::move(caches);
  json::array breakers;
  for (const auto& b : report.observed.breakers) {
    breakers.emplace_back(
        json::object{{"endpoint", b.endpoint}, {"state", resilience::to_string(b.state)}});
  }
  o["breakers"] = std::move(breakers);

  if (report.keyspace) {
    const auto& k = *report.keyspace;
    o["keyspace_sample"] = json::object{{"keys_visited", k.keys_visited},
                                        {"round_trips", k.round_trips},
                                        {"complete", k.complete},
                                        {"dbsize", k.dbsize}};
  } else if (!report.keyspace_error.empty()) {
    o["keyspace_sample"] = json::object{{"error", report.keyspace_error}};
  }
  return o;
}

}  // namespace tiercache::health
