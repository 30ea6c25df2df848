// /metrics under Prometheus's own checker: after traffic that touches every family the daemon
// exports (reads by tier and result, writes, batches, invalidations, rate-limit decisions, HTTP
// routes and statuses, health), `promtool check metrics` (Debian's prometheus package, installed
// by scripts/install-deps.sh) accepts the exposition: the text format, and its lint rules on
// names, units, HELP and counters' _total.

#include "tests/server/server_fixture.hpp"
#include "tests/support/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tiercache::test {
namespace {

using V = http::verb;

TEST(PromtoolTest, AcceptsTheExpositionAfterTrafficOfEveryKind) {
  RedisServer redis;
  Config c = with_redis(redis);
  c.rate_limits.push_back({.name = "search", .limit = 2, .window = std::chrono::minutes(1)});
  DaemonUnderTest d{c};
  auto& http = d.client();
  ASSERT_EQ(http.request(V::put, "/v1/cache/users/a?tag=t1", "1").result(),
            http::status::no_content);
  http.request(V::get, "/v1/cache/users/a");
  http.request(V::get, "/v1/cache/users/a");
  http.request(V::get, "/v1/cache/users/missing");
  http.request(V::get, "/v1/cache/nol1/missing");
  http.request(V::post, "/v1/cache/users/batch/get", R"({"keys":["a","b"]})");
  http.request(V::post, "/v1/cache/users/invalidate", R"({"tags":["t1"]})");
  for (int i = 0; i < 3; ++i) http.request(V::post, "/v1/ratelimit/search?key=k");
  http.request(V::get, "/v1/stats");
  http.request(V::get, "/v1/health");
  http.request(V::get, "/no/such/route");
  auto m = http.request(V::get, "/metrics");
  ASSERT_EQ(m.result(), http::status::ok);
  for (const char* family :
       {"tiercache_cache_requests_total", "tiercache_l1_bytes",
        "tiercache_operation_duration_seconds_bucket", "tiercache_http_requests_total",
        "tiercache_redis_up", "tiercache_ratelimit_decisions_total"}) {
    EXPECT_NE(m.body().find(family), std::string::npos) << family << " in\n" << m.body();
  }

  const auto file = std::filesystem::temp_directory_path() /
                    ("tiercache_metrics_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file) << m.body();
  const auto r = run_process({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"},
                             std::chrono::seconds(30));
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 0) << "promtool: " << r.output;
  EXPECT_EQ(trim(r.output), "") << "promtool: " << r.output;
}

}  // namespace
}  // namespace tiercache::test
