// The daemon's circuit breakers (issue #5, docs/decisions/0017-daemon-breaker.md): a real
// tiercached process on a real redis-server that the test kills (SIGKILL, by its pid) and
// restarts on the same port. While Redis is gone a warm key is still served (flagged degraded),
// the breaker shows open in /v1/health (with the assessment's reason) and on /metrics, and a
// write fails at once with the API's 503 instead of waiting out request_timeout; once Redis is
// back the breaker closes by itself and writes work again, without a restart. Also: the
// [redis.breaker] table's validation (errors name the field and its line).
//
// The daemon runs with request_timeout = 5 s (in its Redis URL), so "at once" is checked loosely:
// under 4 s. No other timing is asserted; every wait is bounded.

#include "server/config.hpp"
#include "tests/server/http_client.hpp"
#include "tests/server/tiercached_process.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace tiercache::test {
namespace {

namespace json = boost::json;
using V = http::verb;
using std::chrono::steady_clock;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// The value of one series in a Prometheus text exposition ("name{labels}"), if present.
std::optional<double> series_value(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

// The state /v1/health reports for the breaker named `endpoint`, or "" when it lists none.
std::string breaker_in(const json::value& health, const std::string& endpoint) {
  for (const auto& b : health.at("breakers").as_array()) {
    if (b.at("endpoint").as_string() == endpoint) return std::string(b.at("state").as_string());
  }
  return "";
}

bool has_reason(const json::value& health, std::string_view code) {
  for (const auto& r : health.at("health").at("reasons").as_array()) {
    if (r.at("code").as_string() == code) return true;
  }
  return false;
}

constexpr const char* kConfig = R"([server]
access_log = "off"

[namespaces.bk]
default_ttl = "10m"

[ratelimits.api]
limit = 100
window = "1s"

[redis.breaker]
# Short cool-downs keep the test's waits short; the rest are the defaults.
open_duration = "2s"
max_open_duration = "4s"
)";

TEST(BreakerTest, RedisGoneOpensTheBreakerAndItClosesByItselfWhenRedisIsBack) {
  RedisServer redis;
  TiercachedProcess d("breaker", kConfig, redis.url() + "?request_timeout=5s");
  HttpClient c(d.port());
  const std::string where = "@127.0.0.1:" + std::to_string(redis.port());
  const std::string ns_breaker = "namespace:bk" + where;
  const auto state_series = [](const std::string& endpoint) {
    return "tiercache_circuit_breaker_state{endpoint=\"" + endpoint + "\"}";
  };
  const auto metrics = [&] { return c.request(V::get, "/metrics").body(); };

  // Every client that serves traffic is guarded, named by what uses it and where, and closed.
  {
    const std::string m = metrics();
    EXPECT_EQ(series_value(m, state_series(ns_breaker)), 0.0) << m;
    EXPECT_EQ(series_value(m, state_series("ratelimits" + where)), 0.0) << m;
    EXPECT_EQ(series_value(m, state_series("calendar" + where)), 0.0) << m;
  }

  // A warm key: written through, so it is in L1.
  auto put = c.request(V::put, "/v1/cache/bk/warm", "hello", {{"Content-Type", "text/plain"}});
  ASSERT_EQ(put.result(), http::status::no_content) << put.body();
  auto get = c.request(V::get, "/v1/cache/bk/warm");
  ASSERT_EQ(get.result(), http::status::ok) << get.body();
  EXPECT_EQ(get.body(), "hello");

  redis.stop();  // SIGKILL: a crash

  // Misses need Redis: each fails (503) and counts; the window opens the breaker.
  int miss = 0;
  const bool opened = eventually(
      [&] {
        auto r = c.request(V::get, "/v1/cache/bk/cold-" + std::to_string(miss++));
        EXPECT_EQ(r.result(), http::status::service_unavailable) << r.body();
        EXPECT_EQ(HttpClient::error_code(r), "redis_unavailable") << r.body();
        return series_value(metrics(), state_series(ns_breaker)) == 1.0;
      },
      15s, 100ms);
  ASSERT_TRUE(opened) << metrics() << "\n" << d.log();

  // Open: the warm key is still served, from L1, flagged degraded.
  get = c.request(V::get, "/v1/cache/bk/warm");
  EXPECT_EQ(get.result(), http::status::ok) << get.body();
  EXPECT_EQ(get.body(), "hello");
  EXPECT_EQ(get["X-Cache-Degraded"], "true");
  EXPECT_EQ(get["X-Cache-Tier"], "l1");

  // A write fails at once with the API's error shape, naming the breaker.
  const auto start = steady_clock::now();
  put = c.request(V::put, "/v1/cache/bk/new", "x");
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(put.result(), http::status::service_unavailable) << put.body();
  EXPECT_EQ(HttpClient::error_code(put), "redis_unavailable") << put.body();
  EXPECT_THAT(put.body(), HasSubstr("circuit breaker " + ns_breaker)) << put.body();
  EXPECT_LT(took, 4s) << "request_timeout is 5 s: the breaker should answer well before it";

  // /metrics counts the refusals; the transition went into the log at warn.
  const std::string m = metrics();
  const auto rejected =
      series_value(m, "tiercache_circuit_breaker_rejected_total{endpoint=\"" + ns_breaker + "\"}");
  ASSERT_TRUE(rejected.has_value()) << m;
  EXPECT_GT(*rejected, 0.0);
  EXPECT_THAT(d.log(), HasSubstr("[warning] redis " + ns_breaker +
                                 ": circuit breaker closed -> open (failure rate)"));

  // /v1/health lists the breaker open and assesses it (the probe may be up to 5 s old: polled).
  json::value health;
  const bool seen = eventually(
      [&] {
        health = HttpClient::json(c.request(V::get, "/v1/health"));
        const std::string state = breaker_in(health, ns_breaker);
        return (state == "open" || state == "half_open") && has_reason(health, "breaker_open");
      },
      15s, 100ms);
  ASSERT_TRUE(seen) << json::serialize(health);
  EXPECT_NE(health.at("health").at("status").as_string(), "healthy");
  // The dashboard's breaker panel reads the same report.
  const auto dash = HttpClient::json(c.request(V::get, "/v1/dashboard"));
  EXPECT_NE(breaker_in(dash.at("health"), ns_breaker), "") << json::serialize(dash.at("health"));
  EXPECT_NE(breaker_in(dash.at("health"), "ratelimits" + where), "");

  redis.restart();  // the same port

  // The breaker's probes find Redis again: closed by itself, writes work, two tiers again.
  const bool closed = eventually(
      [&] {
        return series_value(metrics(), state_series(ns_breaker)) == 0.0 &&
               c.request(V::put, "/v1/cache/bk/after", "back").result() == http::status::no_content;
      },
      20s, 100ms);
  ASSERT_TRUE(closed) << metrics() << "\n" << d.log();
  get = c.request(V::get, "/v1/cache/bk/after");
  EXPECT_EQ(get.result(), http::status::ok) << get.body();
  EXPECT_EQ(get.body(), "back");
  EXPECT_EQ(get.find("X-Cache-Degraded"), get.end());
  EXPECT_THAT(d.log(), HasSubstr("[info] redis " + ns_breaker +
                                 ": circuit breaker half_open -> closed (probes succeeded)"));

  const bool healthy = eventually(
      [&] {
        health = HttpClient::json(c.request(V::get, "/v1/health"));
        return health.at("health").at("status").as_string() == "healthy" &&
               breaker_in(health, ns_breaker) == "closed";
      },
      20s, 100ms);
  EXPECT_TRUE(healthy) << json::serialize(health);
}

// While a namespace's breaker is open the daemon still runs two-tier, but that namespace is
// degraded: /v1/stats says so (a field beside mode, per namespace and in all) and so does
// /readyz; batch routes answer 503 naming the breaker, as the single-key routes do (issue #5).
// Once Redis is back and the breaker closes, both say all is well again.
TEST(BreakerTest, WhileTheBreakerIsOpenStatsSayDegradedAndBatchesNameTheBreaker) {
  RedisServer redis;
  TiercachedProcess d("breaker_stats", kConfig, redis.url() + "?request_timeout=5s");
  HttpClient c(d.port());
  const std::string ns_breaker = "namespace:bk@127.0.0.1:" + std::to_string(redis.port());
  const std::string state_series =
      "tiercache_circuit_breaker_state{endpoint=\"" + ns_breaker + "\"}";
  const auto metrics = [&] { return c.request(V::get, "/metrics").body(); };
  const auto stats = [&] { return HttpClient::json(c.request(V::get, "/v1/stats")); };
  ASSERT_EQ(c.request(V::put, "/v1/cache/bk/warm", "hello").result(), http::status::no_content);
  {
    const auto s = stats();
    EXPECT_EQ(s.at("mode").as_string(), "two_tier");
    EXPECT_FALSE(s.at("degraded").as_bool()) << json::serialize(s);
    EXPECT_EQ(s.at("namespaces").at("bk").at("breaker").as_string(), "closed");
    EXPECT_FALSE(s.at("namespaces").at("bk").at("degraded").as_bool());
  }

  redis.stop();
  int miss = 0;
  const bool opened = eventually(
      [&] {
        (void)c.request(V::get, "/v1/cache/bk/cold-" + std::to_string(miss++));
        return series_value(metrics(), state_series) == 1.0;
      },
      15s, 100ms);
  ASSERT_TRUE(opened) << metrics() << "\n" << d.log();

  // One shape: mode unchanged, degraded beside it, the breaker's state per namespace.
  const auto s = stats();
  EXPECT_EQ(s.at("mode").as_string(), "two_tier") << json::serialize(s);
  EXPECT_TRUE(s.at("degraded").as_bool()) << json::serialize(s);
  const auto& bk = s.at("namespaces").at("bk");
  EXPECT_THAT(std::string(bk.at("breaker").as_string()), ::testing::AnyOf("open", "half_open"));
  EXPECT_TRUE(bk.at("degraded").as_bool());
  const auto ready = HttpClient::json(c.request(V::get, "/readyz"));
  EXPECT_TRUE(ready.at("degraded").as_bool()) << json::serialize(ready);
  // The dashboard reads the same counters.
  const auto dash = HttpClient::json(c.request(V::get, "/v1/dashboard"));
  EXPECT_TRUE(dash.at("stats").at("degraded").as_bool()) << json::serialize(dash.at("stats"));

  // Batches: a set and an invalidation are refused at once, naming the breaker.
  for (const auto& [target, body] :
       {std::pair{"/v1/cache/bk/batch/set", R"({"items":[{"key":"a","value":"x"}]})"},
        std::pair{"/v1/cache/bk/invalidate", R"({"keys":["warm"]})"}}) {
    auto r = c.request(V::post, target, body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.result(), http::status::service_unavailable) << target << ": " << r.body();
    EXPECT_EQ(HttpClient::error_code(r), "redis_unavailable") << r.body();
    EXPECT_THAT(r.body(), HasSubstr("circuit breaker " + ns_breaker)) << target;
  }
  // A batch read still answers from L1 what it holds; the rest is marked per item.
  auto get = c.request(V::post, "/v1/cache/bk/batch/get", R"({"keys":["warm","cold"]})",
                       {{"Content-Type", "application/json"}});
  ASSERT_EQ(get.result(), http::status::ok) << get.body();
  const auto results = HttpClient::json(get).at("results").as_array();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].at("value").as_string(), "hello");
  EXPECT_EQ(results[1].at("error").as_string(), "redis_unavailable");

  redis.restart();
  const bool closed = eventually(
      [&] {
        const auto now = stats();
        return !now.at("degraded").as_bool() &&
               now.at("namespaces").at("bk").at("breaker").as_string() == "closed";
      },
      20s, 100ms);
  EXPECT_TRUE(closed) << json::serialize(stats()) << "\n" << d.log();
}

