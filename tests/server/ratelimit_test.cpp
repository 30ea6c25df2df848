// POST /v1/ratelimit/{name}: 200 with RateLimit headers while under the limit, then 429 with
// Retry-After. GET /v1/ratelimit/{name}: the peek, which counts nothing and answers 200 even when
// the limit is spent.

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

TEST(RateLimitTest, PeekCountsNothingAndAnswersEvenWhenSpent) {
  RedisServer redis;
  Config c = with_redis(redis);
  c.rate_limits.push_back({.name = "search", .limit = 2, .window = std::chrono::minutes(1)});
  DaemonUnderTest d{c};
  // A fresh key: the whole limit is there, and peeking any number of times spends none of it.
  for (int i = 0; i < 5; ++i) {
    auto r = d.client().request(V::get, "/v1/ratelimit/search?key=p");
    ASSERT_EQ(r.result(), http::status::ok) << r.body();
    const auto body = HttpClient::json(r).as_object();
    EXPECT_TRUE(body.at("allowed").as_bool());
    EXPECT_EQ(body.at("limit").to_number<int>(), 2);
    EXPECT_EQ(body.at("remaining").to_number<int>(), 2);
    EXPECT_EQ(body.at("retry_after_s").to_number<int>(), 0);
    EXPECT_EQ(r["RateLimit-Limit"], "2");
    EXPECT_EQ(r["RateLimit-Remaining"], "2");
  }
  ASSERT_EQ(d.client().request(V::post, "/v1/ratelimit/search?key=p").result(), http::status::ok);
  auto one_left = d.client().request(V::get, "/v1/ratelimit/search?key=p");
  EXPECT_EQ(HttpClient::json(one_left).at("remaining").to_number<int>(), 1);
  // A cost above what is left: the peek says it would be refused, still with 200.
  auto too_much = d.client().request(V::get, "/v1/ratelimit/search?key=p&cost=2");
  ASSERT_EQ(too_much.result(), http::status::ok) << too_much.body();
  EXPECT_FALSE(HttpClient::json(too_much).at("allowed").as_bool());
  ASSERT_EQ(d.client().request(V::post, "/v1/ratelimit/search?key=p").result(), http::status::ok);
  // Spent: the peek answers 200 with allowed false, remaining 0, a retry delay and the reset.
  auto spent = d.client().request(V::get, "/v1/ratelimit/search?key=p");
  ASSERT_EQ(spent.result(), http::status::ok) << spent.body();
  const auto body = HttpClient::json(spent).as_object();
  EXPECT_FALSE(body.at("allowed").as_bool());
  EXPECT_EQ(body.at("remaining").to_number<int>(), 0);
  const auto retry = body.at("retry_after_s").to_number<int>();
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  const auto reset = body.at("reset_s").to_number<int>();
  EXPECT_GE(reset, 1);
  EXPECT_LE(reset, 60);
  EXPECT_EQ(spent["RateLimit-Remaining"], "0");
  EXPECT_EQ(spent["RateLimit-Reset"], std::to_string(reset));
  // The POST agrees: refused.
  EXPECT_EQ(d.client().request(V::post, "/v1/ratelimit/search?key=p").result(),
            http::status::too_many_requests);
  // The peek checks its arguments as the POST does.
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::get, "/v1/ratelimit/search?cost=0")),
            "invalid_argument");
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::get, "/v1/ratelimit/search?cost=3")),
            "invalid_argument");
  EXPECT_EQ(HttpClient::error_code(d.client().request(V::get, "/v1/ratelimit/other")),
            "ratelimit_not_found");
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
