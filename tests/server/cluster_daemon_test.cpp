// tiercached on a real 3-master, 3-replica Redis Cluster (issue #9), configured by nothing but a
// redis+cluster:// URL (from the file, REDIS_URL or --redis): REST set/get/delete over keys that
// land on every master (checked against CLUSTER KEYSLOT and the masters' own keys), invalidation
// by tag and by pattern, the rate limit admitting exactly its limit, the MCP calendar tools,
// /v1/health (every master's INFO) and /metrics; two daemons on one cluster whose L1s stay
// coherent through per-node tracking, also when one reads from the replicas.

#include "tests/server/mcp_client.hpp"
#include "tests/server/server_fixture.hpp"
#include "tests/support/eventually.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

namespace tiercache::test {
namespace {

namespace json = boost::json;
using V = http::verb;
using namespace std::chrono_literals;

// The three ways a URL reaches the daemon (--redis, REDIS_URL, the file's [redis] url) all read
// a cluster URL and its options; a bad one names the field.
TEST(ClusterConfigTest, AClusterUrlComesFromTheFileTheEnvironmentOrAFlag) {
  Config file = server::load_config(
      "[redis]\nurl = \"redis+cluster://10.0.0.1:7000,10.0.0.2:7001?read_from=replica\"\n",
      "t.toml");
  ASSERT_TRUE(file.redis && file.redis_cluster);
  EXPECT_EQ(file.redis_cluster->seeds.size(), 2u);
  EXPECT_EQ(file.redis_cluster->read_from, redis::ReadFrom::replica);
  EXPECT_EQ(file.redis->host, "10.0.0.1");

  Config env = test_config();
  ::setenv("REDIS_URL", "REDIS+CLUSTER://10.0.0.3:7002", 1);
  server::apply_environment(env);
  ::unsetenv("REDIS_URL");
  ASSERT_TRUE(env.redis_cluster);
  EXPECT_EQ(env.redis_cluster->seeds.front().host, "10.0.0.3");
  EXPECT_EQ(env.redis_settings(*env.redis).describe(), "cluster 10.0.0.3:7002");

  Config flag = test_config();
  server::set_redis_url(flag, "redis+cluster://10.0.0.4:7003", "--redis");
  ASSERT_TRUE(flag.redis_cluster);
  server::set_redis_url(flag, "redis://10.0.0.5:6380", "--redis");
  EXPECT_FALSE(flag.redis_cluster);  // one server again
  EXPECT_EQ(flag.redis->port, 6380);
  try {
    server::set_redis_url(flag, "redis://10.0.0.5:6380?read_from=replica", "--redis");
    ADD_FAILURE() << "read_from on a single server was accepted";
  } catch (const server::ConfigError& e) {
    EXPECT_EQ(e.field(), "--redis");
    EXPECT_NE(std::string(e.what()).find("Redis Cluster URL"), std::string::npos) << e.what();
  }
}

class ClusterDaemonTest : public ::testing::Test {
 protected:
  Config config(const std::string& options = "") {
    Config c = test_config();
    server::set_redis_url(c, cluster_.url() + options, "test");
    c.redis->request_timeout = 2s;
    c.rate_limits.push_back({.name = "search", .limit = 17, .window = std::chrono::minutes(1)});
    return c;
  }
  // The Redis keys of namespace `ns` on the master at `port` (KEYS: a test's small keyspace).
  std::vector<std::string> keys_on(std::uint16_t port, const std::string& ns) {
    return cluster_.command(port, {"KEYS", ns + ":*"}).elements;
  }

