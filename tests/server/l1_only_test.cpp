// The embedded mode: no Redis configured, or none reachable at start: tiercached serves from L1
// alone and says so in /readyz and /v1/stats.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

using V = http::verb;

TEST(L1OnlyTest, WithoutRedisItServesFromL1AndSaysSo) {
  DaemonUnderTest d{test_config()};
  EXPECT_TRUE(d.daemon().l1_only());
  auto ready = d.client().request(V::get, "/readyz");
  EXPECT_EQ(ready.result(), http::status::ok);
  EXPECT_EQ(HttpClient::json(ready).at("mode").as_string(), "l1_only");
  EXPECT_EQ(HttpClient::json(ready).at("redis").as_string(), "not_configured");
  EXPECT_FALSE(HttpClient::json(ready).at("degraded").as_bool());

  EXPECT_EQ(d.client()
                .request(V::put, "/v1/cache/users/k?ttl=1m", "v", {{"Content-Type", "text/plain"}})
                .result(),
            http::status::no_content);
  auto get = d.client().request(V::get, "/v1/cache/users/k");
  EXPECT_EQ(get.body(), "v");
  EXPECT_EQ(get[http::field::content_type], "text/plain");
  const auto etag = std::string(get[http::field::etag]);
  EXPECT_FALSE(etag.empty());
  EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/k", {}, {{"If-None-Match", etag}}).result(),
            http::status::not_modified);
  EXPECT_EQ(HttpClient::json(d.client().request(V::get, "/v1/stats")).at("mode").as_string(),
            "l1_only");
  const auto health = HttpClient::json(d.client().request(V::get, "/v1/health"));
  EXPECT_EQ(health.at("mode").as_string(), "l1_only");
  EXPECT_EQ(health.at("health").at("status").as_string(), "degraded");
}

TEST(L1OnlyTest, UnreachableRedisAtStartMeansL1Only) {
  Config c = test_config();
  redis::Config rc;
  rc.port = free_port();  // nothing listens there
  rc.connect_timeout = std::chrono::milliseconds(300);
  rc.request_timeout = std::chrono::milliseconds(300);
  c.redis = rc;
  DaemonUnderTest d{c};
  EXPECT_EQ(d.daemon().redis_mode(), server::RedisMode::unreachable);
  auto ready = HttpClient::json(d.client().request(V::get, "/readyz"));
  EXPECT_EQ(ready.at("mode").as_string(), "l1_only");
  EXPECT_EQ(ready.at("redis").as_string(), "unreachable");
  EXPECT_TRUE(ready.at("degraded").as_bool());
  EXPECT_EQ(d.client().request(V::put, "/v1/cache/users/k", "v").result(),
            http::status::no_content);
  EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/k").body(), "v");
}

TEST(L1OnlyTest, RateLimitsNeedRedis) {
  Config c = test_config();
  c.rate_limits.push_back({.name = "search"});
  DaemonUnderTest d{c};
  auto r = d.client().request(V::post, "/v1/ratelimit/search");
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_EQ(HttpClient::error_code(r), "ratelimit_unavailable");
}

TEST(L1OnlyTest, UnlistedNamespacesAreCreatedWhenAllowed) {
  Config c = test_config();
  c.allow_unlisted_namespaces = true;
  c.max_namespaces = 3;
  DaemonUnderTest d{c};
  EXPECT_EQ(d.client().request(V::put, "/v1/cache/fresh/k", "v").result(),
            http::status::no_content);
  EXPECT_EQ(d.client().request(V::get, "/v1/cache/fresh/k").body(), "v");
  auto full = d.client().request(V::put, "/v1/cache/another/k", "v");
  EXPECT_EQ(full.result(), http::status::service_unavailable);
  EXPECT_EQ(HttpClient::error_code(full), "too_many_namespaces");
  auto bad = d.client().request(V::put, "/v1/cache/bad%20name/k", "v");
  EXPECT_EQ(bad.result(), http::status::not_found);
}

}  // namespace
}  // namespace tiercache::test
