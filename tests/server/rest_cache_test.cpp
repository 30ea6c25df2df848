// The single-key cache endpoints end to end: tiercached on loopback, a real redis-server, a
// real HTTP client.

#include "tests/server/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>
#include <string>

namespace tiercache::test {
namespace {

using V = http::verb;

// The value of one series ("name{labels}") in a Prometheus text exposition, if present.
std::optional<double> series_value(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

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

// An L1-off namespace's client tracks versions only (redis::Config::tracking_optin): another
// client's write of an entry it read pushes nothing to it, where an L1 namespace hears of it.
TEST_F(RestCacheTest, AnL1OffNamespaceIsNotToldOfEntryWrites) {
  const auto received = [&](const char* ns) {
    return HttpClient::json(c().request(V::get, "/v1/stats"))
        .at("namespaces")
        .at(ns)
        .at("invalidations_received")
        .to_number<std::uint64_t>();
  };
  for (const char* ns : {"users", "nol1"}) {
    const std::string path = std::string("/v1/cache/") + ns + "/k";
    ASSERT_EQ(c().request(V::put, path, "v").result(), http::status::no_content);
    ASSERT_EQ(c().request(V::get, path).body(), "v");
  }
  const auto users_before = received("users");
  const auto nol1_before = received("nol1");
  for (const char* ns : {"users", "nol1"}) {
    const std::string key = redis_.cli({"--scan", "--pattern", std::string(ns) + ":v*:k"});
    ASSERT_FALSE(key.empty()) << ns;
    ASSERT_EQ(redis_.cli({"SET", key, "foreign"}), "OK");
  }
  EXPECT_TRUE(eventually([&] { return received("users") > users_before; }));
  EXPECT_EQ(received("nol1"), nol1_before);
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

// A hit is written as text with the entry's bytes as its body (PrebuiltResponse): a binary
// value comes back whole, and the connection rules hold per HTTP version.
TEST_F(RestCacheTest, HitsCarryTheExactBytesAndHonourConnectionRules) {
  std::string value(5000, '\0');
  for (std::size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  ASSERT_EQ(c().request(V::put, "/v1/cache/users/bin", value).result(), http::status::no_content);
  auto hit = c().request(V::get, "/v1/cache/users/bin");
  ASSERT_EQ(hit.result(), http::status::ok);
  EXPECT_EQ(hit.body(), value);
  EXPECT_EQ(hit[http::field::content_length], "5000");
  EXPECT_EQ(hit[http::field::content_type], "application/octet-stream");
  EXPECT_FALSE(std::string(hit[http::field::etag]).empty());
  EXPECT_EQ(hit["X-Cache"], "HIT");
  EXPECT_TRUE(hit.keep_alive());
  hit = c().raw("GET /v1/cache/users/bin HTTP/1.0\r\nHost: t\r\n\r\n");
  EXPECT_EQ(hit.version(), 10u);
  EXPECT_EQ(hit.body(), value);
  EXPECT_TRUE(c().server_closed());
}

TEST_F(RestCacheTest, KeepAliveServesManyRequestsOnOneConnection) {
  for (int i = 0; i < 20; ++i) {
    auto r = c().request(V::put, "/v1/cache/users/k" + std::to_string(i), "v");
    EXPECT_EQ(r.result(), http::status::no_content);
    EXPECT_TRUE(r.keep_alive());
  }
  EXPECT_EQ(daemon_.daemon().http().connections(), 1u);
}

// Issue #5: each request is counted and timed once by route, with series resolved once per
// route and method and status; a cache read is timed unless L1 answered it (counted by the
// cache instead). A scripted sequence, then exact counts.
TEST_F(RestCacheTest, MetricsCountAScriptedSequenceExactly) {
  const std::string key_route = "/v1/cache/{ns}/{key}";
  ASSERT_EQ(c().request(V::put, "/v1/cache/users/k", "v").result(), http::status::no_content);
  for (int i = 0; i < 2; ++i) {  // L1 hits: written through
    auto r = c().request(V::get, "/v1/cache/users/k");
    ASSERT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r["X-Cache-Tier"], "l1");
  }
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/k/ttl").result(), http::status::ok);  // L1
  EXPECT_EQ(c().request(V::get, "/v1/cache/users/missing").result(), http::status::not_found);
  EXPECT_EQ(c().request(V::delete_, "/v1/cache/users/k").result(), http::status::ok);
  // nol1 has no L1: its read is a Redis hit, timed.
  ASSERT_EQ(c().request(V::put, "/v1/cache/nol1/t", "v").result(), http::status::no_content);
  auto l2 = c().request(V::get, "/v1/cache/nol1/t");
  ASSERT_EQ(l2.result(), http::status::ok);
  EXPECT_EQ(l2["X-Cache-Tier"], "l2");
  EXPECT_EQ(c().request(V::get, "/nope").result(), http::status::not_found);
  // PATCH has no counter slot of its own: looked up by label, counted the same.
  EXPECT_EQ(c().request(V::patch, "/v1/cache/users/k").result(), http::status::method_not_allowed);

  // The scrape answers before it is itself counted.
  const std::string m = c().request(V::get, "/metrics").body();
  const auto requests = [&](const std::string& method, const std::string& route,
                            const std::string& status) {
    return series_value(m, "tiercache_http_requests_total{method=\"" + method + "\",route=\"" +
                               route + "\",status=\"" + status + "\"}");
  };
  EXPECT_EQ(requests("PUT", key_route, "204"), 2.0) << m;
  EXPECT_EQ(requests("GET", key_route, "200"), 3.0) << m;
  EXPECT_EQ(requests("GET", key_route, "404"), 1.0) << m;
  EXPECT_EQ(requests("DELETE", key_route, "200"), 1.0) << m;
  EXPECT_EQ(requests("GET", key_route + "/ttl", "200"), 1.0) << m;
  EXPECT_EQ(requests("GET", "unmatched", "404"), 1.0) << m;
  EXPECT_EQ(requests("PATCH", "unmatched", "405"), 1.0) << m;
  EXPECT_EQ(requests("GET", "/metrics", "200"), std::nullopt) << m;
  const auto request_count = [&](const std::string& route) {
    return series_value(m,
                        "tiercache_http_request_duration_seconds_count{route=\"" + route + "\"}");
  };
  EXPECT_EQ(request_count(key_route), 7.0) << m;
  EXPECT_EQ(request_count(key_route + "/ttl"), 1.0) << m;
  EXPECT_EQ(request_count("unmatched"), 2.0) << m;
  // Timed operations: users' miss (not its two L1 hits nor its L1 ttl read), nol1's L2 hit.
  const auto operations = [&](const std::string& ns, const std::string& op) {
    return series_value(m, "tiercache_operation_duration_seconds_count{namespace=\"" + ns +
                               "\",operation=\"" + op + "\"}");
  };
  EXPECT_EQ(operations("users", "get"), 1.0) << m;
  EXPECT_EQ(operations("users", "set"), 1.0) << m;
  EXPECT_EQ(operations("users", "delete"), 1.0) << m;
  EXPECT_EQ(operations("nol1", "get"), 1.0) << m;
  EXPECT_EQ(operations("nol1", "set"), 1.0) << m;
  // The L1 hits are counted by the cache.
  EXPECT_EQ(series_value(m,
                         "tiercache_cache_requests_total{namespace=\"users\",tier=\"l1\","
                         "result=\"hit\"}"),
            3.0)
      << m;
  EXPECT_EQ(series_value(m,
                         "tiercache_cache_requests_total{namespace=\"nol1\",tier=\"l2\","
                         "result=\"hit\"}"),
            1.0)
      << m;

  // A second scrape counts the first, on the series resolved for its route.
  const std::string again = c().request(V::get, "/metrics").body();
  EXPECT_EQ(series_value(again,
                         "tiercache_http_requests_total{method=\"GET\",route=\"/"
                         "metrics\",status=\"200\"}"),
            1.0)
      << again;
  EXPECT_EQ(series_value(again, "tiercache_http_requests_total{method=\"GET\",route=\"" +
                                    key_route + "\",status=\"200\"}"),
            3.0);
}

}  // namespace
}  // namespace tiercache::test
