// assess(): each rule alone, their thresholds' edges, and the worst reason deciding.

#include "tiercache/health/assessment.hpp"

#include <gtest/gtest.h>

namespace tiercache::health {
namespace {

using namespace std::chrono_literals;

Observations healthy_redis() {
  Observations o;
  o.redis_reachable = true;
  o.ping = 300us;
  RedisInfo info;
  info.redis_version = "7.0.15";
  info.used_memory = 1000;
  info.maxmemory = 0;
  o.info = info;
  return o;
}

bool has_code(const Assessment& a, std::string_view code) {
  for (const auto& r : a.reasons) {
    if (r.code == code) return true;
  }
  return false;
}

TEST(AssessmentTest, AReachableIdleRedisIsHealthy) {
  const auto a = assess(healthy_redis(), {});
  EXPECT_EQ(a.status, HealthStatus::healthy);
  EXPECT_TRUE(a.reasons.empty());
}

TEST(AssessmentTest, AnUnreachableRedisIsUnhealthyWithItsError) {
  Observations o;
  o.redis_error = "connection refused";
  const auto a = assess(o, {});
  EXPECT_EQ(a.status, HealthStatus::unhealthy);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_EQ(a.reasons[0].code, "redis_unreachable");
  EXPECT_NE(a.reasons[0].message.find("connection refused"), std::string::npos);
}

TEST(AssessmentTest, HitRateUnderSeventyPercentIsDegradedOnceEnoughReads) {
  auto o = healthy_redis();
  o.caches.push_back({.ns = "flights", .reads = 100, .hits = 69, .hit_ratio = 0.69});
  auto a = assess(o, {});
  EXPECT_EQ(a.status, HealthStatus::degraded);
  EXPECT_TRUE(has_code(a, "low_hit_rate"));
  EXPECT_NE(a.reasons[0].message.find("69.0%"), std::string::npos);
  EXPECT_NE(a.reasons[0].message.find("flights"), std::string::npos);

  o.caches[0] = {.ns = "flights", .reads = 100, .hits = 70, .hit_ratio = 0.70};
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);  // the threshold itself is fine
  o.caches[0] = {.ns = "flights", .reads = 99, .hits = 0, .hit_ratio = 0.0};
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);  // too few reads to judge
  EXPECT_EQ(assess(o, {.min_reads = 10}).status, HealthStatus::degraded);
}

TEST(AssessmentTest, MemoryNearMaxmemoryIsDegradedAndAtItUnhealthy) {
  auto o = healthy_redis();
  o.info->maxmemory = 1000;
  o.info->used_memory = 899;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);
  o.info->used_memory = 900;
  auto a = assess(o, {});
  EXPECT_EQ(a.status, HealthStatus::degraded);
  EXPECT_TRUE(has_code(a, "memory_near_limit"));
  o.info->used_memory = 980;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::unhealthy);
  o.info->maxmemory = 0;  // no limit: memory is never near it
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);
}

TEST(AssessmentTest, ABreakerNotClosedIsDegraded) {
  auto o = healthy_redis();
  o.breakers.push_back({.endpoint = "redis://a", .state = resilience::BreakerState::closed});
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);
  o.breakers.push_back({.endpoint = "redis://b", .state = resilience::BreakerState::open});
  auto a = assess(o, {});
  EXPECT_EQ(a.status, HealthStatus::degraded);
  ASSERT_EQ(a.reasons.size(), 1u);
  EXPECT_NE(a.reasons[0].message.find("redis://b"), std::string::npos);
  o.breakers[1].state = resilience::BreakerState::half_open;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::degraded);
}

TEST(AssessmentTest, SlowPingIsDegradedThenUnhealthy) {
  auto o = healthy_redis();
  o.ping = 49ms;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::healthy);
  o.ping = 50ms;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::degraded);
  o.ping = 500ms;
  EXPECT_EQ(assess(o, {}).status, HealthStatus::unhealthy);
  EXPECT_EQ(assess(o, {.ping_unhealthy = 2s}).status, HealthStatus::degraded);
}

TEST(AssessmentTest, TheWorstReasonDecidesAndEveryReasonIsListed) {
  auto o = healthy_redis();
  o.info->maxmemory = 1000;
  o.info->used_memory = 990;
  o.caches.push_back({.ns = "hotels", .reads = 1000, .hits = 10, .hit_ratio = 0.01});
  o.breakers.push_back({.endpoint = "e", .state = resilience::BreakerState::open});
  const auto a = assess(o, {});
  EXPECT_EQ(a.status, HealthStatus::unhealthy);
  EXPECT_EQ(a.reasons.size(), 3u);
  EXPECT_EQ(to_string(a.status), "unhealthy");
}

}  // namespace
}  // namespace tiercache::health