  RedisCluster cluster_;
};

TEST_F(ClusterDaemonTest, RunsOnAClusterUrlWithRedisAsItsSecondTier) {
  DaemonUnderTest d{config()};
  EXPECT_FALSE(d.daemon().l1_only());
  EXPECT_EQ(d.daemon().redis_mode(), server::RedisMode::connected);
  auto ready = d.client().request(V::get, "/readyz");
  EXPECT_EQ(ready.result(), http::status::ok) << ready.body();
}

TEST_F(ClusterDaemonTest, SetGetDeleteSpreadOverEveryMaster) {
  DaemonUnderTest d{config()};
  constexpr int kKeys = 60;
  for (int i = 0; i < kKeys; ++i) {
    const auto put = d.client().request(V::put, "/v1/cache/users/k" + std::to_string(i),
                                        "value " + std::to_string(i));
    ASSERT_EQ(put.result(), http::status::no_content) << put.body();
  }
  // Every master holds some of them, each in a slot that master serves.
  std::size_t found = 0;
  for (const auto& m : cluster_.masters()) {
    const auto keys = keys_on(m.port, "users");
    EXPECT_FALSE(keys.empty()) << "master " << m.port << " holds no key of the namespace";
    for (const auto& key : keys) {
      EXPECT_EQ(cluster_.master_of_slot(cluster_.keyslot(key)), m.port) << key;
      const int slot = cluster_.keyslot(key);
      const auto count =
          cluster_.command(m.port, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)});
      EXPECT_GE(std::stol(count.str), 1) << key;
    }
    found += keys.size();
  }
  EXPECT_GE(found, static_cast<std::size_t>(kKeys));  // the entries, and any version keys

  for (int i = 0; i < kKeys; ++i) {
    const auto get = d.client().request(V::get, "/v1/cache/users/k" + std::to_string(i));
    ASSERT_EQ(get.result(), http::status::ok) << get.body();
    EXPECT_EQ(get.body(), "value " + std::to_string(i));
  }
  // The namespace without an L1 reads Redis every time.
  for (int i = 0; i < 10; ++i) {
    const std::string path = "/v1/cache/nol1/n" + std::to_string(i);
    ASSERT_EQ(d.client().request(V::put, path, "x" + std::to_string(i)).result(),
              http::status::no_content);
    const auto get = d.client().request(V::get, path);
    EXPECT_EQ(get.body(), "x" + std::to_string(i));
    EXPECT_EQ(get["X-Cache-Tier"], "l2");
  }
  for (int i = 0; i < kKeys; i += 2) {
    const auto del = d.client().request(V::delete_, "/v1/cache/users/k" + std::to_string(i));
    EXPECT_TRUE(del.result() == http::status::no_content || del.result() == http::status::ok)
        << del.body();
  }
  for (int i = 0; i < kKeys; ++i) {
    const auto get = d.client().request(V::get, "/v1/cache/users/k" + std::to_string(i));
    EXPECT_EQ(get.result(), i % 2 == 0 ? http::status::not_found : http::status::ok) << i;
  }
}

TEST_F(ClusterDaemonTest, InvalidatesByTagAndByPatternOnEveryMaster) {
  DaemonUnderTest d{config()};
  for (int i = 0; i < 20; ++i) {
    const std::string tag = i % 2 == 0 ? "city:paris" : "city:rome";
    ASSERT_EQ(d.client()
                  .request(V::put, "/v1/cache/users/t" + std::to_string(i) + "?tag=" + tag, "t")
                  .result(),
              http::status::no_content);
  }
  auto inv =
      d.client().request(V::post, "/v1/cache/users/invalidate", R"({"tags":["city:paris"]})");
  ASSERT_EQ(inv.result(), http::status::ok) << inv.body();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/t" + std::to_string(i)).result(),
              i % 2 == 0 ? http::status::not_found : http::status::ok)
        << i;
  }

  constexpr int kPatterned = 30;
  for (int i = 0; i < kPatterned; ++i) {
    ASSERT_EQ(d.client().request(V::put, "/v1/cache/users/p:" + std::to_string(i), "p").result(),
              http::status::no_content);
  }
  ASSERT_EQ(d.client().request(V::put, "/v1/cache/users/q:1", "q").result(),
            http::status::no_content);
  inv = d.client().request(V::post, "/v1/cache/users/invalidate", R"({"pattern":"p:*"})");
  ASSERT_EQ(inv.result(), http::status::ok) << inv.body();
  EXPECT_EQ(HttpClient::json(inv).at("pattern_removed"), json::value(kPatterned)) << inv.body();
  for (int i = 0; i < kPatterned; ++i) {
    EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/p:" + std::to_string(i)).result(),
              http::status::not_found);
  }
  EXPECT_EQ(d.client().request(V::get, "/v1/cache/users/q:1").result(), http::status::ok);
}

