// The dashboard (#10): its page, files and data served by a real tiercached (its own process, on
// a real redis-server), and the page itself in Debian's headless Chromium under a small load
// (dashboard_page.mjs, driven by playwright-core): it loads without console errors, draws its
// charts, shows the numbers GET /v1/stats gives within one refresh, refuses an admin action
// without the right token and performs it with the token after a confirmation, and fits a phone
// without horizontal scrolling. Screenshots land in the build tree (dashboard/artifacts/).
// The history's ring and its quantiles are checked here too, without a daemon.

#include "server/dashboard/sample.hpp"
#include "tests/server/http_client.hpp"
#include "tests/server/mcp_client.hpp"
#include "tests/server/tiercached_process.hpp"
#include "tests/support/paths.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

namespace tiercache::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using V = http::verb;

constexpr const char* kToken = "dashboard-test-admin-token-0123456789";
constexpr const char* kChromium = "/usr/bin/chromium";

// One tiercached (with its redis-server) for the suite, as an operator runs it: a config file,
// an admin token, two namespaces, a rate limit, the calendar on.
std::unique_ptr<TiercachedProcess> start_daemon() {
  return std::make_unique<TiercachedProcess>("dashboard", std::string("[server]\n") +
                                                              "admin_token = \"" + kToken +
                                                              "\"\n"
                                                              "access_log = \"off\"\n\n"
                                                              "[namespaces.users]\n"
                                                              "default_ttl = \"10m\"\n\n"
                                                              "[namespaces.flights]\n"
                                                              "default_ttl = \"5m\"\n\n"
                                                              "[ratelimits.search]\n"
                                                              "limit = 5\n"
                                                              "window = \"1h\"\n");
}

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = start_daemon();
    put_load();
  }
  static void TearDownTestSuite() { daemon_.reset(); }

  // A small, bounded load over loopback: 120 writes, 240 reads (a fifth of them misses), rate
  // limit calls past the limit, and calendar reads of three locations (for the ranking).
  static void put_load() {
    HttpClient c(daemon_->port());
    for (int i = 0; i < 120; ++i) {
      const auto ns = i % 3 == 0 ? "flights" : "users";
      auto r = c.request(V::put, std::string("/v1/cache/") + ns + "/k" + std::to_string(i),
                         R"({"n":)" + std::to_string(i) + "}");
      ASSERT_EQ(r.result(), http::status::no_content) << r.body();
    }
    for (int i = 0; i < 240; ++i) {
      const int k = i % 150;  // k120..k149 were never written: misses
      const auto ns = k % 3 == 0 ? "flights" : "users";
      c.request(V::get, std::string("/v1/cache/") + ns + "/k" + std::to_string(k));
    }
    for (int i = 0; i < 8; ++i) c.request(V::post, "/v1/ratelimit/search?key=alice");
    McpHttpClient mcp(daemon_->port());
    mcp.initialize();
    const std::pair<const char*, int> asks[] = {{"Paris", 5}, {"Lisbon", 3}, {"Oslo", 1}};
    for (const auto& [location, times] : asks) {
      for (int i = 0; i < times; ++i) {
        mcp.call_tool("calendar_get_events",
                      {{"location", location}, {"from", "2026-12-01"}, {"to", "2026-12-03"}});
      }
    }
  }

  static HttpClient& client() {
    static HttpClient c(daemon_->port());
    return c;
  }
  static json::object get_json(const std::string& target) {
    auto r = client().request(V::get, target);
    EXPECT_EQ(r.result(), http::status::ok) << target << ": " << r.body();
    return json::parse(r.body()).as_object();
  }
  // The dashboard's data once `ok` holds for it (or after 20 s: the caller's checks then fail).
  static json::object wait_for(const std::function<bool(const json::object&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      auto d = get_json("/v1/dashboard");
      if (ok(d) || std::chrono::steady_clock::now() > deadline) return d;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  // ... once it holds at least `samples` samples (they come every 2 s).
  static json::object wait_for_samples(std::uint64_t samples) {
    return wait_for([samples](const json::object& d) {
      return d.at("last_seq").to_number<std::uint64_t>() >= samples;
    });
  }

  static std::unique_ptr<TiercachedProcess> daemon_;
};

std::unique_ptr<TiercachedProcess> DashboardTest::daemon_;

TEST_F(DashboardTest, ServesThePageAtRootAndAtDashboardWithCachingHeaders) {
  auto root = client().request(V::get, "/");
  ASSERT_EQ(root.result(), http::status::ok);
  EXPECT_EQ(root[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE(root.body().find("<title>tiercache dashboard</title>"), std::string::npos);
  EXPECT_NE(root["Content-Security-Policy"].find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(root[http::field::cache_control], "no-cache");
  const std::string etag(root[http::field::etag]);
  ASSERT_FALSE(etag.empty());

  auto alias = client().request(V::get, "/dashboard");
  ASSERT_EQ(alias.result(), http::status::ok);
  EXPECT_EQ(alias.body(), root.body());

  auto again = client().request(V::get, "/", {}, {{"If-None-Match", etag}});
  EXPECT_EQ(again.result(), http::status::not_modified);
  EXPECT_TRUE(again.body().empty());
  EXPECT_EQ(again[http::field::etag], etag);

  auto js = client().request(V::get, "/dashboard/dashboard.js");
  ASSERT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_NE(js[http::field::etag], etag);
  auto css = client().request(V::get, "/dashboard/dashboard.css");
  ASSERT_EQ(css.result(), http::status::ok);
  EXPECT_EQ(css[http::field::content_type], "text/css; charset=utf-8");

  auto missing = client().request(V::get, "/dashboard/nothing.js");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(HttpClient::error_code(missing), "route_not_found");
  EXPECT_EQ(client().request(V::post, "/dashboard").result(), http::status::method_not_allowed);
}

TEST_F(DashboardTest, HistoryHoldsTheSamplesAndAnswersOnlyTheNewOnes) {
  auto d = wait_for_samples(2);
  const auto last = d.at("last_seq").to_number<std::uint64_t>();
  ASSERT_GE(last, 2u);
  EXPECT_EQ(d.at("interval_ms").as_int64(), 2000);
  EXPECT_EQ(d.at("capacity").to_number<std::uint64_t>(), 450u);
  EXPECT_EQ(d.at("samples").as_array().size(), last);  // fewer than 450 so far: all of them
  EXPECT_TRUE(d.at("admin_enabled").as_bool());
  EXPECT_EQ(d.at("mode").as_string(), "two_tier");

  auto none = get_json("/v1/dashboard?since=" + std::to_string(last + 1000));
  EXPECT_TRUE(none.at("samples").as_array().empty());
  auto one = get_json("/v1/dashboard?since=" + std::to_string(last - 1));
  ASSERT_GE(one.at("samples").as_array().size(), 1u);
  EXPECT_EQ(one.at("samples").at(0).at("seq").to_number<std::uint64_t>(), last);

  auto bad = client().request(V::get, "/v1/dashboard?since=-1");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_EQ(HttpClient::error_code(bad), "invalid_argument");
  auto unknown = client().request(V::get, "/v1/dashboard?window=1h");
  EXPECT_EQ(unknown.result(), http::status::bad_request);
  EXPECT_EQ(HttpClient::error_code(unknown), "unknown_parameter");
}

TEST_F(DashboardTest, ReportsWhatStatsAndTheSamplerSee) {
  // The calendar's ranking is read every 5 samples (10 s), the first one included.
  auto d = wait_for([](const json::object& o) {
    return o.at("last_seq").to_number<std::uint64_t>() >= 2 &&
           o.at("calendar").at("top_locations").as_array().size() >= 3;
  });
  // No load runs now: the dashboard's counters are /v1/stats's.
  auto stats = get_json("/v1/stats");
  for (const char* ns : {"users", "flights"}) {
    const auto& mine = d.at("stats").at("namespaces").at(ns);
    const auto& theirs = stats.at("namespaces").at(ns);
    for (const char* field : {"hits", "hits_l1", "hits_l2", "misses", "errors", "sets"}) {
      EXPECT_EQ(mine.at(field), theirs.at(field)) << ns << "." << field;
    }
    EXPECT_DOUBLE_EQ(mine.at("hit_rate").to_number<double>(),
                     theirs.at("hit_rate").to_number<double>());
  }
  EXPECT_EQ(
      d.at("stats").at("namespaces").at("users").at("misses").to_number<std::uint64_t>() +
          d.at("stats").at("namespaces").at("flights").at("misses").to_number<std::uint64_t>(),
      30u);  // k120..k149 were never written

  // One INFO per sample: Redis's memory is there, and the load shows in some sample's rates.
  const auto& redis = d.at("redis").as_object();
  EXPECT_TRUE(redis.at("reachable").as_bool());
  EXPECT_GT(redis.at("used_memory").to_number<std::uint64_t>(), 0u);
  bool saw_load = false;
  for (const auto& s : d.at("samples").as_array()) {
    saw_load = saw_load || s.at("ops_per_s").to_number<double>() > 0;
  }
  EXPECT_TRUE(saw_load) << json::serialize(d.at("samples"));

  const auto& limits = d.at("rate_limits").as_array();
  ASSERT_EQ(limits.size(), 1u);
  EXPECT_EQ(limits.at(0).at("allowed").to_number<std::uint64_t>(), 5u);
  EXPECT_EQ(limits.at(0).at("denied").to_number<std::uint64_t>(), 3u);

  const auto& top = d.at("calendar").at("top_locations").as_array();
  ASSERT_GE(top.size(), 3u) << json::serialize(d.at("calendar"));
  EXPECT_EQ(top.at(0).at("location").as_string(), "paris");
  // A breaker per Redis client that serves traffic (the namespace's, the limiters', the
  // calendar's), all closed while Redis answers.
  const auto& breakers = d.at("health").at("breakers").as_array();
  for (const std::string what : {"namespace:flights@", "ratelimits@", "calendar@"}) {
    EXPECT_TRUE(std::any_of(
        breakers.begin(), breakers.end(),
        [&](const json::value& b) { return b.at("endpoint").as_string().starts_with(what); }))
        << what << " in " << json::serialize(breakers);
  }
  for (const auto& b : breakers) EXPECT_EQ(b.at("state").as_string(), "closed") << b;
  EXPECT_TRUE(d.at("slow_log").at("entries").is_array());
}

TEST_F(DashboardTest, PageInChromiumShowsLiveNumbersAndGuardsAdminActions) {
  ASSERT_TRUE(fs::exists(kChromium))
      << kChromium << " is missing: Debian's chromium package drives this test "
      << "(scripts/install-deps.sh installs it)";
  const char* node_dir = std::getenv("TIERCACHE_DASHBOARD_NODE_DIR");
  ASSERT_NE(node_dir, nullptr) << "run through ctest: its fixture dashboard.InstallPlaywright "
                                  "installs playwright-core and sets TIERCACHE_DASHBOARD_NODE_DIR";
  const fs::path script = fs::path(node_dir) / "dashboard_page.mjs";
  ASSERT_TRUE(fs::exists(fs::path(node_dir) / "node_modules" / "playwright-core"))
      << "playwright-core is not installed in " << node_dir << " (ctest -R InstallPlaywright)";
  const fs::path artifacts = fs::path(node_dir).parent_path() / "artifacts";
  fs::create_directories(artifacts);
  std::vector<std::string> argv{find_program("node").string(),
                                script.string(),
                                "--url",
                                daemon_->url(),
                                "--token",
                                kToken,
                                "--chromium",
                                kChromium,
                                "--artifacts",
                                artifacts.string()};
  // The README's picture is refreshed on request only: a test run leaves the source tree alone.
  if (const char* docs = std::getenv("TIERCACHE_UPDATE_DOCS_SCREENSHOT"); docs && *docs == '1') {
    argv.insert(argv.end(), {"--docs-screenshot",
                             (source_dir() / "docs" / "images" / "dashboard.png").string()});
  }
  const auto run = run_process(argv, std::chrono::seconds(150));
  EXPECT_FALSE(run.timed_out) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::cout << run.output;
  EXPECT_TRUE(fs::exists(artifacts / "dashboard-laptop.png"));
  EXPECT_TRUE(fs::exists(artifacts / "dashboard-phone.png"));
}

// ---- the history's pieces, without a daemon ------------------------------------------------

TEST(SampleRingTest, KeepsTheLastCapacitySamplesOldestFirst) {
  server::dashboard::SampleRing ring(450);
  for (std::uint64_t seq = 1; seq <= 1000; ++seq) {
    ring.push(server::dashboard::Sample{.seq = seq, .unix_ms = static_cast<std::int64_t>(seq)});
  }
  EXPECT_EQ(ring.size(), 450u);
  EXPECT_EQ(ring.last_seq(), 1000u);
  const auto all = ring.since(0);
  ASSERT_EQ(all.size(), 450u);
  EXPECT_EQ(all.front().at("seq").to_number<std::uint64_t>(), 551u);
  EXPECT_EQ(ring.since(998).size(), 2u);
  EXPECT_TRUE(ring.since(1000).empty());
}

TEST(BucketQuantileTest, InterpolatesInsideTheBucketThatHoldsIt) {
  using server::dashboard::bucket_quantile;
  const std::vector<double> bounds{0.001, 0.002, 0.004};
  // Ten observations in (1 ms, 2 ms]: the median is half way through.
  EXPECT_DOUBLE_EQ(*bucket_quantile(bounds, std::vector<std::uint64_t>{0, 10, 0, 0}, 0.5), 0.0015);
  // 99 fast, one slow: p50 in the first bucket, p99 at its top, p100 in the next.
  const std::vector<std::uint64_t> mixed{99, 0, 1, 0};
  EXPECT_LE(*bucket_quantile(bounds, mixed, 0.5), 0.001);
  EXPECT_DOUBLE_EQ(*bucket_quantile(bounds, mixed, 0.99), 0.001);
  // Past the last bound: the last bound, as PromQL answers.
  EXPECT_DOUBLE_EQ(*bucket_quantile(bounds, std::vector<std::uint64_t>{0, 0, 0, 3}, 0.5), 0.004);
  EXPECT_FALSE(bucket_quantile(bounds, std::vector<std::uint64_t>{0, 0, 0, 0}, 0.5));
  EXPECT_FALSE(bucket_quantile(bounds, std::vector<std::uint64_t>{1, 2}, 0.5));  // malformed
}

}  // namespace
}  // namespace tiercache::test
