// Reads from replicas on a real 3-master, 3-replica Redis Cluster (issue #9): read_from in the
// cluster URL; with read_from=replica the GETs (and split MGETs) are answered by the replicas,
// as their INFO commandstats count, with the values the masters hold; writes and scripts stay on
// the masters; a shard whose replica is gone fails its reads (replica) or falls back to its
// master (replica_preferred).

#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <map>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;

// "cmdstat_get:calls=12,usec=..." -> 12; 0 when the command never ran.
long calls(const std::string& commandstats, const std::string& name) {
  const auto at = commandstats.find("cmdstat_" + name + ":calls=");
  if (at == std::string::npos) return 0;
  return std::stol(commandstats.substr(at + name.size() + 15));
}

TEST(ClusterReplicaUrlTest, ReadFromIsAClusterOption) {
  std::string why;
  auto s = parse_client_url(
      "redis+cluster://127.0.0.1:7000,127.0.0.1:7001?read_from=replica"
      "&request_timeout=250ms",
      &why);
  ASSERT_TRUE(s) << why;
  ASSERT_TRUE(s->cluster);
  EXPECT_EQ(s->cluster->read_from, ReadFrom::replica);
  EXPECT_EQ(s->cluster->seeds.size(), 2u);
  EXPECT_EQ(s->config.request_timeout, 250ms);
  EXPECT_EQ(s->describe(), "cluster 127.0.0.1:7000,127.0.0.1:7001 (read_from=replica)");

  s = parse_client_url("redis+cluster://h:1?read_from=replica_preferred", &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->cluster->read_from, ReadFrom::replica_preferred);
  s = parse_client_url("redis+cluster://h:1", &why);
  ASSERT_TRUE(s) << why;
  EXPECT_EQ(s->cluster->read_from, ReadFrom::primary);
  s = parse_client_url("redis://h:1/2", &why);
  ASSERT_TRUE(s) << why;
  EXPECT_FALSE(s->cluster);
  EXPECT_EQ(s->config.database, 2);

  EXPECT_FALSE(parse_client_url("redis://h:1?read_from=replica", &why));
  EXPECT_NE(why.find("Redis Cluster URL"), std::string::npos) << why;
  EXPECT_FALSE(parse_client_url("redis+cluster://h:1?read_from=nearest", &why));
  EXPECT_NE(why.find("primary, replica or replica_preferred"), std::string::npos) << why;
  EXPECT_FALSE(parse_client_url("redis+cluster://h:1?read_from=replica&read_from=primary", &why));
  EXPECT_NE(why.find("twice"), std::string::npos) << why;
  EXPECT_FALSE(parse_client_url("redis+cluster://h:1?read_from=replica&bogus=1", &why));
  EXPECT_NE(why.find("bogus"), std::string::npos) << why;
}

class ClusterReplicaTest : public ::testing::Test {
 protected:
  std::shared_ptr<AnyClient> client(const std::string& options) {
    std::string why;
    auto made = make_client(io_.executor(), cluster_.url() + options, &why);
    EXPECT_TRUE(made) << why;
    auto c = std::move(*made);
    c->start();
    return c;
  }
  std::vector<std::uint16_t> replicas() const {
    std::vector<std::uint16_t> out;
    for (const auto& n : cluster_.nodes()) {
      if (!n.master) out.push_back(n.port);
    }
    return out;
  }
  std::uint16_t replica_of(std::uint16_t master) const {
    std::string id;
    for (const auto& n : cluster_.nodes()) {
      if (n.port == master) id = n.id;
    }
    for (const auto& n : cluster_.nodes()) {
      if (!n.master && n.master_id == id) return n.port;
    }
    throw std::runtime_error("no replica of " + std::to_string(master));
  }
  void reset_stats() {
    for (const auto port : cluster_.ports()) cluster_.command(port, {"CONFIG", "RESETSTAT"});
  }
  // Every write so far reached a replica: WAIT on each master's link, the one that wrote.
  void wait_for_replication(AnyClient& c) {
    for (const auto& primary : c.primaries()) {
      // Short WAITs, within the client's request_timeout, until the replica has acknowledged.
      EXPECT_TRUE(test::wait_until(
          [&] {
            auto waited = exec_on_sync(c, primary, command("WAIT", 1, 100));
            return waited && waited->integer() == 1;
          },
          10s))
          << primary;
    }
  }
  static Result<resp::Reply> exec_on_sync(AnyClient& c, std::string primary, resp::Request req) {
    auto promise = std::make_shared<std::promise<test::Outcome>>();
    auto future = promise->get_future();
    c.async_exec_on(std::move(primary), std::move(req),
                    [promise](error_code ec, resp::Reply reply) {
                      promise->set_value(test::Outcome{ec, std::move(reply)});
                    });
    if (future.wait_for(10s) != std::future_status::ready) return asio::error::timed_out;
    auto [ec, reply] = future.get();
    if (ec) return ec;
    return std::move(reply);
  }

  test::RedisCluster cluster_;
  test::IoThreads io_{2};
};

