// The caching proxy's pure parts: the [proxy] config (every error names its field and line), a
// route's prefix matching, target checks and keys, the stored-response encoding (round trip,
// corrupt bytes refused), and RFC 9111 freshness from response and request headers.

#include "server/config.hpp"
#include "server/proxy/freshness.hpp"
#include "server/proxy/route.hpp"
#include "server/proxy/stored_response.hpp"
#include "tests/support/paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tiercache::server::proxy {
namespace {

using namespace std::chrono_literals;

std::string config_error(const std::string& text) {
  try {
    load_config(text, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

Request get(const std::string& target) { return Request{http::verb::get, target, 11}; }

RouteRequest parsed(const Route& route, const Request& req) {
  auto r = route.parse(req);
  if (auto* e = std::get_if<ApiError>(&r)) ADD_FAILURE() << e->message;
  return std::get<RouteRequest>(r);
}

TEST(ProxyConfigTest, ReadsARouteWithItsDefaults) {
  const Config c = load_config(R"(
[ratelimits.api]
limit = 10
[proxy.routes.weather]
upstream = "https://api.example.com/v1/weather"
ttl = "10m"
stale_if_error = "2h"
cacheable_statuses = [200, 404]
key_headers = ["Accept-Language"]
upstream_headers = { X-Api-Key = "secret" }
rate_limit = "api"
[proxy.routes.weather.params]
city = { case = "lower" }
request_id = { ignore = true }
tags = { order = "set", default = "all" }
)",
                               "test.toml");
  ASSERT_EQ(c.proxy.routes.size(), 1u);
  const RouteConfig& r = c.proxy.routes[0];
  EXPECT_EQ(r.prefix, "/weather");
  EXPECT_EQ(r.ns, "proxy.weather");
  EXPECT_EQ(r.data_type, "weather");
  EXPECT_EQ(r.ttl, std::chrono::milliseconds(10min));
  EXPECT_EQ(r.stale_while_revalidate, 1min);
  EXPECT_EQ(r.stale_if_error, 2h);
  EXPECT_EQ(r.cacheable_statuses, (std::vector<unsigned>{200, 404}));
  EXPECT_EQ(r.key_headers, std::vector<std::string>{"accept-language"});
  EXPECT_EQ(r.upstream_headers.at("X-Api-Key"), "secret");
  ASSERT_EQ(r.params.size(), 3u);
  EXPECT_EQ(r.params[0].name, "city");
  EXPECT_EQ(r.params[0].rule.letter_case, cache::Case::lower);
  EXPECT_TRUE(r.params[1].rule.ignored);
  EXPECT_EQ(r.params[2].rule.order, cache::Order::set);
  EXPECT_EQ(r.params[2].rule.default_value, "all");
}

TEST(ProxyConfigTest, BadRoutesNameTheFieldAndTheLine) {
  struct Case {
    std::string text;
    std::string field;
    int line;
  };
  const Case cases[] = {
      {"[proxy.routes.a]\nprefix = \"/a\"\n", "proxy.routes.a.upstream", 1},
      {"[proxy.routes.a]\nupstream = \"ftp://h/x\"\n", "proxy.routes.a.upstream", 2},
      {"[proxy.routes.a]\nupstream = \"http://h/x?q=1\"\n", "proxy.routes.a.upstream", 2},
      {"[proxy.routes.a]\nupstream = \"http://h\"\nprefix = \"/v1/cache\"\n",
       "proxy.routes.a.prefix", 3},
      {"[proxy.routes.a]\nupstream = \"http://h\"\nprefix = \"nope\"\n", "proxy.routes.a.prefix",
       3},
      {"[proxy.routes.a]\nupstream = \"http://h\"\nttl = \"soon\"\n", "proxy.routes.a.ttl", 3},
      {"[proxy.routes.a]\nupstream = \"http://h\"\ncacheable_statuses = [500]\n",
       "proxy.routes.a.cacheable_statuses[]", 3},
      {"[proxy.routes.a]\nupstream = \"http://h\"\nttll = \"1m\"\n", "proxy.routes.a.ttll", 3},
      {"[proxy.routes.a]\nupstream = \"http://h\"\n[proxy.routes.a.params]\nx = { case = \"odd\" "
       "}\n",
       "proxy.routes.a.params.x.case", 4},
  };
  for (const auto& c : cases) {
    const auto e = config_error(c.text);
    EXPECT_NE(e.find("test.toml:" + std::to_string(c.line) + ":"), std::string::npos) << e;
    EXPECT_NE(e.find(c.field), std::string::npos) << e;
  }
  EXPECT_NE(config_error("[proxy.routes.a]\nupstream = \"http://h\"\nrate_limit = \"none\"\n")
                .find("proxy.routes.a.rate_limit"),
            std::string::npos);
}

TEST(ProxyConfigTest, TheDemoConfigLoads) {
  const Config c = load_config_file((test::source_dir() / "examples" / "proxy-demo.toml").string());
  ASSERT_EQ(c.proxy.routes.size(), 3u);
  const auto flights = std::find_if(c.proxy.routes.begin(), c.proxy.routes.end(),
                                    [](const RouteConfig& r) { return r.name == "flights"; });
  ASSERT_NE(flights, c.proxy.routes.end());
  EXPECT_EQ(flights->data_type, "flight_search");
  EXPECT_EQ(flights->rate_limit, "demo_api");
  EXPECT_EQ(flights->date_param, "date");
}

TEST(ProxyRouteTest, TakesItsPrefixAndWhatIsBelowIt) {
  const Route route(RouteConfig{.name = "w", .prefix = "/weather", .upstream = "http://h"});
  EXPECT_TRUE(route.takes("/weather"));
  EXPECT_TRUE(route.takes("/weather/today"));
  EXPECT_FALSE(route.takes("/weatherman"));
  EXPECT_FALSE(route.takes("/"));
}

TEST(ProxyRouteTest, KeysNormalizeTheQueryAndShowThePath) {
  RouteConfig cfg{.name = "w", .prefix = "/weather", .upstream = "http://h"};
  cfg.params = {ParamRule{"city", {.letter_case = cache::Case::lower}},
                ParamRule{"trace", {.ignored = true}}};
  const Route route(cfg);
  const auto key = [&](const std::string& target) {
    const auto req = get(target);
    return route.key_for(parsed(route, req), req).value();
  };
  EXPECT_EQ(key("/weather/today?city=Paris&units=c&trace=1"),
            key("/weather/today?units=c&city=PARIS&trace=2"));
  EXPECT_NE(key("/weather/today?city=Paris"), key("/weather/tomorrow?city=Paris"));
  EXPECT_NE(key("/weather?city=Paris&units=c"), key("/weather?city=Paris&units=f"));
  EXPECT_TRUE(key("/weather/today?city=Paris").starts_with("GET:/today:")) << key("/weather/today");
  EXPECT_EQ(key("/weather"), "GET:/");
}

TEST(ProxyRouteTest, KeyHeadersSplitTheKeyAndUnlistedParamsCanBeIgnored) {
  RouteConfig cfg{.name = "w", .prefix = "/w", .upstream = "http://h"};
  cfg.key_headers = {"accept-language"};
  cfg.params = {ParamRule{"city", {}}};
  cfg.ignore_unlisted_params = true;
  const Route route(cfg);
  auto en = get("/w?city=a&session=1");
  en.set(http::field::accept_language, "en");
  auto fr = get("/w?city=a&session=2");
  fr.set(http::field::accept_language, "fr");
  auto en2 = get("/w?city=a&session=3");
  en2.set(http::field::accept_language, "en");
  const auto k = [&](const Request& r) { return route.key_for(parsed(route, r), r).value(); };
  EXPECT_NE(k(en), k(fr));
  EXPECT_EQ(k(en), k(en2));
}

TEST(ProxyRouteTest, UnsafeTargetsAreRefused) {
  const Route route(RouteConfig{.name = "w", .prefix = "/w", .upstream = "http://h"});
  for (const std::string target :
       {"/w/../x", "/w/%2E%2E/x", "/w/./x", "/w?a=%0a", "/w?__x=1", "/x/y", "//w"}) {
    EXPECT_TRUE(std::holds_alternative<ApiError>(route.parse(get(target)))) << target;
  }
}

TEST(ProxyRouteTest, TheUpstreamRequestKeepsPathQueryAndChosenHeaders) {
  RouteConfig cfg{.name = "w", .prefix = "/w", .upstream = "http://h/api"};
  cfg.upstream_headers = {{"X-Api-Key", "k"}};
  const Route route(cfg);
  auto req = get("/w/a%20b?x=1&y=%2F");
  req.set(http::field::accept, "application/json");
  req.set(http::field::authorization, "Bearer client");
  req.set(http::field::cookie, "c=1");
  const auto up = route.upstream_request(parsed(route, req), req);
  EXPECT_EQ(up.target(), "/a%20b?x=1&y=%2F");
  EXPECT_EQ(up[http::field::accept], "application/json");
  EXPECT_EQ(up["X-Api-Key"], "k");
  EXPECT_TRUE(up[http::field::authorization].empty());
  EXPECT_TRUE(up[http::field::cookie].empty());
}

TEST(StoredResponseTest, RoundTripsStatusKeptHeadersAndBody) {
  Response res{http::status::not_found, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::etag, "\"v1\"");
  res.set(http::field::age, "30");
  res.set(http::field::set_cookie, "secret=1");
  res.set(http::field::connection, "close");
  res.body() = std::string("{\"a\":1}\0binary", 14);
  const auto bytes = encode_response(keep_for_cache(res));
  const auto back = decode_response(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 404u);
  EXPECT_EQ(back->upstream_age, 30u);
  EXPECT_EQ(back->body, res.body());
  ASSERT_EQ(back->headers.size(), 2u);  // no Set-Cookie, no Connection
  EXPECT_EQ(back->headers[0].first, "Content-Type");
  EXPECT_EQ(back->headers[1].second, "\"v1\"");
}

TEST(StoredResponseTest, CorruptBytesAreRefused) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain");
  const auto bytes = encode_response(keep_for_cache(res));
  EXPECT_FALSE(decode_response(""));
  EXPECT_FALSE(decode_response("plain value"));
  for (std::size_t n = 0; n + 1 < bytes.size(); ++n) {
    const auto cut = decode_response(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(cut && !cut->headers.empty()) << n;  // a header cut short is never read
  }
}

Response with_headers(std::initializer_list<std::pair<http::field, std::string>> headers) {
  Response res{http::status::ok, 11};
  for (const auto& [name, value] : headers) res.insert(name, value);
  return res;
}

TEST(FreshnessTest, SharedMaxAgeWinsOverMaxAgeAndAgeIsTakenOff) {
  const auto now = std::chrono::system_clock::now();
  auto f = origin_freshness(
      with_headers({{http::field::cache_control, "public, max-age=60, s-maxage=120"},
                    {http::field::age, "20"}}),
      now);
  EXPECT_TRUE(f.storable);
  EXPECT_EQ(f.fresh, std::chrono::milliseconds(100s));
  f = origin_freshness(with_headers({{http::field::cache_control, "max-age=60"},
                                     {http::field::cache_control,
                                      "stale-while-revalidate=30, stale-if-error=\"600\""}}),
                       now);
  EXPECT_EQ(f.fresh, std::chrono::milliseconds(60s));
  EXPECT_EQ(f.stale_while_revalidate, std::chrono::milliseconds(30s));
  EXPECT_EQ(f.stale_if_error, std::chrono::milliseconds(600s));
}

TEST(FreshnessTest, NoStorePrivateNoCacheAndStaleOnArrivalAreNotStored) {
  const auto now = std::chrono::system_clock::now();
  for (const std::string cc :
       {"no-store", "private, max-age=60", "no-cache", "max-age=0", "max-age=oops", "NO-STORE"}) {
    EXPECT_FALSE(origin_freshness(with_headers({{http::field::cache_control, cc}}), now).storable)
        << cc;
  }
  EXPECT_FALSE(
      origin_freshness(
          with_headers({{http::field::cache_control, "max-age=10"}, {http::field::age, "10"}}), now)
          .storable);
}

TEST(FreshnessTest, ExpiresCountsFromDateAndNothingSaidLeavesItToTheRoute) {
  const auto f =
      origin_freshness(with_headers({{http::field::date, "Sun, 06 Nov 1994 08:49:37 GMT"},
                                     {http::field::expires, "Sun, 06 Nov 1994 08:59:37 GMT"}}),
                       std::chrono::system_clock::now());
  EXPECT_EQ(f.fresh, std::chrono::milliseconds(10min));
  EXPECT_FALSE(origin_freshness(with_headers({{http::field::expires, "0"}}),
                                std::chrono::system_clock::now())
                   .storable);
  const auto silent = origin_freshness(with_headers({}), std::chrono::system_clock::now());
  EXPECT_TRUE(silent.storable);
  EXPECT_FALSE(silent.fresh);
}

TEST(FreshnessTest, TheClientMayAskToBypass) {
  auto req = get("/");
  EXPECT_FALSE(client_bypasses_cache(req));
  req.set(http::field::cache_control, "no-cache");
  EXPECT_TRUE(client_bypasses_cache(req));
  req.set(http::field::cache_control, "max-age=0");
  EXPECT_TRUE(client_bypasses_cache(req));
  req.set(http::field::cache_control, "max-age=10");
  EXPECT_FALSE(client_bypasses_cache(req));
  req.set(http::field::pragma, "no-cache");
  EXPECT_TRUE(client_bypasses_cache(req));
}

}  // namespace
}  // namespace tiercache::server::proxy