TEST_F(ClusterDaemonTest, TheRateLimitAdmitsExactlyItsLimitUnderConcurrency) {
  DaemonUnderTest d{config()};
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::atomic<int> allowed{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, port = d.port()] {
      HttpClient client(port);
      for (int i = 0; i < kEach; ++i) {
        const auto r = client.request(V::post, "/v1/ratelimit/search?key=tenant-a");
        if (r.result() == http::status::ok) {
          ++allowed;
        } else if (r.result() == http::status::too_many_requests) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 17);
  EXPECT_EQ(refused.load(), kThreads * kEach - 17);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(ClusterDaemonTest, TheMcpCalendarStoresAndGetsEvents) {
  DaemonUnderTest d{config()};
  McpHttpClient mcp(d.port());
  mcp.initialize();
  const auto store = mcp.call_tool("calendar_store_events",
                                   json::parse(R"({"location": "Paris", "from": "2026-05-01",
          "to": "2026-05-02", "events": [
          {"id": "p1", "title": "Jazz", "start": "2026-05-01T20:00:00Z", "score": 40},
          {"id": "p2", "title": "Play", "start": "2026-05-02T19:00:00Z", "score": 10}]})")
                                       .as_object());
  ASSERT_EQ(store.at("isError"), json::value(false)) << McpHttpClient::text_of(store);
  const auto got = mcp.call_tool(
      "calendar_get_events",
      json::parse(R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-02"})")
          .as_object());
  ASSERT_EQ(got.at("isError"), json::value(false)) << McpHttpClient::text_of(got);
  const auto& s = got.at("structuredContent");
  EXPECT_EQ(s.at("hit"), json::value(true));
  EXPECT_EQ(s.at("count"), json::value(2));
  const auto invalidated =
      mcp.call_tool("calendar_invalidate", json::parse(R"({"location": "paris"})").as_object());
  EXPECT_EQ(invalidated.at("isError"), json::value(false)) << McpHttpClient::text_of(invalidated);
  const auto after = mcp.call_tool(
      "calendar_get_events",
      json::parse(R"({"location": "paris", "from": "2026-05-01", "to": "2026-05-02"})")
          .as_object());
  ASSERT_EQ(after.at("isError"), json::value(false)) << McpHttpClient::text_of(after);
  EXPECT_EQ(after.at("structuredContent").at("hit"), json::value(false));
}

TEST_F(ClusterDaemonTest, HealthReadsEveryMasterAndMetricsAnswer) {
  DaemonUnderTest d{config()};
  std::uint64_t largest = 0;
  for (const auto& m : cluster_.masters()) {
    const std::string info = cluster_.command(m.port, {"INFO", "memory"}).str;
    const auto at = info.find("used_memory:");
    ASSERT_NE(at, std::string::npos);
    largest = std::max<std::uint64_t>(largest, std::stoull(info.substr(at + 12)));
  }
  const auto res = d.client().request(V::get, "/v1/health");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto body = HttpClient::json(res);
  EXPECT_EQ(body.at("redis").at("reachable"), json::value(true)) << res.body();
  EXPECT_TRUE(body.at("redis").at("ping_ms").is_number()) << res.body();
  // Three masters' used_memory summed: more than the largest alone.
  EXPECT_GT(body.at("memory_used").to_number<std::uint64_t>(), largest) << res.body();
  // Healthy, or degraded by a slow PING on a loaded machine; never unreachable.
  EXPECT_NE(body.at("health").at("status"), json::value("unhealthy")) << res.body();

  const auto metrics = d.client().request(V::get, "/metrics");
  ASSERT_EQ(metrics.result(), http::status::ok);
  EXPECT_NE(metrics.body().find("tiercache_redis_up 1"), std::string::npos) << metrics.body();
}

// Coherence across instances (issue #9): B's L1 copy goes when A writes, deletes or invalidates
// by tag, because B's link to each key's master tracks what B read there.
TEST_F(ClusterDaemonTest, TwoDaemonsOnOneClusterKeepTheirL1sCoherent) {
  DaemonUnderTest a{config()};
  DaemonUnderTest b{config()};
  const auto b_reads = [&](const std::string& key) {
    return b.client().request(V::get, "/v1/cache/users/" + key);
  };
  std::vector<std::string> keys;
  for (int i = 0; i < 12; ++i) keys.push_back("shared" + std::to_string(i));
  for (const auto& k : keys) {
    ASSERT_EQ(a.client().request(V::put, "/v1/cache/users/" + k + "?tag=grp", "one").result(),
              http::status::no_content);
  }
  // B reads each twice: the second read is its L1 copy.
  for (const auto& k : keys) {
    ASSERT_EQ(b_reads(k).body(), "one");
    const auto again = b_reads(k);
    ASSERT_EQ(again.body(), "one");
    ASSERT_EQ(again["X-Cache-Tier"], "l1") << k;
  }
  // A writes the first four, deletes the next four, invalidates the tag of all: B follows.
  for (std::size_t i = 0; i < 4; ++i) {
    a.client().request(V::put, "/v1/cache/users/" + keys[i], "two");
  }
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(eventually([&] { return b_reads(keys[i]).body() == "two"; }, 10s, 20ms)) << keys[i];
  }
  for (std::size_t i = 4; i < 8; ++i) a.client().request(V::delete_, "/v1/cache/users/" + keys[i]);
  for (std::size_t i = 4; i < 8; ++i) {
    EXPECT_TRUE(
        eventually([&] { return b_reads(keys[i]).result() == http::status::not_found; }, 10s, 20ms))
        << keys[i];
  }
  for (std::size_t i = 8; i < 12; ++i) ASSERT_EQ(b_reads(keys[i])["X-Cache-Tier"], "l1");
  ASSERT_EQ(
      a.client().request(V::post, "/v1/cache/users/invalidate", R"({"tags":["grp"]})").result(),
      http::status::ok);
  for (std::size_t i = 8; i < 12; ++i) {
    EXPECT_TRUE(
        eventually([&] { return b_reads(keys[i]).result() == http::status::not_found; }, 10s, 20ms))
        << keys[i];
  }
}