// A stalled Redis (SIGSTOP) is where the breaker saves the most: without it every request that
// needs Redis waits out request_timeout. Five timeouts in a row open it; from then on requests
// are answered at once; after SIGCONT it closes by itself. link_timeout is raised so that the
// stalled link is not declared dead (connection_lost, an error rather than a timeout) meanwhile.
TEST(BreakerTest, AStalledRedisOpensTheBreakerOnTimeoutsAndRequestsStopWaiting) {
  RedisServer redis;
  // A 5 s cool-down: the checks below, done while open, must not meet a half-open breaker, whose
  // probes would wait for the stalled Redis.
  TiercachedProcess d("breaker_stall",
                      "[server]\naccess_log = \"off\"\n\n[namespaces.bk]\n\n[redis.breaker]\n"
                      "open_duration = \"5s\"\nmax_open_duration = \"10s\"\n",
                      redis.url() + "?request_timeout=5s&link_timeout=60s");
  HttpClient c(d.port(), 30s);
  const std::string ns_breaker = "namespace:bk@127.0.0.1:" + std::to_string(redis.port());
  const std::string state_series =
      "tiercache_circuit_breaker_state{endpoint=\"" + ns_breaker + "\"}";
  const auto metrics = [&] { return c.request(V::get, "/metrics").body(); };
  auto put = c.request(V::put, "/v1/cache/bk/warm", "hello");
  ASSERT_EQ(put.result(), http::status::no_content) << put.body();

  redis.pause();
  // Six misses at once: each waits for Redis until its request_timeout.
  std::vector<std::thread> callers;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&, i] {
      HttpClient mine(d.port(), 30s);
      auto r = mine.request(V::get, "/v1/cache/bk/stalled-" + std::to_string(i));
      if (r.result() == http::status::service_unavailable) ++unavailable;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), 6);
  ASSERT_TRUE(eventually([&] { return series_value(metrics(), state_series) == 1.0; }, 10s, 100ms))
      << metrics() << "\n"
      << d.log();
  EXPECT_THAT(d.log(), HasSubstr("[warning] redis " + ns_breaker +
                                 ": circuit breaker closed -> open (consecutive timeouts)"));

  // Open: a write and a miss are answered at once, not after request_timeout.
  for (const auto& [method, target] :
       {std::pair{V::put, "/v1/cache/bk/new"}, std::pair{V::get, "/v1/cache/bk/cold"}}) {
    const auto start = steady_clock::now();
    auto r = c.request(method, target, method == V::put ? "x" : "");
    const auto took = steady_clock::now() - start;
    EXPECT_EQ(r.result(), http::status::service_unavailable) << r.body();
    EXPECT_EQ(HttpClient::error_code(r), "redis_unavailable") << r.body();
    EXPECT_LT(took, 4s) << target << ": request_timeout is 5 s";
  }
  auto get = c.request(V::get, "/v1/cache/bk/warm");
  EXPECT_EQ(get.result(), http::status::ok) << get.body();
  EXPECT_EQ(get.body(), "hello");

  redis.resume();
  const bool closed = eventually(
      [&] {
        return series_value(metrics(), state_series) == 0.0 &&
               c.request(V::put, "/v1/cache/bk/after", "back").result() == http::status::no_content;
      },
      20s, 100ms);
  EXPECT_TRUE(closed) << metrics() << "\n" << d.log();
}