TEST_F(ClusterReplicaTest, ReadsAreServedByTheReplicasAndStillCorrect) {
  auto c = client("?read_from=replica");
  constexpr int kKeys = 60;
  for (int i = 0; i < kKeys; ++i) {
    auto w = exec_sync(*c, command("SET", "rk" + std::to_string(i), "v" + std::to_string(i)));
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_EQ(w->str(), "OK");
  }
  wait_for_replication(*c);
  reset_stats();
  for (int i = 0; i < kKeys; ++i) {
    auto r = exec_sync(*c, command("GET", "rk" + std::to_string(i)));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str(), "v" + std::to_string(i));
  }
  // An MGET over every slot is split by slot; its pieces are reads too.
  resp::Request mget;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("rk" + std::to_string(i));
  mget.push_range("MGET", "", keys);
  auto all = exec_sync(*c, std::move(mget));
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ(all->size(), static_cast<std::size_t>(kKeys));
  for (int i = 0; i < kKeys; ++i)
    EXPECT_EQ(all->at(static_cast<std::size_t>(i)).str(), "v" + std::to_string(i));

  long replica_gets = 0;
  for (const auto port : replicas()) {
    const auto stats = cluster_.command(port, {"INFO", "commandstats"}).str;
    EXPECT_GT(calls(stats, "get"), 0) << "replica " << port << " served no GET";
    replica_gets += calls(stats, "get");
    EXPECT_GT(calls(stats, "mget"), 0) << "replica " << port << " served no MGET piece";
  }
  EXPECT_EQ(replica_gets, kKeys);
  for (const auto& m : cluster_.masters()) {
    const auto stats = cluster_.command(m.port, {"INFO", "commandstats"}).str;
    EXPECT_EQ(calls(stats, "get"), 0) << "master " << m.port << " served a GET";
  }
  auto* cc = dynamic_cast<ClusterClient*>(c.get());
  ASSERT_NE(cc, nullptr);
  EXPECT_GE(cc->replica_reads(), static_cast<std::uint64_t>(kKeys));

  // Writes, and scripts that may write, stay on the masters.
  reset_stats();
  ASSERT_TRUE(exec_sync(*c, command("INCR", "counter")));
  auto script = exec_sync(*c, command("EVAL", "return redis.call('GET', KEYS[1])", 1, "rk1"));
  ASSERT_TRUE(script) << script.error().message();
  EXPECT_EQ(script->str(), "v1");
  long master_incrs = 0;
  for (const auto& m : cluster_.masters()) {
    master_incrs += calls(cluster_.command(m.port, {"INFO", "commandstats"}).str, "incr");
  }
  EXPECT_EQ(master_incrs, 1);  // (a replica counts it too, when it applies the replication stream)
  for (const auto port : replicas()) {
    const auto stats = cluster_.command(port, {"INFO", "commandstats"}).str;
    EXPECT_EQ(calls(stats, "eval"), 0) << "replica " << port;
  }
}

TEST_F(ClusterReplicaTest, PrimaryReadsNeverTouchAReplica) {
  auto c = client("");
  ASSERT_TRUE(exec_sync(*c, command("SET", "pk", "1")));
  reset_stats();
  for (int i = 0; i < 20; ++i) ASSERT_EQ(exec_sync(*c, command("GET", "pk"))->str(), "1");
  for (const auto port : replicas()) {
    const auto stats = cluster_.command(port, {"INFO", "commandstats"}).str;
    EXPECT_EQ(calls(stats, "get"), 0) << "replica " << port;
  }
}

TEST_F(ClusterReplicaTest, AShardWithoutItsReplicaFailsOrFallsBackToItsMaster) {
  auto strict = client("?read_from=replica&request_timeout=300ms");
  auto preferred = client("?read_from=replica_preferred&request_timeout=300ms");
  ASSERT_TRUE(exec_sync(*strict, command("SET", "lonely", "here")));
  const std::uint16_t master = cluster_.master_of_slot(key_slot("lonely"));
  std::vector<std::string> elsewhere;
  for (int i = 0; elsewhere.size() < 10; ++i) {
    const std::string k = "elsewhere" + std::to_string(i);
    if (cluster_.master_of_slot(key_slot(k)) == master) continue;
    ASSERT_TRUE(exec_sync(*strict, command("SET", k, k)));
    elsewhere.push_back(k);
  }
  wait_for_replication(*strict);
  // Both read it from the replica first (once their replica links have answered READONLY).
  const auto reads_here = [](AnyClient& c) {
    return test::wait_until(
        [&] {
          auto r = exec_sync(c, command("GET", "lonely"));
          return r && r->str() == "here";
        },
        10s);
  };
  ASSERT_TRUE(reads_here(*strict));
  ASSERT_TRUE(reads_here(*preferred));

  cluster_.server(replica_of(master)).stop(SIGKILL);
  // Once each client's link to the dead replica is down, the shard has no replica to read from.
  auto gone = [&](AnyClient& c) {
    auto r = exec_sync(c, command("GET", "lonely"));
    return !r && r.error() == ClusterErrc::no_replica;
  };
  EXPECT_TRUE(test::wait_until([&] { return gone(*strict); }, 10s))
      << "read_from=replica should fail with no_replica";
  EXPECT_TRUE(test::wait_until(
      [&] {
        auto r = exec_sync(*preferred, command("GET", "lonely"));
        return r && r->str() == "here";
      },
      10s));
  // The other shards still read from their replicas.
  for (const auto& k : elsewhere) {
    Result<resp::Reply> r = asio::error::timed_out;
    EXPECT_TRUE(test::wait_until(
        [&] {
          r = exec_sync(*strict, command("GET", k));
          return r.has_value();
        },
        10s))
        << k << ": " << r.error().message();
    if (r) {
      EXPECT_EQ(r->str(), k);
    }
  }
}

}  // namespace
}  // namespace tiercache::redis
