// Cluster routing without a cluster: CRC16 and hash slots against the values Redis gives
// (CLUSTER KEYSLOT on redis-server 7.0), which arguments are keys, the parsing of CLUSTER
// SHARDS / SLOTS and of -MOVED / -ASK, and the cluster URL.

#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"
#include "tiercache/redis/url.hpp"
#include "tiercache/resp/reader.hpp"
#include "tiercache/resp/request.hpp"

#include "redis/cluster/command_keys.hpp"
#include "redis/cluster/topology.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tiercache::redis {
namespace {

using namespace std::string_view_literals;

TEST(SlotTest, Crc16MatchesTheClusterSpecExample) { EXPECT_EQ(crc16("123456789"), 0x31C3); }

TEST(SlotTest, KeySlotMatchesRedisClusterKeyslot) {
  struct Known {
    std::string_view key;
    std::uint16_t slot;
  };
  // Each value from `redis-cli CLUSTER KEYSLOT <key>` on redis-server 7.0.15.
  for (const Known& k :
       {Known{"foo", 12182}, Known{"bar", 5061}, Known{"hello", 866},
        Known{"{user1000}.following", 3443}, Known{"{user1000}.followers", 3443},
        Known{"foo{}{bar}", 8363}, Known{"foo{{bar}}zap", 4015}, Known{"foo{bar}{zap}", 5061},
        Known{"{}foo", 9500}, Known{"a{", 14311}, Known{"tiercache:ns:key", 4150},
        Known{"123456789", 12739}, Known{"", 0}}) {
    EXPECT_EQ(key_slot(k.key), k.slot) << k.key;
  }
}

TEST(SlotTest, HashTagIsTheFirstNonEmptyBraces) {
  EXPECT_EQ(hash_tag("{user1}:cart"), "user1");
  EXPECT_EQ(hash_tag("plain"), "plain");
  EXPECT_EQ(hash_tag("{}x"), "{}x");
  EXPECT_EQ(hash_tag("foo{{bar}}"), "{bar");
  EXPECT_EQ(hash_tag("x{y"), "x{y");
}

std::vector<std::string> keys_of(const resp::Request& req) {
  auto cmds = detail::split_commands(req.payload());
  EXPECT_TRUE(cmds.has_value());
  std::vector<std::string_view> keys;
  if (cmds) detail::command_keys(cmds->front().args, keys);
  return {keys.begin(), keys.end()};
}

template <class... Args>
resp::Request cmd(std::string_view name, const Args&... args) {
  resp::Request req;
  req.push(name, args...);
  return req;
}

using Keys = std::vector<std::string>;

TEST(CommandKeysTest, FindsTheKeysOfTheCommandsTheLibraryUses) {
  EXPECT_EQ(keys_of(cmd("GET", "a")), Keys{"a"});
  EXPECT_EQ(keys_of(cmd("set", "a", "v", "PX", 5)), Keys{"a"});
  EXPECT_EQ(keys_of(cmd("MGET", "a", "b", "c")), (Keys{"a", "b", "c"}));
  EXPECT_EQ(keys_of(cmd("UNLINK", "a", "b")), (Keys{"a", "b"}));
  EXPECT_EQ(keys_of(cmd("EVALSHA", "sha", 2, "k1", "k2", "arg")), (Keys{"k1", "k2"}));
  EXPECT_EQ(keys_of(cmd("EVAL", "return 1", 0)), Keys{});
  EXPECT_EQ(keys_of(cmd("MSET", "a", "1", "b", "2")), (Keys{"a", "b"}));
  EXPECT_EQ(keys_of(cmd("BLPOP", "a", "b", 0)), (Keys{"a", "b"}));
  EXPECT_EQ(keys_of(cmd("ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, 2)), (Keys{"d", "a", "b"}));
  EXPECT_EQ(keys_of(cmd("XREAD", "COUNT", 2, "STREAMS", "s1", "s2", "0", "0")), (Keys{"s1", "s2"}));
  EXPECT_EQ(keys_of(cmd("MEMORY", "USAGE", "k")), Keys{"k"});
  EXPECT_EQ(keys_of(cmd("MEMORY", "STATS")), Keys{});
  EXPECT_EQ(keys_of(cmd("SCAN", 0, "MATCH", "x*")), Keys{});
  EXPECT_EQ(keys_of(cmd("PING")), Keys{});
  EXPECT_EQ(keys_of(cmd("PEXPIRE", "k", 100, "NX")), Keys{"k"});
}

TEST(CommandKeysTest, SlotIsNoneOneOrCross) {
  auto slot = [](const resp::Request& req) {
    return detail::command_slot(detail::split_commands(req.payload())->front().args);
  };
  EXPECT_EQ(slot(cmd("PING")), detail::kNoSlot);
  EXPECT_EQ(slot(cmd("GET", "foo")), 12182);
  EXPECT_EQ(slot(cmd("MGET", "{u}a", "{u}b")), key_slot("u"));
  EXPECT_EQ(slot(cmd("MGET", "foo", "bar")), detail::kCrossSlot);
}

TEST(CommandKeysTest, SplitsAPipelineIntoItsCommands) {
  resp::Request req;
  req.push("MULTI").push("SET", "k", std::string("a\r\nb")).push("EXEC");
  const auto cmds = detail::split_commands(req.payload());
  ASSERT_TRUE(cmds.has_value());
  ASSERT_EQ(cmds->size(), 3u);
  EXPECT_EQ((*cmds)[1].args, (std::vector<std::string_view>{"SET", "k", "a\r\nb"}));
  EXPECT_FALSE(detail::split_commands("*2\r\n$3\r\nGET\r\n").has_value());
  EXPECT_FALSE(detail::split_commands("*1\r\n$9\r\nGET\r\n").has_value());
  EXPECT_FALSE(detail::split_commands("+OK\r\n").has_value());
}

TEST(TopologyTest, ParsesRedirects) {
  const auto moved = detail::parse_redirect("MOVED 3999 127.0.0.1:6381", "h");
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->to, (detail::Endpoint{"127.0.0.1", 6381}));
  const auto ask = detail::parse_redirect("ASK 1 [::1]:7000", "h");
  ASSERT_TRUE(ask.has_value());
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->to, (detail::Endpoint{"::1", 7000}));
  EXPECT_EQ(detail::parse_redirect("MOVED 5 :7001", "10.0.0.1")->to.host, "10.0.0.1");
  EXPECT_FALSE(detail::parse_redirect("MOVED 99999 h:1", "h").has_value());
  EXPECT_FALSE(detail::parse_redirect("MOVED 1 h:0", "h").has_value());
  EXPECT_FALSE(detail::parse_redirect("ERR wrong", "h").has_value());
}

resp::Reply parse_reply(std::string_view bytes) {
  resp::Reader reader;
  reader.feed(bytes);
  auto r = reader.next();
  EXPECT_TRUE(r && *r) << "unparsed test reply";
  return resp::Reply(**r);
}

TEST(TopologyTest, ParsesClusterSlots) {
  // Two ranges owned by one master, one by another; a replica after each master.
  const auto reply = parse_reply(
      "*2\r\n"
      "*4\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n"
      "*3\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nid\r\n"
      "*3\r\n:5461\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nid\r\n");
  const auto t = detail::parse_slots(reply);
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->ranges.size(), 2u);
  EXPECT_EQ(t->ranges[0].last, 5460);
  EXPECT_EQ(t->ranges[0].master.port, 7000);
  EXPECT_EQ(t->ranges[1].master.port, 7001);
  EXPECT_FALSE(detail::parse_slots(parse_reply("-ERR no\r\n")).has_value());
  EXPECT_FALSE(
      detail::parse_slots(parse_reply("*1\r\n*3\r\n:0\r\n:99999\r\n*2\r\n$1\r\nh\r\n:1\r\n"))
          .has_value());
}

TEST(TopologyTest, ParsesClusterShardsAndSkipsFailedMasters) {
  const auto reply = parse_reply(
      "*1\r\n%2\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*2\r\n"
      "%4\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$4\r\nfail\r\n$2\r\nip\r\n$1\r\na\r\n"
      "$4\r\nport\r\n:1\r\n"
      "%4\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$6\r\nhealth\r\n$6\r\nonline\r\n$2\r\nip\r\n$1\r\nb\r\n"
      "$4\r\nport\r\n:2\r\n");
  const auto t = detail::parse_shards(reply, false);
  ASSERT_TRUE(t.has_value());
  ASSERT_EQ(t->ranges.size(), 1u);
  EXPECT_EQ(t->ranges[0].master, (detail::Endpoint{"b", 2}));
}

TEST(ClusterUrlTest, ReadsSeedsAndOptions) {
  std::string why;
  const auto d = parse_deployment_url(
      "redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,10.0.0.1:7000?request_timeout=2s", &why);
  ASSERT_TRUE(d) << why;
  EXPECT_TRUE(d->cluster());
  ASSERT_EQ(d->cluster_seeds.size(), 2u);
  EXPECT_EQ(d->cluster_seeds[1], (ServerAddress{"10.0.0.2", 7001}));
  EXPECT_EQ(d->config.password, "pw");
  EXPECT_EQ(d->config.request_timeout, std::chrono::seconds(2));
  const auto tls = parse_deployment_url("rediss+cluster://[::1]:7000");
  ASSERT_TRUE(tls);
  EXPECT_TRUE(tls->config.tls.enabled);
  EXPECT_EQ(tls->cluster_seeds.front().host, "::1");
  const auto single = parse_deployment_url("redis://h:1/2");
  ASSERT_TRUE(single);
  EXPECT_FALSE(single->cluster());
  EXPECT_EQ(single->config.database, 2);
}

TEST(ClusterUrlTest, RejectsBadClusterUrlsWithAReason) {
  for (const auto& [url, reason] : std::vector<std::pair<std::string, std::string>>{
           {"redis+cluster://", "seed node is missing"},
           {"redis+cluster://a:1,,b:2", "seed node is missing"},
           {"redis+cluster://a:1,b:99999", "seed 'b:99999': port 99999"},
           {"redis+cluster://a:1/3", "only database 0"},
           {"redis+cluster://a:1?db=3", "only database 0"},
           {"redis+cluster://a:1?bogus=1", "unknown option 'bogus'"}}) {
    std::string why;
    const auto d = parse_deployment_url(url, &why);
    EXPECT_FALSE(d) << url;
    if (!d) {
      EXPECT_EQ(d.error(), Errc::invalid_url);
    }
    EXPECT_NE(why.find(reason), std::string::npos) << url << ": " << why;
  }
  std::string why;
  EXPECT_FALSE(parse_url("redis+cluster://a:1", &why));
  EXPECT_NE(why.find("parse_deployment_url"), std::string::npos) << why;
}

}  // namespace
}  // namespace tiercache::redis
