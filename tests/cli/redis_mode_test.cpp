// `tiercache --redis URL`: get, set, del, ttl, invalidate, stats and bench straight to Redis
// through the library, against the same redis-server as a running tiercached. What one side
// writes the other reads (bytes, Content-Type, TTL), an invalidation on one side reaches the
// other (the daemon's L1 included), and the commands that need the daemon refuse --redis.

#include "tests/cli/cli_fixture.hpp"

#include <chrono>

namespace tiercache::test {
namespace {

class RedisModeTest : public CliTest {
 protected:
  // tiercache --redis <the daemon's Redis> <args...>
  static Outcome redis_cli(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"--redis", daemon_->redis_url()});
    return cli_raw(std::move(args), input);
  }
  // Polls the daemon's GET until it answers `want` (the body, or "" for a miss), for at most
  // 10 s: invalidations reach the daemon's L1 by Redis's tracking pushes, asynchronously.
  static Outcome daemon_get_until(const std::string& ns, const std::string& key,
                                  const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Outcome r;
    do {
      r = cli({"get", ns, key});
      if ((want.empty() && r.code == 1) || (r.code == 0 && r.out == want)) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }
};

TEST_F(RedisModeTest, AValueSetWithRedisIsServedByTheDaemon) {
  auto set = redis_cli({"set", "users", "r1", "hello redis", "--ttl", "5m", "--content-type",
                        "text/plain", "--priority", "high"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_EQ(set.out, "stored users/r1 (11 bytes)\n");
  auto get = cli({"get", "users", "r1", "--json"});
  ASSERT_EQ(get.code, 0) << get.err;
  const auto o = parse(get.out);
  EXPECT_EQ(o.at("value").as_string(), "hello redis");
  EXPECT_EQ(o.at("content_type").as_string(), "text/plain");
  EXPECT_GT(o.at("fresh_ms").to_number<std::int64_t>(), 4 * 60'000);
  EXPECT_LE(o.at("fresh_ms").to_number<std::int64_t>(), 5 * 60'000);
  // Binary bytes from stdin, exactly.
  const std::string binary("\x00\x01\xff\n\r bytes", 11);
  ASSERT_EQ(redis_cli({"set", "users", "rbin"}, binary).code, 0);
  EXPECT_EQ(cli({"get", "users", "rbin"}).out, binary);
}

TEST_F(RedisModeTest, AValueSetThroughTheDaemonIsReadWithRedis) {
  ASSERT_EQ(
      cli({"set", "users", "d1", "{\"a\":1}", "--ttl", "90s", "--content-type", "application/json"})
          .code,
      0);
  auto raw = redis_cli({"get", "users", "d1"});
  ASSERT_EQ(raw.code, 0) << raw.err;
  EXPECT_EQ(raw.out, "{\"a\":1}");
  auto j = redis_cli({"get", "users", "d1", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_EQ(o.at("content_type").as_string(), "application/json");
  EXPECT_EQ(o.at("tier").as_string(), "l2");
  EXPECT_EQ(o.at("cache").as_string(), "HIT");
  EXPECT_LE(o.at("fresh_ms").to_number<std::int64_t>(), 90'000);
  ASSERT_EQ(cli({"set", "users", "d2", "other type", "--content-type", "text/csv"}).code, 0);
  EXPECT_EQ(parse(redis_cli({"get", "users", "d2", "--json"}).out).at("content_type").as_string(),
            "text/csv");
  auto ttl = redis_cli({"ttl", "users", "d1", "--json"});
  ASSERT_EQ(ttl.code, 0) << ttl.err;
  EXPECT_GT(parse(ttl.out).at("ttl_ms").to_number<std::int64_t>(),
            parse(ttl.out).at("fresh_ms").to_number<std::int64_t>());  // + the grace
  EXPECT_NE(redis_cli({"ttl", "users", "d1"}).out.find("FRESH FOR"), std::string::npos);
}

TEST_F(RedisModeTest, MissesAndDeletesHaveTheDaemonsExitCodes) {
  auto miss = redis_cli({"get", "users", "nobody"});
  EXPECT_EQ(miss.code, 1);
  EXPECT_NE(miss.err.find("not found"), std::string::npos) << miss.err;
  EXPECT_FALSE(parse(redis_cli({"get", "users", "nobody", "--json"}).out).at("found").as_bool());
  EXPECT_EQ(redis_cli({"ttl", "users", "nobody"}).code, 1);
  ASSERT_EQ(cli({"set", "users", "gone", "v"}).code, 0);
  ASSERT_EQ(cli({"get", "users", "gone"}).code, 0);  // now in the daemon's L1 too
  auto del = redis_cli({"del", "users", "gone"});
  EXPECT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(del.out, "deleted users/gone\n");
  EXPECT_EQ(daemon_get_until("users", "gone", "").code, 1);  // its L1 copy went too
  EXPECT_EQ(redis_cli({"del", "users", "gone"}).code, 1);
}

TEST_F(RedisModeTest, AWriteWithRedisReplacesTheDaemonsL1Copy) {
  ASSERT_EQ(cli({"set", "users", "coherent", "v1"}).code, 0);
  ASSERT_EQ(cli({"get", "users", "coherent"}).out, "v1");
  ASSERT_EQ(redis_cli({"set", "users", "coherent", "v2"}).code, 0);
  EXPECT_EQ(daemon_get_until("users", "coherent", "v2").out, "v2");
}

TEST_F(RedisModeTest, InvalidationWithRedisReachesTheDaemon) {
  ASSERT_EQ(cli({"set", "users", "t1", "1", "--tag", "city:oslo"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "sess:1", "2"}).code, 0);
  ASSERT_EQ(cli({"set", "users", "stay", "3"}).code, 0);
  for (const auto* k : {"t1", "sess:1", "stay"}) ASSERT_EQ(cli({"get", "users", k}).code, 0);

  auto tags = redis_cli({"invalidate", "users", "--tag", "city:oslo", "--json"});
  ASSERT_EQ(tags.code, 0) << tags.err;
  EXPECT_EQ(parse(tags.out).at("tags_invalidated").to_number<int>(), 1);
  EXPECT_EQ(daemon_get_until("users", "t1", "").code, 1);

  auto pattern = redis_cli({"invalidate", "users", "--pattern", "sess:*"});
  ASSERT_EQ(pattern.code, 0) << pattern.err;
  EXPECT_NE(pattern.out.find("keys matching the pattern"), std::string::npos) << pattern.out;
  EXPECT_EQ(daemon_get_until("users", "sess:1", "").code, 1);
  EXPECT_EQ(cli({"get", "users", "stay"}).out, "3");

  ASSERT_EQ(redis_cli({"invalidate", "users", "--all"}).code, 0);
  EXPECT_EQ(daemon_get_until("users", "stay", "").code, 1);
  EXPECT_EQ(redis_cli({"invalidate", "users"}).code, 2);

  // And the other way: the daemon invalidates, --redis sees it at once (it reads Redis).
  ASSERT_EQ(redis_cli({"set", "users", "t2", "x", "--tag", "city:rome"}).code, 0);
  ASSERT_EQ(redis_cli({"get", "users", "t2"}).code, 0);
  ASSERT_EQ(cli({"invalidate", "users", "--tag", "city:rome"}).code, 0);
  EXPECT_EQ(redis_cli({"get", "users", "t2"}).code, 1);
}

TEST_F(RedisModeTest, StatsShowRedisFiguresAndKeysPerNamespace) {
  ASSERT_EQ(redis_cli({"set", "users", "s1", "v"}).code, 0);
  auto j = redis_cli({"stats", "--json"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_EQ(o.at("source").as_string(), "redis");
  EXPECT_GT(o.at("redis").at("used_memory").to_number<std::uint64_t>(), 0u);
  EXPECT_GE(o.at("namespaces").at("users").at("keys").to_number<std::uint64_t>(), 1u);
  auto table = redis_cli({"stats"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("NAMESPACE"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("users"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("memory"), std::string::npos) << table.out;
  auto one = redis_cli({"stats", "users", "--json"});
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(parse(one.out).at("namespaces").as_object().size(), 1u);
}

TEST_F(RedisModeTest, BenchDrivesTheLibraryAgainstRedis) {
  auto r = redis_cli({"bench", "--requests", "400", "--concurrency", "8", "--keys", "50"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("400 requests"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pipelined link"), std::string::npos) << r.out;
  auto j = redis_cli({"--json", "bench", "--duration", "300ms", "--read-ratio", "1", "--keys", "20",
                      "--namespace", "users"});
  ASSERT_EQ(j.code, 0) << j.err;
  const auto o = parse(j.out);
  EXPECT_EQ(o.at("target").as_string(), "redis");
  EXPECT_GT(o.at("requests").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("errors").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("hits").to_number<std::uint64_t>(), o.at("gets").to_number<std::uint64_t>());
  // What bench wrote is the daemon's to serve.
  auto served = cli({"get", "users", "bench:0"});
  EXPECT_EQ(served.code, 0) << served.err;
  EXPECT_EQ(served.out, std::string(100, 'x'));
}

TEST_F(RedisModeTest, CommandsThatNeedTheDaemonRefuseRedis) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"health"},
                                             {"top", "--once"},
                                             {"ratelimit", "search"},
                                             {"--token", kToken, "warm", "-f", "-"}}) {
    auto r = redis_cli(args, "users a\n");
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_NE(r.err.find("has no --redis mode"), std::string::npos) << r.err;
  }
}

TEST_F(RedisModeTest, BadOrUnreachableRedisIsReportedWithItsExitCode) {
  auto bad = cli_raw({"--redis", "http://127.0.0.1:6379", "get", "users", "k"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--redis"), std::string::npos) << bad.err;
  const auto port = free_port();  // nothing listens there
  auto down = cli_raw({"--timeout", "2", "--redis", "redis://127.0.0.1:" + std::to_string(port),
                       "get", "users", "k"});
  EXPECT_EQ(down.code, 3);
  EXPECT_NE(down.err.find("cannot reach Redis at redis://127.0.0.1:"), std::string::npos)
      << down.err;
  auto ns = redis_cli({"get", "bad namespace", "k"});
  EXPECT_EQ(ns.code, 2) << ns.err;
  EXPECT_EQ(redis_cli({"set", "users", "k", "v", "--ttl", "soon"}).code, 2);
  auto remote = cli_raw({"--redis", "redis://192.0.2.1:6379", "bench", "--requests", "1"});
  EXPECT_EQ(remote.code, 2);
  EXPECT_NE(remote.err.find("--allow-remote"), std::string::npos) << remote.err;
}

TEST_F(RedisModeTest, AWrongPasswordIsExitFour) {
  RedisServer locked(RedisServer::Options{.requirepass = "right-password"});
  auto r = cli_raw({"--redis", "redis://:wrong-password@127.0.0.1:" + std::to_string(locked.port()),
                    "get", "users", "k"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("check the user and password"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong-password"), std::string::npos) << r.err;  // never echoed
  auto ok =
      cli_raw({"--redis", "redis://:right-password@127.0.0.1:" + std::to_string(locked.port()),
               "set", "users", "k", "v"});
  EXPECT_EQ(ok.code, 0) << ok.err;
}

}  // namespace
}  // namespace tiercache::test
