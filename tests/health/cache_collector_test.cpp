// CacheCollector against a real Cache on a real redis-server: a read from L1, one from L2 and a
// miss land in the right series; loads, L1 size, breaker state and rate-limit decisions are
// exported; the exposition passes the strict text-format parser; HitRateView resets without
// touching the exported counters.

#include "tiercache/health/cache_collector.hpp"

#include "tiercache/health/hit_rate.hpp"
#include "tiercache/metrics/registry.hpp"
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/resilience/circuit_breaker.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/metrics/text_parser.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace tiercache::health {
namespace {

namespace asio = boost::asio;
using test::run;
using namespace std::chrono_literals;

// The value of the sample `name` whose labels include every (label, value) given.
std::optional<double> sample(const std::string& text, const std::string& name,
                             std::vector<std::pair<std::string, std::string>> labels = {}) {
  for (const auto& family : metrics::testing::parse_text(text)) {
    for (const auto& s : family.samples) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : labels) {
        const auto* got = s.label(k);
        all = all && got != nullptr && *got == v;
      }
      if (all) return s.value;
    }
  }
  return std::nullopt;
}

class CacheCollectorTest : public ::testing::Test {
 protected:
  std::unique_ptr<cache::Cache> make(std::string ns) {
    return std::make_unique<cache::Cache>(test::tracking_client(io_.executor(), server_),
                                          cache::Options{.ns = std::move(ns)});
  }
  asio::any_io_executor ex() { return io_.executor(); }

  test::RedisServer server_;
  test::IoThreads io_{2};
  metrics::Registry registry_;
};

TEST_F(CacheCollectorTest, CountsAnL1HitAnL2HitAndAMissInTheirSeries) {
  auto writer = make("flights");
  auto reader = make("flights");
  CacheCollector collector(registry_);
  collector.add_cache(*reader);

  ASSERT_TRUE(run(ex(), writer->set("LHR-JFK", "fares")));
  auto r = run(ex(), reader->get("LHR-JFK"));  // L2: the reader's L1 is empty
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, cache::Source::l2);
  r = run(ex(), reader->get("LHR-JFK"));  // L1 now
  ASSERT_TRUE(r && r->hit());
  EXPECT_EQ(r->source, cache::Source::l1);
  r = run(ex(), reader->get("CDG-SFO"));  // neither
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->hit());

  const std::string text = registry_.scrape();
  ASSERT_NO_THROW(metrics::testing::parse_text(text)) << text;
  const std::string name = "tiercache_cache_requests_total";
  auto at = [&](const char* tier, const char* result) {
    return sample(text, name, {{"namespace", "flights"}, {"tier", tier}, {"result", result}});
  };
  EXPECT_EQ(at("l1", "hit"), 1.0) << text;
  EXPECT_EQ(at("l2", "hit"), 1.0) << text;
  EXPECT_EQ(at("l2", "miss"), 1.0) << text;
  EXPECT_EQ(at("l2", "stale"), 0.0) << text;
  EXPECT_EQ(at("l2", "error"), 0.0) << text;
  // The entry, and the namespace version L1 keeps beside it.
  EXPECT_EQ(sample(text, "tiercache_l1_entries", {{"namespace", "flights"}}),
            static_cast<double>(reader->stats().l1_entries));
  EXPECT_GE(reader->stats().l1_entries, 1u);
  EXPECT_GT(sample(text, "tiercache_l1_bytes", {{"namespace", "flights"}}).value_or(0), 0.0);
  EXPECT_EQ(sample(text, "tiercache_l1_max_bytes", {{"namespace", "flights"}}),
            static_cast<double>(reader->l1()->max_bytes()));
  EXPECT_EQ(sample(text, "tiercache_cache_loader_calls_total", {{"namespace", "flights"}}), 0.0);
}

TEST_F(CacheCollectorTest, CountsLoadsAndExportsEveryCacheUnderItsNamespace) {
  auto flights = make("flights");
  auto hotels = make("hotels");
  CacheCollector collector(registry_);
  collector.add_cache(*flights);
  collector.add_cache(*hotels);
  EXPECT_THROW(collector.add_cache(*flights), std::invalid_argument);

  auto calls = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(run(ex(), hotels->get_or_load("paris", test::counting(calls, "list"))));
  ASSERT_TRUE(run(ex(), hotels->get_or_load("paris", test::counting(calls, "list"))));
  EXPECT_EQ(calls->load(), 1);
  EXPECT_FALSE(run(ex(), hotels->get_or_load("rome", test::throwing(calls))));

  std::string text = registry_.scrape();
  const auto loads = [&](const char* result) {
    return sample(text, "tiercache_cache_loader_calls_total",
                  {{"namespace", "hotels"}, {"result", result}});
  };
  EXPECT_EQ(loads("ok"), 1.0);
  EXPECT_EQ(loads("error"), 1.0);
  EXPECT_EQ(loads("timeout"), 0.0);
  EXPECT_EQ(sample(text, "tiercache_cache_requests_total",
                   {{"namespace", "hotels"}, {"tier", "l2"}, {"result", "miss"}}),
            1.0);
  // The second read is a hit, from whichever tier the loaded value reached first.
  const auto hit = [&](const char* tier) {
    return sample(text, "tiercache_cache_requests_total",
                  {{"namespace", "hotels"}, {"tier", tier}, {"result", "hit"}})
        .value_or(-1);
  };
  EXPECT_EQ(hit("l1") + hit("l2"), 1.0) << text;
  EXPECT_EQ(sample(text, "tiercache_cache_requests_total",
                   {{"namespace", "flights"}, {"tier", "l1"}, {"result", "hit"}}),
            0.0);

  collector.remove_cache(*hotels);
  text = registry_.scrape();
  EXPECT_FALSE(sample(text, "tiercache_cache_loader_calls_total", {{"namespace", "hotels"}}));
  EXPECT_TRUE(sample(text, "tiercache_cache_loader_calls_total", {{"namespace", "flights"}}));
}

