// HealthMonitor against a real redis-server: healthy -> degraded (maxmemory set just above
// used_memory with CONFIG SET) -> unhealthy (the server killed) -> healthy (restarted), with the
// alert hook seeing each change in order; a low hit rate and an open breaker degrade it; the
// periodic probe starts, stops, and is freed with its io_context; the report's JSON and gauges.

#include "tiercache/health/monitor.hpp"

#include "tiercache/metrics/registry.hpp"
#include "tiercache/redis/client.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/metrics/text_parser.hpp"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

namespace tiercache::health {
namespace {

using test::run;
using namespace std::chrono_literals;

struct Seen {
  std::optional<HealthStatus> from;
  HealthStatus to;
  std::vector<std::string> codes;
};

class Recorder {
 public:
  std::function<void(const HealthChange&)> hook() {
    return [this](const HealthChange& c) {
      std::vector<std::string> codes;
      for (const auto& r : c.report.assessment.reasons) codes.push_back(r.code);
      std::lock_guard lock(mu_);
      seen_.push_back(Seen{c.from, c.to, std::move(codes)});
    };
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

bool has_code(const HealthReport& r, std::string_view code) {
  for (const auto& reason : r.assessment.reasons) {
    if (reason.code == code) return true;
  }
  return false;
}

class HealthMonitorTest : public ::testing::Test {
 protected:
  std::shared_ptr<redis::Client> probe_client() {
    auto config = server_.config();
    config.connect_timeout = 300ms;
    config.request_timeout = 300ms;
    config.reconnect_min = 10ms;
    config.reconnect_max = 100ms;
    return std::make_shared<redis::Client>(io_.executor(), config);
  }
  asio::any_io_executor ex() { return io_.executor(); }

  test::RedisServer server_;
  test::IoThreads io_{2};
  Recorder recorder_;
};

TEST_F(HealthMonitorTest, GoesDegradedUnhealthyAndBackWithTheHookSeeingEachChange) {
  // Memory thresholds wide apart: Redis's used_memory moves by tens of KB between probes (client
  // buffers), which must not carry it past the unhealthy line in this test.
  HealthMonitor monitor(probe_client(), {.thresholds = {.memory_degraded_fraction = 0.5,
                                                        .memory_unhealthy_fraction = 1.5},
                                         .on_change = recorder_.hook()});

  auto r = run(ex(), monitor.check());
  ASSERT_EQ(r.status(), HealthStatus::healthy) << boost::json::serialize(to_json(r));
  ASSERT_TRUE(r.observed.ping);
  ASSERT_TRUE(r.observed.info);

  // Memory near the limit: used_memory at about 80% of maxmemory.
  const auto limit =
      static_cast<std::uint64_t>(static_cast<double>(r.observed.info->used_memory) / 0.8);
  ASSERT_EQ(server_.cli({"CONFIG", "SET", "maxmemory", std::to_string(limit)}), "OK");
  r = run(ex(), monitor.check());
  EXPECT_EQ(r.status(), HealthStatus::degraded) << boost::json::serialize(to_json(r));
  EXPECT_TRUE(has_code(r, "memory_near_limit"));

  server_.stop();
  r = run(ex(), monitor.check());
  EXPECT_EQ(r.status(), HealthStatus::unhealthy);
  EXPECT_TRUE(has_code(r, "redis_unreachable"));
  EXPECT_FALSE(r.observed.redis_reachable);
  EXPECT_FALSE(r.observed.redis_error.empty());

  server_.restart();  // its config file has no maxmemory
  ASSERT_TRUE(test::eventually(
      [&] { return run(ex(), monitor.check()).status() == HealthStatus::healthy; }, 10s));

  const auto seen = recorder_.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_FALSE(seen[0].from);
  EXPECT_EQ(seen[0].to, HealthStatus::healthy);
  EXPECT_EQ(seen[1].from, HealthStatus::healthy);
  EXPECT_EQ(seen[1].to, HealthStatus::degraded);
  EXPECT_EQ(seen[1].codes, std::vector<std::string>{"memory_near_limit"});
  EXPECT_EQ(seen[2].from, HealthStatus::degraded);
  EXPECT_EQ(seen[2].to, HealthStatus::unhealthy);
  EXPECT_EQ(seen[2].codes, std::vector<std::string>{"redis_unreachable"});
  EXPECT_EQ(seen[3].from, HealthStatus::unhealthy);
  EXPECT_EQ(seen[3].to, HealthStatus::healthy);
  EXPECT_TRUE(seen[3].codes.empty());
}

TEST_F(HealthMonitorTest, ALowHitRateDegradesAndRecoversOverTheNextWindow) {
  cache::Cache cache(test::tracking_client(ex(), server_), cache::Options{.ns = "flights"});
  HealthMonitor monitor(probe_client(),
                        {.thresholds = {.min_reads = 10}, .on_change = recorder_.hook()});
  monitor.watch_cache(cache);
  ASSERT_EQ(run(ex(), monitor.check()).status(), HealthStatus::healthy);

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run(ex(), cache.get("absent:" + std::to_string(i))));
  auto r = run(ex(), monitor.check());
  EXPECT_EQ(r.status(), HealthStatus::degraded);
  ASSERT_TRUE(has_code(r, "low_hit_rate"));
  ASSERT_EQ(r.observed.caches.size(), 1u);
  EXPECT_EQ(r.observed.caches[0].reads, 10u);
  EXPECT_EQ(r.observed.caches[0].hit_ratio, 0.0);

  ASSERT_TRUE(run(ex(), cache.set("LHR-JFK", "fares")));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run(ex(), cache.get("LHR-JFK")));
  r = run(ex(), monitor.check());  // the window closed at the last probe: only the hits count
  EXPECT_EQ(r.status(), HealthStatus::healthy);
  EXPECT_EQ(r.observed.caches[0].hit_ratio, 1.0);
  monitor.unwatch_cache(cache);
  EXPECT_TRUE(run(ex(), monitor.check()).observed.caches.empty());
}

TEST_F(HealthMonitorTest, AnOpenBreakerDegrades) {
  ManualClock clock;
  resilience::CircuitBreaker breaker({.name = "redis-main"}, clock);
  HealthMonitor monitor(probe_client(), {});
  monitor.watch_breaker(breaker);
  EXPECT_EQ(run(ex(), monitor.check()).status(), HealthStatus::healthy);
  breaker.force_open();
  auto r = run(ex(), monitor.check());
  EXPECT_EQ(r.status(), HealthStatus::degraded);
  EXPECT_TRUE(has_code(r, "breaker_open"));
  breaker.reset();
  EXPECT_EQ(run(ex(), monitor.check()).status(), HealthStatus::healthy);
  monitor.unwatch_breaker(breaker);
}

TEST_F(HealthMonitorTest, PeriodicProbesRunUntilStopped) {
  HealthMonitor monitor(probe_client(), {.interval = 20ms, .on_change = recorder_.hook()});
  EXPECT_FALSE(monitor.status());
  monitor.start();
  monitor.start();  // idempotent
  ASSERT_TRUE(test::eventually([&] { return monitor.status().has_value(); }));
  EXPECT_EQ(*monitor.status(), HealthStatus::healthy);
  // A change between probes reaches the hook without anyone calling check().
  server_.stop();
  ASSERT_TRUE(test::eventually([&] { return monitor.status() == HealthStatus::unhealthy; }));
  monitor.stop();
  monitor.stop();
  server_.restart();
  monitor.start();  // again, after a stop
  ASSERT_TRUE(test::eventually([&] { return monitor.status() == HealthStatus::healthy; }, 10s));
  monitor.stop();
  const auto seen = recorder_.seen();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[1].to, HealthStatus::unhealthy);
  EXPECT_EQ(seen.back().to, HealthStatus::healthy);
}

TEST(HealthMonitorLifetimeTest, APendingPeriodicProbeIsFreedWithItsIoContext) {
  test::RedisServer server;
  asio::io_context io;
  {
    HealthMonitor monitor(std::make_shared<redis::Client>(io.get_executor(), server.config()),
                          {.interval = std::chrono::hours(1)});
    monitor.start();
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!monitor.status() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(10ms);
    }
    ASSERT_TRUE(monitor.status());
    // Destroyed while its loop waits on the timer and nothing runs the io_context.
  }
  // The io_context's destructor destroys the waiting loop and the posted cancel; LeakSanitizer
  // fails the test if either kept the monitor's state alive.
}

