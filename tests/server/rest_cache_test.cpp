// The single-key cache endpoints end to end: tiercached on loopback, a real redis-server, a
// real HTTP client.

#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tiercache::test {
namespace {

using V = http::verb;

class RestCacheTest : public ::testing::Test {
 protected:
  RedisServer redis_;
  DaemonUnderTest daemon_{with_redis(redis_)};
  HttpClient& c() { return daemon_.client(); }
};

TEST_F(RestCacheTest, PutThenGetReturnsTheExactBytesAndContentType) {
  const std::string body("a\0b\xff\r\n{}", 9);
  auto put = c().request(V::put, "/v1/cache/users/42", body,
                         {{"Content-Type", "application/vnd.example+binary"}});
  EXPECT_EQ(put.result(), http::status::no_content);
  auto get = c().request(V::get, "/v1/cache/users/42");
  ASSERT_EQ(get.result(), http::status::ok) << get.body();
  EXPECT_EQ(get.body(), body);
  EXPECT_EQ(get[http::field::content_type], "application/vnd.example+binary");
  EXPECT_EQ(get["X-Cache"], "HIT");
  EXPECT_FALSE(get[http::field::etag].empty());
}

TEST_F(RestCacheTest, JsonIsStoredAsPlainBytesForLibraryReaders) {
  c().request(V::put, "/v1/cache/users/j", R"({"a":1})", {{"Content-Type", "application/json"}});
  auto get = c().request(V::get, "/v1/cache/users/j");
  EXPECT_EQ(get[http::field::content_type], "application/json");
  EXPECT_EQ(get.body(), R"({"a":1})");
  // No envelope in Redis: a C++ service reading this namespace sees the body itself.
  const auto keys = redis_.cli({"--scan", "--pattern", "users:*j"});
  ASSERT_FALSE(keys.empty());
  EXPECT_NE(redis_.cli({"GET", keys}).find(R"({"a":1})"), std::string::npos);
}

TEST_F(RestCacheTest, ValuesWithoutContentTypeComeBackAsOctetStream) {
  c().request(V::put, "/v1/cache/users/raw", "bytes");
  auto get = c().request(V::get, "/v1/cache/users/raw");
  EXPECT_EQ(get[http::field::content_type], "application/octet-stream");
  EXPECT_EQ(get.body(), "bytes");
}

TEST_F(RestCacheTest, IfNoneMatchWithTheCurrentEtagGives304) {
  c().request(V::put, "/v1/cache/users/e", "v1");
  const auto etag = std::string(c().request(V::get, "/v1/cache/users/e")[http::field::etag]);
  auto same = c().request(V::get, "/v1/cache/users/e", {}, {{"If-None-Match", etag}});
  EXPECT_EQ(same.result(), http::status::not_modified);
  EXPECT_TRUE(same.body().empty());
  c().request(V::put, "/v1/cache/users/e", "v2");
  auto changed = c().request(V::get, "/v1/cache/users/e", {}, {{"If-None-Match", etag}});
  EXPECT_EQ(changed.result(), http::status::ok);
  EXPECT_EQ(changed.body(), "v2");
  EXPECT_NE(changed[http::field::etag], etag);
}

TEST_F(RestCacheTest, MissingKeyIs404WithJsonError) {
  auto get = c().request(V::get, "/v1/cache/users/nothing");
  EXPECT_EQ(get.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(get), "key_not_found");
  EXPECT_EQ(get[http::field::content_type], "application/json");
}

TEST_F(RestCacheTest, DeleteRemovesTheValue) {
  c().request(V::put, "/v1/cache/users/d", "x");
  auto del = c().request(V::delete_, "/v1/cache/users/d");
  EXPECT_EQ(del.result(), http::status::ok);
  EXPECT_TRUE(HttpClient::json(del).at("deleted").as_bool());
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/d").result(), http::status::not_found);
  EXPECT_FALSE(
      HttpClient::json(c().request(V::delete_, "/v1/cache/users/d")).at("deleted").as_bool());
}

TEST_F(RestCacheTest, TtlFromQueryOrHeaderIsReportedByTheTtlEndpoint) {
  c().request(V::put, "/v1/cache/users/t?ttl=90s&grace=10s", "x");
  auto ttl = HttpClient::json(c().request(V::get, "/v1/cache/users/t/ttl"));
  EXPECT_GT(ttl.at("fresh_ms").as_int64(), 80'000);
  EXPECT_LE(ttl.at("fresh_ms").as_int64(), 90'000);
  EXPECT_GT(ttl.at("ttl_ms").as_int64(), 90'000);
  EXPECT_LE(ttl.at("ttl_ms").as_int64(), 100'000);
  c().request(V::put, "/v1/cache/users/h", "x", {{"X-Cache-TTL", "1h"}});
  auto h = HttpClient::json(c().request(V::get, "/v1/cache/users/h/ttl"));
  EXPECT_GT(h.at("fresh_ms").as_int64(), 3'500'000);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/none/ttl").result(), http::status::not_found);
}

TEST_F(RestCacheTest, KeysMayHoldEncodedSlashesAndSpaces) {
  c().request(V::put, "/v1/cache/users/a%2Fb%20c", "slash");
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/a%2Fb%20c").body(), "slash");
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/a/b%20c").result(), http::status::not_found);
}

TEST_F(RestCacheTest, TagsGivenOnPutInvalidateTogether) {
  c().request(V::put, "/v1/cache/users/p1?tag=city:paris", "1");
  c().request(V::put, "/v1/cache/users/p2", "2", {{"X-Cache-Tags", "city:paris, x"}});
  c().request(V::put, "/v1/cache/users/r1?tags=city:rome", "3");
  auto inv = c().request(V::post, "/v1/cache/users/invalidate", R"({"tags":["city:paris"]})");
  ASSERT_EQ(inv.result(), http::status::ok) << inv.body();
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/p1").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/p2").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/r1").result(), http::status::ok);
}

TEST_F(RestCacheTest, DependentEntriesGoWhenTheirSourceIsDeleted) {
  c().request(V::put, "/v1/cache/users/src", "s");
  c().request(V::put, "/v1/cache/users/derived?dependency=src", "d");
  c().request(V::delete_, "/v1/cache/users/src");
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/derived").result(), http::status::not_found);
}

TEST_F(RestCacheTest, PriorityIsAccepted) {
  EXPECT_EQ(c().request(V::put, "/v1/cache/users/pr?priority=high", "x").result(),
            http::status::no_content);
  EXPECT_EQ(c().request(V::put, "/v1/cache/users/pr", "x", {{"X-Cache-Priority", "low"}}).result(),
            http::status::no_content);
}

TEST_F(RestCacheTest, AnotherInstanceSeesWritesThroughRedis) {
  DaemonUnderTest other{with_redis(redis_)};
  c().request(V::put, "/v1/cache/users/shared", "one", {{"Content-Type", "text/plain"}});
  auto get = other.client().request(V::get, "/v1/cache/users/shared");
  EXPECT_EQ(get.body(), "one");
  EXPECT_EQ(get[http::field::content_type], "text/plain");
  EXPECT_EQ(get["X-Cache-Tier"], "l2");
}

TEST_F(RestCacheTest, UnknownNamespaceIs404) {
  auto get = c().request(V::get, "/v1/cache/nope/k");
  EXPECT_EQ(get.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(get), "namespace_not_found");
}

TEST_F(RestCacheTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto r = c().request(V::get, "/v2/whatever");
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(r), "route_not_found");
  auto m = c().request(V::post, "/v1/cache/users/k", "x");
  EXPECT_EQ(m.result(), http::status::method_not_allowed);
  EXPECT_EQ(HttpClient::error_code(m), "method_not_allowed");
  EXPECT_NE(std::string(m[http::field::allow]).find("GET"), std::string::npos);
}

TEST_F(RestCacheTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 20; ++i) {
    auto r = c().request(V::put, "/v1/cache/users/k" + std::to_string(i), "v");
    EXPECT_EQ(r.result(), http::status::no_content);
    EXPECT_TRUE(r.keep_alive());
  }
  EXPECT_EQ(daemon_.daemon().http().connections(), 1u);
}

}  // namespace
}  // namespace tiercache::test