TEST_F(CacheCollectorTest, ExportsBreakerStateAndRateLimitDecisions) {
  ManualClock clock;
  resilience::CircuitBreaker breaker({.name = "redis-a"}, clock);
  auto client = std::make_shared<redis::Client>(ex(), server_.config());
  client->start();
  ratelimit::Limiter limiter(client, ratelimit::Policy{.limit = 1, .window = 1min});
  CacheCollector collector(registry_);
  collector.add_breaker(breaker);
  collector.add_limiter("search", limiter);
  EXPECT_THROW(collector.add_limiter("search", limiter), std::invalid_argument);

  std::string text = registry_.scrape();
  EXPECT_EQ(sample(text, "tiercache_circuit_breaker_state", {{"endpoint", "redis-a"}}), 0.0);
  breaker.force_open();
  auto first = run(ex(), limiter.allow("user:1"));
  auto second = run(ex(), limiter.allow("user:1"));
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->allowed);
  EXPECT_FALSE(second->allowed);

  text = registry_.scrape();
  ASSERT_NO_THROW(metrics::testing::parse_text(text)) << text;
  EXPECT_EQ(sample(text, "tiercache_circuit_breaker_state", {{"endpoint", "redis-a"}}), 1.0);
  EXPECT_EQ(sample(text, "tiercache_circuit_breaker_transitions_total",
                   {{"endpoint", "redis-a"}, {"state", "open"}}),
            1.0);
  EXPECT_EQ(sample(text, "tiercache_ratelimit_decisions_total",
                   {{"limiter", "search"}, {"decision", "allowed"}}),
            1.0);
  EXPECT_EQ(sample(text, "tiercache_ratelimit_decisions_total",
                   {{"limiter", "search"}, {"decision", "denied"}}),
            1.0);
  EXPECT_EQ(sample(text, "tiercache_ratelimit_redis_failures_total", {{"limiter", "search"}}), 0.0);
  collector.remove_breaker(breaker);
  collector.remove_limiter("search");
  client->stop();
}

TEST_F(CacheCollectorTest, OperationLatencyIsAHistogramInSeconds) {
  CacheCollector collector(registry_);
  auto& get = collector.operation_latency("flights", "get");
  EXPECT_EQ(&get, &collector.operation_latency("flights", "get"));
  get.observe(0.002);
  const std::string text = registry_.scrape();
  ASSERT_NO_THROW(metrics::testing::parse_text(text)) << text;
  EXPECT_EQ(sample(text, "tiercache_operation_duration_seconds_count",
                   {{"namespace", "flights"}, {"operation", "get"}}),
            1.0);
}

TEST_F(CacheCollectorTest, EveryExportedNameFollowsPrometheusConventions) {
  for (auto name : collector_metric_names()) {
    const std::string n(name);
    EXPECT_EQ(n.rfind("tiercache_", 0), 0u) << n;
    const bool unit = n.ends_with("_total") || n.ends_with("_bytes") || n.ends_with("_seconds") ||
                      n.ends_with("_entries") || n.ends_with("_state") || n.ends_with("_waiters");
    EXPECT_TRUE(unit) << n;
  }
  CacheCollector collector(registry_);
  EXPECT_THROW(CacheCollector second(registry_), std::invalid_argument);  // one per registry
}

TEST_F(CacheCollectorTest, HitRateViewResetsWhileExportedCountersKeepGrowing) {
  auto c = make("weather");
  CacheCollector collector(registry_);
  collector.add_cache(*c);
  HitRateView view(*c);
  ASSERT_TRUE(run(ex(), c->set("london", "rain")));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(ex(), c->get("london")));
  ASSERT_TRUE(run(ex(), c->get("nowhere")));
  auto counts = view.counts();
  EXPECT_EQ(counts.reads(), 4u);
  EXPECT_EQ(counts.hits(), 3u);
  EXPECT_DOUBLE_EQ(*counts.hit_ratio(), 0.75);

  const auto closed = view.reset();
  EXPECT_EQ(closed.reads(), 4u);
  EXPECT_EQ(view.counts().reads(), 0u);
  EXPECT_FALSE(view.counts().hit_ratio());  // nothing read since: no rate, not 0%
  ASSERT_TRUE(run(ex(), c->get("nowhere")));
  EXPECT_DOUBLE_EQ(*view.counts().hit_ratio(), 0.0);

  const std::string text = registry_.scrape();
  EXPECT_EQ(sample(text, "tiercache_cache_requests_total",
                   {{"namespace", "weather"}, {"tier", "l1"}, {"result", "hit"}}),
            3.0);  // monotonic: the view's reset is its own
  EXPECT_EQ(sample(text, "tiercache_cache_requests_total",
                   {{"namespace", "weather"}, {"tier", "l2"}, {"result", "miss"}}),
            2.0);
}

}  // namespace
}  // namespace tiercache::health