// read_from=replica (docs/decisions/0011-cluster.md): B reads through replica links, which track
// what B read there, so A's writes reach B's L1 once the replica has applied them.
TEST_F(ClusterDaemonTest, ADaemonReadingFromReplicasFollowsWritesOfAnother) {
  DaemonUnderTest a{config()};
  DaemonUnderTest b{config("?read_from=replica")};
  std::vector<std::string> keys;
  for (int i = 0; i < 9; ++i) keys.push_back("rep" + std::to_string(i));
  for (const auto& k : keys) {
    ASSERT_EQ(a.client().request(V::put, "/v1/cache/users/" + k, "one").result(),
              http::status::no_content);
  }
  const auto b_reads = [&](const std::string& key) {
    return b.client().request(V::get, "/v1/cache/users/" + key);
  };
  for (const auto& k : keys) {
    ASSERT_TRUE(eventually([&] { return b_reads(k).body() == "one"; }, 10s, 20ms)) << k;
    ASSERT_TRUE(eventually([&] { return b_reads(k)["X-Cache-Tier"] == "l1"; }, 10s, 20ms)) << k;
  }
  for (const auto& k : keys) a.client().request(V::put, "/v1/cache/users/" + k, "two");
  for (const auto& k : keys) {
    EXPECT_TRUE(eventually([&] { return b_reads(k).body() == "two"; }, 10s, 20ms)) << k;
  }
  // The replicas served B's reads.
  long replica_gets = 0;
  for (const auto& n : cluster_.nodes()) {
    if (n.master) continue;
    const auto stats = cluster_.command(n.port, {"INFO", "commandstats"}).str;
    const auto at = stats.find("cmdstat_get:calls=");
    if (at != std::string::npos) replica_gets += std::stol(stats.substr(at + 18));
  }
  EXPECT_GE(replica_gets, static_cast<long>(keys.size()));
}

}  // namespace
}  // namespace tiercache::test
