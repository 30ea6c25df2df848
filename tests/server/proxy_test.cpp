// The caching proxy end to end: tiercached (in process) on a real redis-server in front of the
// demo upstream (a child process), over real HTTP on loopback: MISS -> HIT -> STALE -> refreshed,
// single flight counted at the upstream, key normalization, stale-if-error with the upstream
// failing and down, 502/504, the client's no-cache, the origin's Cache-Control, the upstream rate
// limit, pass-through of what is not cached, unsafe targets, invalidation, metrics, and L1 alone.

#include "tests/server/demo_upstream.hpp"
#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tiercache::test {
namespace {

using namespace std::chrono_literals;
using server::proxy::ParamRule;
using server::proxy::RouteConfig;

const std::string kToken = "proxy-test-admin-token";

Config proxy_config(const RedisServer* redis, const DemoUpstream& up) {
  Config c = test_config();
  c.admin_token = kToken;
  if (redis != nullptr) c.redis = redis->config();
  c.rate_limits.push_back({.name = "upstream", .limit = 2, .window = 10s});
  RouteConfig weather{.name = "weather",
                      .prefix = "/weather",
                      .upstream = up.url("/weather"),
                      .ns = "proxy.weather",
                      .data_type = "weather",
                      .ttl = 1s,
                      .stale_while_revalidate = 30s};
  weather.params = {ParamRule{"city", {.letter_case = cache::Case::lower}},
                    ParamRule{"request_id", {.ignored = true}}};
  c.proxy.routes.push_back(weather);
  c.proxy.routes.push_back({.name = "events",
                            .prefix = "/events",
                            .upstream = up.url("/events"),
                            .ns = "proxy.events",
                            .data_type = "events",
                            .ttl = 1h});
  c.proxy.routes.push_back({.name = "flights",
                            .prefix = "/flights",
                            .upstream = up.url("/flights"),
                            .ns = "proxy.flights",
                            .data_type = "flight_search",
                            .ttl = 1s,
                            .stale_while_revalidate = 0s,
                            .stale_if_error = 1h,
                            .timeout = 500ms});
  c.proxy.routes.push_back({.name = "origin",
                            .prefix = "/origin",
                            .upstream = up.url("/weather"),
                            .ns = "proxy.origin",
                            .data_type = "weather",
                            .ttl = 1s,
                            .respect_origin = true});
  c.proxy.routes.push_back({.name = "limited",
                            .prefix = "/limited",
                            .upstream = up.url("/events"),
                            .ns = "proxy.limited",
                            .data_type = "events",
                            .stale_while_revalidate = 0s,
                            .stale_if_error = 0s,
                            .rate_limit = "upstream",
                            .rate_limit_wait = 0ms});
  return c;
}

std::string x_cache(const HttpResponse& res) { return std::string(res[std::string("X-Cache")]); }

class ProxyTest : public ::testing::Test {
 protected:
  RedisServer redis_;
  DemoUpstream upstream_{20ms};
  DaemonUnderTest daemon_{proxy_config(&redis_, upstream_)};
  HttpClient& client() { return daemon_.client(); }
  HttpResponse get(const std::string& target,
                   const std::map<std::string, std::string>& headers = {}) {
    return client().request(http::verb::get, target, {}, headers);
  }
};

TEST_F(ProxyTest, AMissThenHitsThenStaleWhileOneRefreshRuns) {
  auto first = get("/weather?city=Paris");
  ASSERT_EQ(first.result(), http::status::ok) << first.body();
  EXPECT_EQ(x_cache(first), "MISS");
  EXPECT_EQ(first[http::field::content_type], "application/json");
  auto hit = get("/weather?city=Paris");
  EXPECT_EQ(x_cache(hit), "HIT");
  EXPECT_EQ(hit.body(), first.body());
  EXPECT_FALSE(hit[http::field::age].empty());
  EXPECT_EQ(upstream_.requests("/weather"), 1);

  std::this_thread::sleep_for(1200ms);  // past the 1 s TTL, inside the 30 s window
  auto stale = get("/weather?city=Paris");
  EXPECT_EQ(x_cache(stale), "STALE");
  EXPECT_EQ(stale.body(), first.body());
  // The one refresh lands; then hits carry the new answer.
  HttpResponse refreshed;
  for (int i = 0; i < 200; ++i) {
    refreshed = get("/weather?city=Paris");
    if (x_cache(refreshed) == "HIT" && refreshed.body() != first.body()) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(x_cache(refreshed), "HIT");
  EXPECT_NE(refreshed.body(), first.body());
  EXPECT_EQ(upstream_.requests("/weather"), 2);
}

TEST_F(ProxyTest, FiftyConcurrentMissesCallTheUpstreamOnce) {
  upstream_.set_delay(300ms);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      HttpClient c(daemon_.port());
      auto res = c.request(http::verb::get, "/events?location=Paris&date=2026-12-01");
      if (res.result() == http::status::ok) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(upstream_.requests("/events"), 1);
}

TEST_F(ProxyTest, EquivalentQueriesShareOneEntry) {
  ASSERT_EQ(x_cache(get("/weather?city=Paris&units=metric&request_id=1")), "MISS");
  EXPECT_EQ(x_cache(get("/weather?units=metric&city=PARIS&request_id=2")), "HIT");
  EXPECT_EQ(x_cache(get("/weather?city=paris&units=imperial")), "MISS");
  EXPECT_EQ(upstream_.requests("/weather"), 2);
}

TEST_F(ProxyTest, StaleIfErrorServesTheLastGoodAnswerWhileTheUpstreamFails) {
  auto good = get("/flights?origin=LHR&destination=JFK&date=2026-12-01");
  ASSERT_EQ(good.result(), http::status::ok) << good.body();
  upstream_.set_status(503);
  std::this_thread::sleep_for(1200ms);  // stale; no revalidate window: the caller waits, it fails
  auto stale = get("/flights?origin=LHR&destination=JFK&date=2026-12-01");
  EXPECT_EQ(stale.result(), http::status::ok);
  EXPECT_EQ(x_cache(stale), "STALE");
  EXPECT_EQ(stale.body(), good.body());
  auto nothing = get("/flights?origin=CDG&destination=JFK&date=2026-12-01");
  EXPECT_EQ(nothing.result(), http::status::bad_gateway);
  EXPECT_EQ(HttpClient::error_code(nothing), "upstream_error");
  EXPECT_NE(nothing.body().find("503"), std::string::npos) << nothing.body();
}

TEST_F(ProxyTest, ASlowUpstreamIs504AndAGoneOneIs502OrStale) {
  auto good = get("/flights?origin=LHR&destination=JFK&date=2026-12-01");
  ASSERT_EQ(good.result(), http::status::ok);
  upstream_.set_delay(2s);  // the route's timeout is 500 ms
  auto slow = get("/flights?origin=AMS&destination=JFK&date=2026-12-01");
  EXPECT_EQ(slow.result(), http::status::gateway_timeout);
  EXPECT_EQ(HttpClient::error_code(slow), "upstream_timeout");
  upstream_.stop();
  auto gone = get("/flights?origin=MAD&destination=JFK&date=2026-12-01");
  EXPECT_EQ(gone.result(), http::status::bad_gateway);
  EXPECT_EQ(HttpClient::error_code(gone), "upstream_failed");
  std::this_thread::sleep_for(1200ms);
  auto stale = get("/flights?origin=LHR&destination=JFK&date=2026-12-01");
  EXPECT_EQ(x_cache(stale), "STALE");
  EXPECT_EQ(stale.body(), good.body());
}

TEST_F(ProxyTest, ClientNoCacheBypassesAndRefreshesTheEntry) {
  auto first = get("/events?location=Rome&date=2026-12-01");
  ASSERT_EQ(x_cache(first), "MISS");
  auto bypass = get("/events?location=Rome&date=2026-12-01", {{"Cache-Control", "no-cache"}});
  EXPECT_EQ(x_cache(bypass), "BYPASS");
  EXPECT_NE(bypass.body(), first.body());  // a new upstream answer (its call number)
  auto hit = get("/events?location=Rome&date=2026-12-01");
  EXPECT_EQ(x_cache(hit), "HIT");
  EXPECT_EQ(hit.body(), bypass.body());
  EXPECT_EQ(upstream_.requests("/events"), 2);
}

TEST_F(ProxyTest, RespectingTheOriginKeepsItsMaxAgeOverTheRouteTtl) {
  ASSERT_EQ(x_cache(get("/origin?city=Oslo")), "MISS");
  std::this_thread::sleep_for(1200ms);  // past the route's 1 s, inside the origin's max-age=60
  EXPECT_EQ(x_cache(get("/origin?city=Oslo")), "HIT");
  ASSERT_EQ(x_cache(get("/weather?city=Oslo")), "MISS");  // the same answer, route TTL 1 s
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(x_cache(get("/weather?city=Oslo")), "STALE");
}

TEST_F(ProxyTest, TheUpstreamRateLimitAnswers429WithRetryAfter) {
  EXPECT_EQ(get("/limited?location=A&date=2026-12-01").result(), http::status::ok);
  EXPECT_EQ(get("/limited?location=B&date=2026-12-01").result(), http::status::ok);
  auto refused = get("/limited?location=C&date=2026-12-01");
  EXPECT_EQ(refused.result(), http::status::too_many_requests);
  EXPECT_EQ(HttpClient::error_code(refused), "upstream_rate_limited");
  EXPECT_FALSE(refused[http::field::retry_after].empty());
  EXPECT_EQ(x_cache(get("/limited?location=A&date=2026-12-01")), "HIT");  // hits cost nothing
  EXPECT_EQ(upstream_.requests("/events"), 2);
}

TEST_F(ProxyTest, UncacheableAnswersPassThroughUnstored) {
  auto bad = get("/events?date=2026-12-01");  // the upstream wants a location: 400
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_EQ(x_cache(bad), "MISS");
  EXPECT_EQ(get("/events?date=2026-12-01").result(), http::status::bad_request);
  EXPECT_EQ(upstream_.requests("/events"), 2);
}

TEST_F(ProxyTest, UnsafeTargetsAreRefusedBeforeTheUpstream) {
  for (const std::string target : {"/weather/../admin", "/weather/%2e%2e/admin",
                                   "/weather?city=a%00b", "/weather?__path=x", "/weather/a%01b"}) {
    auto res = get(target);
    EXPECT_EQ(res.result(), http::status::bad_request) << target;
    EXPECT_EQ(HttpClient::error_code(res), "bad_target") << target;
  }
  EXPECT_EQ(upstream_.requests("/weather"), 0);
}

TEST_F(ProxyTest, HeadIsAnsweredAsItsGetFromTheSameEntry) {
  auto head = client().request(http::verb::head, "/weather?city=Riga");
  ASSERT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(x_cache(head), "MISS");
  EXPECT_TRUE(head.body().empty());
  auto get = client().request(http::verb::get, "/weather?city=Riga");
  EXPECT_EQ(x_cache(get), "HIT");
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
  EXPECT_EQ(x_cache(client().request(http::verb::head, "/weather?city=Riga")), "HIT");
  EXPECT_EQ(upstream_.requests("/weather"), 1);
}

// A hit is written as text (PrebuiltResponse): the connection rules a Beast message follows
// hold for it too, per HTTP version and Connection header.
TEST_F(ProxyTest, HitsKeepOrCloseTheConnectionAsTheRequestAsks) {
  const auto miss = get("/weather?city=Oslo");
  ASSERT_EQ(x_cache(miss), "MISS");
  auto hit =
      client().raw("GET /weather?city=Oslo HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(x_cache(hit), "HIT");
  EXPECT_EQ(hit.version(), 10u);
  EXPECT_TRUE(hit.keep_alive());
  EXPECT_EQ(hit.body(), miss.body());
  EXPECT_EQ(hit[http::field::content_type], miss[http::field::content_type]);
  EXPECT_EQ(x_cache(get("/weather?city=Oslo")), "HIT");  // the same connection, still open
  hit = client().raw("GET /weather?city=Oslo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(x_cache(hit), "HIT");
  EXPECT_FALSE(hit.keep_alive());
  EXPECT_TRUE(client().server_closed());
  client().close();
  hit = client().raw("GET /weather?city=Oslo HTTP/1.0\r\nHost: t\r\n\r\n");
  EXPECT_EQ(x_cache(hit), "HIT");
  EXPECT_EQ(hit.body(), miss.body());
  EXPECT_TRUE(client().server_closed());
  EXPECT_EQ(upstream_.requests("/weather"), 1);
}

TEST_F(ProxyTest, OtherMethodsPassThroughUncached) {
  auto post = client().request(http::verb::post, "/weather?city=Paris", "{}",
                               {{"Content-Type", "application/json"}});
  EXPECT_EQ(x_cache(post), "BYPASS");
  EXPECT_NE(post.result(), http::status::ok);  // the demo answers GET only
  EXPECT_EQ(x_cache(get("/weather?city=Paris")), "MISS");
}

TEST_F(ProxyTest, InvalidatingTheRoutesNamespaceDropsItsResponses) {
  ASSERT_EQ(x_cache(get("/weather?city=Lima")), "MISS");
  ASSERT_EQ(x_cache(get("/weather?city=Lima")), "HIT");
  auto inv = client().request(http::verb::post, "/v1/cache/proxy.weather/invalidate",
                              R"({"all":true})", {{"Content-Type", "application/json"}});
  ASSERT_EQ(inv.result(), http::status::ok) << inv.body();
  EXPECT_EQ(x_cache(get("/weather?city=Lima")), "MISS");
}

TEST_F(ProxyTest, MetricsCountOutcomesByRoute) {
  get("/weather?city=Kyiv");
  get("/weather?city=Kyiv");
  const auto text = get("/metrics").body();
  EXPECT_NE(text.find(R"(tiercache_proxy_requests_total{route="weather",cache="MISS"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(tiercache_proxy_requests_total{route="weather",cache="HIT"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(tiercache_proxy_upstream_requests_total{route="weather",status="2xx"} 1)"),
            std::string::npos);
  EXPECT_NE(
      text.find(
          R"(tiercache_http_requests_total{method="GET",route="proxy:weather",status="200"} 2)"),
      std::string::npos);
}

TEST_F(ProxyTest, AdminWarmFetchesProxyPathsAndReadsKeys) {
  const std::map<std::string, std::string> admin{{"Authorization", "Bearer " + kToken},
                                                 {"Content-Type", "application/json"}};
  ASSERT_EQ(client().request(http::verb::put, "/v1/cache/users/k", "v").result(),
            http::status::no_content);
  auto res =
      client().request(http::verb::post, "/v1/admin/warm",
                       R"({"paths":["/weather?city=Bern","/events?location=Bern&date=2026-12-01",
                                           "/nowhere"],"namespace":"users","keys":["k","absent"]})",
                       admin);
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto body = HttpClient::json(res);
  EXPECT_EQ(body.at("warmed").to_number<int>(), 3) << res.body();
  const auto& results = body.at("results").as_array();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].at("cache").as_string(), "MISS");
  EXPECT_EQ(results[0].at("status").to_number<int>(), 200);
  EXPECT_TRUE(results[2].as_object().contains("error"));
  EXPECT_TRUE(results[3].at("hit").as_bool());
  EXPECT_FALSE(results[4].at("hit").as_bool());
  EXPECT_EQ(x_cache(get("/weather?city=Bern")), "HIT");
  EXPECT_EQ(x_cache(get("/events?location=Bern&date=2026-12-01")), "HIT");
  EXPECT_EQ(client()
                .request(http::verb::post, "/v1/admin/warm", R"({"paths":["/weather"]})",
                         {{"Content-Type", "application/json"}})
                .result(),
            http::status::unauthorized);
  EXPECT_EQ(
      client().request(http::verb::post, "/v1/admin/warm", R"({"paths":"x"})", admin).result(),
      http::status::bad_request);
}

TEST(ProxyWithoutRedisTest, ServesFromL1Alone) {
  DemoUpstream upstream(20ms);
  DaemonUnderTest daemon(proxy_config(nullptr, upstream));
  EXPECT_EQ(x_cache(daemon.client().request(http::verb::get, "/weather?city=Quito")), "MISS");
  EXPECT_EQ(x_cache(daemon.client().request(http::verb::get, "/weather?city=Quito")), "HIT");
  EXPECT_EQ(upstream.requests("/weather"), 1);
}

}  // namespace
}  // namespace tiercache::test
