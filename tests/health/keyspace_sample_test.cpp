// sample_keyspace on a real redis-server: exact counts and TTL buckets by namespace when the
// SCAN finishes within bounds; within max_keys and max_round_trips (counted by Redis itself, in
// INFO commandstats) on a keyspace far larger, with counts scaled to DBSIZE.

#include "tiercache/health/keyspace_sample.hpp"

#include "tiercache/redis/client.hpp"

#include "tests/cache/cache_test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tiercache::health {
namespace {

using test::run;
using namespace std::chrono_literals;

class KeyspaceSampleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_shared<redis::Client>(io_.executor(), server_.config());
    client_->start();
  }
  void TearDown() override { client_->stop(); }

  // Writes n keys "<ns>:<i>" with the TTL (seconds; 0: none) in one Lua call.
  void fill(const std::string& ns, int n, int ttl_seconds) {
    const std::string script =
        "for i = 1, tonumber(ARGV[2]) do local k = ARGV[1] .. ':' .. i; redis.call('SET', k, 'v');"
        " if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', k, ARGV[3]) end end return 1";
    const auto out =
        server_.cli({"EVAL", script, "0", ns, std::to_string(n), std::to_string(ttl_seconds)});
    ASSERT_EQ(out, "1");
  }

  test::RedisServer server_;
  test::IoThreads io_{1};
  std::shared_ptr<redis::Client> client_;
};

TEST_F(KeyspaceSampleTest, CountsEveryNamespaceExactlyWhenTheScanFinishes) {
  fill("flights", 30, 120);  // 2-10 min
  fill("weather", 20, 30);   // < 1 min
  fill("ratelimit", 5, 0);   // no TTL
  ASSERT_EQ(server_.cli({"SET", "plain", "x", "EX", "7200"}), "OK");
  auto s = run(io_.executor(), sample_keyspace(client_, {.max_keys = 1000, .max_round_trips = 50}));
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->complete);
  EXPECT_EQ(s->keys_visited, 56u);
  EXPECT_EQ(s->dbsize, 56u);
  ASSERT_EQ(s->namespaces.size(), 4u);
  const auto& flights = s->namespaces.at("flights");
  EXPECT_EQ(flights.sampled, 30u);
  EXPECT_EQ(flights.estimated, 30u);
  EXPECT_EQ(flights.ttl.buckets[1], 30u);  // [1 min, 10 min)
  EXPECT_EQ(flights.ttl.no_ttl, 0u);
  EXPECT_GT(flights.ttl.ttl_sum_seconds / 30, 100.0);
  EXPECT_EQ(s->namespaces.at("weather").ttl.buckets[0], 20u);
  EXPECT_EQ(s->namespaces.at("ratelimit").ttl.no_ttl, 5u);
  EXPECT_EQ(s->namespaces.at("").ttl.buckets[3], 1u);  // [1 h, 1 day): the key without ':'
}

TEST_F(KeyspaceSampleTest, StaysWithinItsBoundsOnALargeKeyspaceAndEstimates) {
  fill("flights", 15000, 3600 * 48);
  fill("hotels", 5000, 0);
  const auto scans_before = server_.calls("scan");
  const auto pttls_before = server_.calls("pttl");
  auto s =
      run(io_.executor(),
          sample_keyspace(client_, {.max_keys = 500, .max_round_trips = 9, .scan_count = 100}));
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->complete);
  EXPECT_LE(s->keys_visited, 500u);
  EXPECT_LE(s->round_trips, 9u);
  EXPECT_EQ(s->dbsize, 20000u);
  // Redis's own counts: the sampler never asked more than its bounds allow.
  const auto scans = server_.calls("scan") - scans_before;
  const auto pttls = server_.calls("pttl") - pttls_before;
  EXPECT_GE(scans, 1u);
  EXPECT_LE(scans * 2 + 1, 9u);  // each SCAN found keys here, so each took a PTTL batch too
  EXPECT_LE(pttls, 500u);
  EXPECT_EQ(pttls, s->keys_visited);
  // The estimate scales the sample to DBSIZE: roughly 3:1, with sampling error.
  const auto flights = s->namespaces.at("flights").estimated;
  const auto hotels = s->namespaces.at("hotels").estimated;
  EXPECT_NEAR(static_cast<double>(flights + hotels), 20000.0, 20000.0 * 0.01);
  EXPECT_GT(flights, hotels);
  EXPECT_EQ(s->namespaces.at("flights").ttl.buckets[4], s->namespaces.at("flights").sampled);
}

TEST_F(KeyspaceSampleTest, NeverUsesKeys) {
  fill("a", 50, 0);
  auto s = run(io_.executor(), sample_keyspace(client_, {}));
  ASSERT_TRUE(s);
  EXPECT_EQ(server_.calls("keys"), 0u);
}

TEST_F(KeyspaceSampleTest, FailsWithTheClientErrorWhenRedisIsGone) {
  server_.stop();
  auto s = run(io_.executor(), sample_keyspace(client_, {}));
  EXPECT_FALSE(s);
}

}  // namespace
}  // namespace tiercache::health