TEST_F(HealthMonitorTest, TheReportIsSeedShapedJsonAndExportedAsGauges) {
  ASSERT_EQ(server_.cli({"SET", "flights:v1:a", "x", "EX", "300"}), "OK");
  ASSERT_EQ(server_.cli({"SET", "hotels:v1:b", "y"}), "OK");
  metrics::Registry registry;
  HealthMonitor monitor(probe_client(), {});
  auto handles = monitor.export_metrics(registry);
  EXPECT_EQ(registry.scrape(), "");  // nothing before the first probe
  auto r = run(ex(), monitor.check());

  const auto json = to_json(r);
  for (const char* key : {"memory_used", "total_keys", "hit_rate", "namespaces", "ttl_distribution",
                          "timestamp", "health", "redis"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json.at("health").at("status").as_string(), "healthy");
  EXPECT_TRUE(json.at("health").at("issues").as_array().empty());
  EXPECT_EQ(json.at("namespaces").at("flights").as_uint64(), 1u);
  EXPECT_EQ(json.at("total_keys").as_uint64(), 2u);
  EXPECT_EQ(json.at("ttl_distribution").at("flights").at("lt_10m").as_uint64(), 1u);
  EXPECT_EQ(json.at("ttl_distribution").at("hotels").at("no_ttl").as_uint64(), 1u);
  EXPECT_TRUE(json.at("redis").at("reachable").as_bool());
  EXPECT_EQ(json.at("timestamp").as_string().size(), 24u);  // 2026-11-26T02:05:18.123Z

  const std::string text = registry.scrape();
  ASSERT_NO_THROW(metrics::testing::parse_text(text)) << text;
  EXPECT_NE(text.find("tiercache_health_status 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tiercache_redis_up 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("tiercache_redis_namespace_keys{namespace=\"flights\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("tiercache_redis_memory_used_bytes "), std::string::npos);
  handles.clear();
  EXPECT_EQ(registry.scrape(), "");
}

}  // namespace
}  // namespace tiercache::health
