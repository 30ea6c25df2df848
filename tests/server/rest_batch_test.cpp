// Batches, invalidation, stats, metrics, health and the OpenAPI document, end to end.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

using V = http::verb;

class RestBatchTest : public ::testing::Test {
 protected:
  RedisServer redis_;
  DaemonUnderTest daemon_{with_redis(redis_)};
  HttpClient& c() { return daemon_.client(); }
};

TEST_F(RestBatchTest, BatchSetThenBatchGetRoundTripsTextAndBinary) {
  auto set = c().request(V::post, "/v1/cache/users/batch/set", R"({
      "items": [
        {"key": "a", "value": "alpha", "content_type": "text/plain"},
        {"key": "b", "value_base64": "AP8=", "content_type": "application/octet-stream"},
        {"key": "c", "value": "{\"x\":1}", "content_type": "application/json"}
      ],
      "ttl": "10m", "tags": ["batch"]})");
  ASSERT_EQ(set.result(), http::status::ok) << set.body();
  EXPECT_EQ(HttpClient::json(set).at("written").as_int64(), 3);
  auto get = c().request(V::post, "/v1/cache/users/batch/get", R"({"keys":["a","b","c","z"]})");
  ASSERT_EQ(get.result(), http::status::ok) << get.body();
  const auto results = HttpClient::json(get).at("results").as_array();
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].at("value").as_string(), "alpha");
  EXPECT_EQ(results[0].at("content_type").as_string(), "text/plain");
  EXPECT_EQ(results[1].at("value_base64").as_string(), "AP8=");
  EXPECT_EQ(results[2].at("value").as_string(), "{\"x\":1}");
  EXPECT_EQ(results[2].at("content_type").as_string(), "application/json");
  EXPECT_FALSE(results[3].at("hit").as_bool());
  // The single-key endpoint reads batch-written values the same way.
  auto single = c().request(V::get, "/v1/cache/users/c");
  EXPECT_EQ(single.body(), "{\"x\":1}");
  EXPECT_EQ(single[http::field::content_type], "application/json");
}

TEST_F(RestBatchTest, InvalidateByKeysPatternAndNamespace) {
  for (const char* k : {"k1", "k2", "city:paris:1", "city:paris:2", "city:rome:1"}) {
    c().request(V::put, std::string("/v1/cache/users/") + k, "v");
  }
  auto keys = c().request(V::post, "/v1/cache/users/invalidate", R"({"keys":["k1","nope"]})");
  ASSERT_EQ(keys.result(), http::status::ok) << keys.body();
  EXPECT_EQ(HttpClient::json(keys).at("keys_deleted").as_int64(), 1);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/k1").result(), http::status::not_found);

  auto pattern =
      c().request(V::post, "/v1/cache/users/invalidate", R"({"pattern":"city:paris:*"})");
  ASSERT_EQ(pattern.result(), http::status::ok) << pattern.body();
  EXPECT_EQ(HttpClient::json(pattern).at("pattern_removed").as_int64(), 2);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/city:paris:1").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/city:rome:1").result(), http::status::ok);

  auto all = c().request(V::post, "/v1/cache/users/invalidate", R"({"all":true})");
  ASSERT_EQ(all.result(), http::status::ok) << all.body();
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/k2").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/city:rome:1").result(), http::status::not_found);
}

TEST_F(RestBatchTest, StatsCountHitsAndMissesPerNamespace) {
  c().request(V::put, "/v1/cache/users/s", "v");
  c().request(V::get, "/v1/cache/users/s");
  c().request(V::get, "/v1/cache/users/s");
  c().request(V::get, "/v1/cache/users/missing");
  auto stats = HttpClient::json(c().request(V::get, "/v1/stats"));
  const auto& users = stats.at("namespaces").at("users");
  EXPECT_EQ(users.at("hits").as_int64(), 2);
  EXPECT_EQ(users.at("hits_l1").as_int64(), 2);
  EXPECT_EQ(users.at("misses").as_int64(), 1);
  EXPECT_EQ(users.at("errors").as_int64(), 0);
  EXPECT_NEAR(users.at("hit_rate").as_double(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(stats.at("hits").as_int64(), 2);
  EXPECT_EQ(stats.at("mode").as_string(), "two_tier");
  // Redis answers: every namespace's breaker is closed, nothing is degraded.
  EXPECT_FALSE(stats.at("degraded").as_bool());
  EXPECT_EQ(users.at("breaker").as_string(), "closed");
  EXPECT_FALSE(users.at("degraded").as_bool());
}

TEST_F(RestBatchTest, MetricsArePrometheusText) {
  c().request(V::get, "/v1/cache/users/missing");
  auto m = c().request(V::get, "/metrics");
  ASSERT_EQ(m.result(), http::status::ok);
  EXPECT_EQ(m[http::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body().find("tiercache_http_requests_total{method=\"GET\",route=\"/v1/cache/{ns}/"
                          "{key}\",status=\"404\"} 1"),
            std::string::npos)
      << m.body();
  EXPECT_NE(m.body().find("tiercache_cache_requests_total{namespace=\"users\",tier=\"l2\","
                          "result=\"miss\"} 1"),
            std::string::npos)
      << m.body();
  EXPECT_NE(m.body().find("tiercache_operation_duration_seconds_count{namespace=\"users\","
                          "operation=\"get\"} 1"),
            std::string::npos);
}

TEST_F(RestBatchTest, HealthzAndReadyzSayRedisIsConnected) {
  auto h = c().request(V::get, "/healthz");
  EXPECT_EQ(h.result(), http::status::ok);
  EXPECT_EQ(HttpClient::json(h).at("status").as_string(), "ok");
  auto r = c().request(V::get, "/readyz");
  EXPECT_EQ(r.result(), http::status::ok);
  const auto body = HttpClient::json(r);
  EXPECT_EQ(body.at("mode").as_string(), "two_tier");
  EXPECT_EQ(body.at("redis").as_string(), "connected");
}

TEST_F(RestBatchTest, HealthAssessesRedisAndTheNamespaces) {
  auto r = c().request(V::get, "/v1/health");
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  const auto body = HttpClient::json(r);
  EXPECT_EQ(body.at("mode").as_string(), "two_tier");
  EXPECT_EQ(body.at("health").at("status").as_string(), "healthy") << r.body();
  EXPECT_TRUE(body.at("redis").at("reachable").as_bool());
  EXPECT_GT(body.at("memory_used").to_number<std::int64_t>(), 0);
  bool watched = false;  // the listed namespaces are watched
  for (const auto& cache : body.at("caches").as_array()) {
    watched = watched || cache.at("namespace").as_string() == "users";
  }
  EXPECT_TRUE(watched) << r.body();
}

TEST_F(RestBatchTest, ReadyzReportsRedisDownButStaysReady) {
  redis_.pause();
  auto r = c().request(V::get, "/readyz");
  redis_.resume();
  EXPECT_EQ(r.result(), http::status::ok);
  EXPECT_EQ(HttpClient::json(r).at("redis").as_string(), "down");
  EXPECT_TRUE(HttpClient::json(r).at("degraded").as_bool());
}

TEST_F(RestBatchTest, OpenApiDocumentIsServed) {
  auto r = c().request(V::get, "/openapi.json");
  ASSERT_EQ(r.result(), http::status::ok);
  const auto doc = HttpClient::json(r);
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
  EXPECT_TRUE(doc.at("paths").as_object().contains("/v1/cache/{namespace}/{key}"));
}

}  // namespace
}  // namespace tiercache::test