// [redis.breaker]: each bad value stops the start with the field and its line; good ones land.
TEST(BreakerConfigTest, ValuesAreReadAndBadOnesNameTheFieldAndLine) {
  using server::ConfigError;
  using server::load_config;
  const auto c = load_config(R"([redis]
url = "redis://127.0.0.1:6379"

[redis.breaker]
window = "30s"
minimum_calls = 50
failure_rate = 0.25
consecutive_timeouts = 0
open_duration = "1s"
max_open_duration = "1m"
half_open_probes = 5
max_in_flight = 100
)",
                             "t.toml");
  EXPECT_TRUE(c.redis_breaker.enabled);
  EXPECT_EQ(c.redis_breaker.window, 30s);
  EXPECT_EQ(c.redis_breaker.minimum_calls, 50u);
  EXPECT_DOUBLE_EQ(c.redis_breaker.failure_rate, 0.25);
  EXPECT_EQ(c.redis_breaker.consecutive_timeouts, 0u);
  EXPECT_EQ(c.redis_breaker.open_duration, 1s);
  EXPECT_EQ(c.redis_breaker.max_open_duration, 60s);
  EXPECT_EQ(c.redis_breaker.half_open_probes, 5u);
  EXPECT_EQ(c.redis_breaker.max_in_flight, 100u);
  EXPECT_FALSE(load_config("[redis.breaker]\nenabled = false\n", "t.toml").redis_breaker.enabled);
  // Defaults without the table.
  EXPECT_EQ(load_config("", "t.toml").redis_breaker.open_duration, 5s);

  const auto error_of = [](const std::string& body) -> std::string {
    try {
      (void)load_config("[redis.breaker]\n" + body, "t.toml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_THAT(error_of("failure_rate = 0\n"),
              HasSubstr("t.toml:2:16: redis.breaker.failure_rate: must be above 0"));
  EXPECT_THAT(error_of("failure_rate = 1.5\n"), HasSubstr("redis.breaker.failure_rate"));
  EXPECT_THAT(error_of("failure_rate = \"half\"\n"),
              HasSubstr("redis.breaker.failure_rate: must be a number"));
  EXPECT_THAT(error_of("\nminimum_calls = 0\n"),
              HasSubstr("t.toml:3:17: redis.breaker.minimum_calls: must be 1..1000000"));
  EXPECT_THAT(error_of("window = \"10ms\"\n"),
              HasSubstr("redis.breaker.window: must be 100ms..10m"));
  EXPECT_THAT(error_of("half_open_probes = 0\n"), HasSubstr("redis.breaker.half_open_probes"));
  EXPECT_THAT(error_of("max_in_flight = -1\n"), HasSubstr("redis.breaker.max_in_flight"));
  EXPECT_THAT(error_of("open_duration = \"1m\"\nmax_open_duration = \"10s\"\n"),
              HasSubstr("t.toml:2:17: redis.breaker.open_duration: open_duration (1m) must not "
                        "exceed max_open_duration (10s)"));
  EXPECT_THAT(error_of("max_open_duration = \"2s\"\n"),
              HasSubstr("t.toml:2:21: redis.breaker.max_open_duration"));
  EXPECT_THAT(error_of("cool_down = \"5s\"\n"),
              HasSubstr("t.toml:2:13: redis.breaker.cool_down: unknown key"));
  EXPECT_THAT(error_of("enabled = 1\n"), HasSubstr("redis.breaker.enabled: must be true or false"));
}

}  // namespace
}  // namespace tiercache::test
