// POST /v1/ratelimit/{name}: 200 with RateLimit headers while under the limit, then 429 with
// Retry-After.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

using V = http::verb;

TEST(RateLimitTest, AdmitsTheLimitThenRefusesWithRetryAfter) {
  RedisServer redis;
  Config c = with_redis(redis);
  c.rate_limits.push_back({.name = "search", .limit = 3, .window = std::chrono::minutes(1)});
  DaemonUnderTest d{c};
  for (int i = 0; i < 3; ++i) {
    auto r = d.client().request(V::post, "/v1/ratelimit/search?key=tenant1");
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    EXPECT_EQ(r["RateLimit-Limit"], "3");
    EXPECT_EQ(r["RateLimit-Remaining"], std::to_string(2 - i));
  }
  auto refused = d.client().request(V::post, "/v1/ratelimit/search?key=tenant1");
  EXPECT_EQ(refused.result(), http::status::too_many_requests);
  EXPECT_EQ(HttpClient::error_code(refused), "rate_limited");
  const int retry = std::stoi(std::string(refused[http::field::retry_after]));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  // Another key has its own budget.
  EXPECT_EQ(d.client().request(V::post, "/v1/ratelimit/search?key=tenant2").result(),
            http::status::ok);
  // A cost above what is left is refused; one above the whole limit is an error.
  EXPECT_EQ(d.client().request(V::post, "/v1/ratelimit/search?key=tenant2&cost=3").result(),
            http::status::too_many_requests);
  EXPECT_EQ(HttpClient::error_code(
                d.client().request(V::post, "/v1/ratelimit/search?key=tenant2&cost=4")),
            "invalid_argument");
}

TEST(RateLimitTest, UnknownLimitsAndBadArgumentsAreRefused) {
  RedisServer redis;
  Config c = with_redis(redis);
  c.rate_limits.push_back({.name = "search"});
  DaemonUnderTest d{c};
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::post, "/v1/ratelimit/other")),
            "ratelimit_not_found");
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::post, "/v1/ratelimit/search?cost=0")),
            "invalid_argument");
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::post, "/v1/ratelimit/search?cost=-1")),
            "invalid_argument");
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::post, "/v1/ratelimit/search?foo=1")),
            "unknown_parameter");
}

}  // namespace
}  // namespace tiercache::test
