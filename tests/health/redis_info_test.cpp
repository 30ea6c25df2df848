// parse_redis_info on INFO text captured live from the installed redis-server (RESP2 and RESP3
// links), on a keyspace with several dbs, and on bad input: every bad text is refused with a
// clear error.

#include "tiercache/health/redis_info.hpp"

#include "tiercache/health/error.hpp"
#include "tiercache/redis/client.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tiercache::health {
namespace {

TEST(RedisInfoTest, ParsesTheInfoOfTheInstalledRedisServer) {
  test::RedisServer server(
      test::RedisServer::Options{.extra = {"maxmemory 64mb", "maxmemory-policy allkeys-lru"}});
  test::IoThreads io;
  for (int protocol : {2, 3}) {
    auto config = server.config();
    config.protocol = protocol;
    redis::Client client(io.executor(), config);
    client.start();
    ASSERT_TRUE(test::exec_sync(client, test::command("SET", "a:1", "x", "EX", "100")));
    ASSERT_TRUE(test::exec_sync(client, test::command("SET", "b:1", "y")));
    ASSERT_TRUE(test::exec_sync(client, test::command("GET", "a:1")));
    ASSERT_TRUE(test::exec_sync(client, test::command("GET", "nope")));
    auto reply = test::exec_sync(client, test::command("INFO"));
    ASSERT_TRUE(reply);
    auto info = parse_redis_info(reply->str());
    ASSERT_TRUE(info) << info.error().message() << "\n" << reply->str();
    EXPECT_FALSE(info->redis_version.empty());
    EXPECT_GT(info->used_memory, 0u);
    EXPECT_GE(info->used_memory_peak, info->used_memory / 2);
    EXPECT_EQ(info->maxmemory, 64u << 20);
    EXPECT_EQ(info->maxmemory_policy, "allkeys-lru");
    EXPECT_EQ(info->keys, 2u);
    EXPECT_EQ(info->expires, 1u);
    EXPECT_GE(info->keyspace_hits, 1u);
    EXPECT_GE(info->keyspace_misses, 1u);
    EXPECT_GE(info->connected_clients, 1u);
    ASSERT_TRUE(info->memory_fraction());
    EXPECT_GT(*info->memory_fraction(), 0.0);
    EXPECT_LT(*info->memory_fraction(), 1.0);
    client.stop();
  }
}

TEST(RedisInfoTest, SumsEveryDbOfTheKeyspaceAndSkipsUnknownFields) {
  auto info = parse_redis_info(
      "# Server\r\nredis_version:7.2.4\r\nsome_future_field:a:b:c\r\n\r\n# Memory\r\n"
      "used_memory:1000\r\nused_memory_peak:2000\r\nmaxmemory:4000\r\n"
      "maxmemory_policy:volatile-lfu\r\n# Stats\r\nevicted_keys:7\r\nkeyspace_hits:3\r\n"
      "keyspace_misses:1\r\n# Keyspace\r\ndb0:keys=5,expires=2,avg_ttl=0\r\n"
      "db3:keys=10,expires=10,avg_ttl=100,subexpiry=0\r\n");
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->keys, 15u);
  EXPECT_EQ(info->expires, 12u);
  EXPECT_EQ(info->evicted_keys, 7u);
  EXPECT_DOUBLE_EQ(*info->memory_fraction(), 0.25);
  EXPECT_DOUBLE_EQ(*info->keyspace_hit_ratio(), 0.75);
}

TEST(RedisInfoTest, NoLimitAndNoLookupsGiveNoRatios) {
  auto info = parse_redis_info("redis_version:7\nused_memory:10\nmaxmemory:0\n");
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->memory_fraction());
  EXPECT_FALSE(info->keyspace_hit_ratio());
}

TEST(RedisInfoTest, RefusesMalformedText) {
  const char* bad[] = {
      "redis_version:7\r\nused_memory:12x\r\nmaxmemory:0\r\n",                   // not a number
      "redis_version:7\r\nused_memory:-1\r\nmaxmemory:0\r\n",                    // negative
      "redis_version:7\r\nused_memory:99999999999999999999\r\nmaxmemory:0\r\n",  // overflow
      "redis_version:7\r\nused_memory:\r\nmaxmemory:0\r\n",                      // empty
      "redis_version:7\r\nused_memory:1\r\nmaxmemory:0\r\nno colon here\r\n",
      "redis_version:7\r\nused_memory:1\r\nmaxmemory:0\r\n:value without a name\r\n",
      "redis_version:7\r\nused_memory:1\r\nmaxmemory:0\r\ndb0:keys=1\r\n",  // no expires
      "redis_version:7\r\nused_memory:1\r\nmaxmemory:0\r\ndb0:keys=x,expires=0\r\n",
      "redis_version:7\r\nused_memory:1\r\nmaxmemory:0\r\n"
      "db0:keys=18446744073709551615,expires=0\r\ndb1:keys=1,expires=0\r\n",  // sum overflows
  };
  for (const char* text : bad) {
    auto info = parse_redis_info(text);
    ASSERT_FALSE(info) << text;
    EXPECT_EQ(info.error(), Errc::malformed_info) << text;
    EXPECT_NE(info.error().message().find("INFO"), std::string::npos);
  }
}

TEST(RedisInfoTest, RefusesTextWithoutTheFieldsItNeeds) {
  for (const char* text : {"", "# Server\r\n", "used_memory:1\r\nmaxmemory:0\r\n",
                           "redis_version:7\r\nmaxmemory:0\r\n", "-ERR unknown command 'INFO'"}) {
    auto info = parse_redis_info(text);
    ASSERT_FALSE(info) << text;
    EXPECT_TRUE(info.error() == Errc::incomplete_info || info.error() == Errc::malformed_info)
        << text;
  }
  EXPECT_EQ(parse_redis_info("used_memory:1\r\nmaxmemory:0\r\n").error(), Errc::incomplete_info);
}

}  // namespace
}  // namespace tiercache::health
