// The cluster fixture itself (tests/support/redis_cluster.hpp), checked with hiredis only:
// three masters with a replica each, slot migration, and a failover after a master is killed.

#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>

namespace tiercache::test {
namespace {

using namespace std::chrono_literals;

TEST(RedisClusterTest, StartsThreeMastersEachWithAReplicaCoveringEverySlot) {
  const auto start = std::chrono::steady_clock::now();
  RedisCluster cluster;
  std::cout << "cluster start-up took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count()
            << " ms\n";
  const auto nodes = cluster.nodes();
  ASSERT_EQ(nodes.size(), 6u);
  const auto masters = cluster.masters();
  ASSERT_EQ(masters.size(), 3u);
  int covered = 0;
  for (const auto& m : masters) {
    for (std::size_t i = 0; i + 1 < m.slot_ranges.size(); i += 2) {
      covered += m.slot_ranges[i + 1] - m.slot_ranges[i] + 1;
    }
    int replicas = 0;
    for (const auto& n : nodes) replicas += n.master_id == m.id ? 1 : 0;
    EXPECT_EQ(replicas, 1) << "master on port " << m.port;
  }
  EXPECT_EQ(covered, 16384);
  EXPECT_EQ(cluster.url().rfind("redis+cluster://127.0.0.1:", 0), 0u);
}

TEST(RedisClusterTest, MigratesASlotWithItsKeys) {
  RedisCluster cluster;
  const int slot = cluster.keyslot("{user1}");
  const std::uint16_t from = cluster.master_of_slot(slot);
  ASSERT_FALSE(cluster.command(from, {"SET", "{user1}a", "1"}).error);
  ASSERT_FALSE(cluster.command(from, {"SET", "{user1}b", "2"}).error);
  std::uint16_t to = 0;
  for (const auto& m : cluster.masters()) {
    if (m.port != from) to = m.port;
  }
  cluster.migrate_slot(slot, to);
  EXPECT_EQ(cluster.master_of_slot(slot), to);
  EXPECT_EQ(cluster.command(to, {"GET", "{user1}b"}).str, "2");
  const auto moved = cluster.command(from, {"GET", "{user1}a"});
  EXPECT_TRUE(moved.error);
  EXPECT_EQ(moved.str.rfind("MOVED", 0), 0u) << moved.str;
}

TEST(RedisClusterTest, PromotesTheReplicaOfAKilledMaster) {
  RedisCluster cluster;
  const int slot = cluster.keyslot("k");
  const std::uint16_t old_master = cluster.master_of_slot(slot);
  cluster.kill_master(old_master);
  const auto took = cluster.wait_for_failover(old_master);
  std::cout << "failover took " << took.count() << " ms\n";
  const std::uint16_t new_master = cluster.master_of_slot(slot);
  EXPECT_NE(new_master, old_master);
  EXPECT_FALSE(cluster.command(new_master, {"SET", "k", "v"}).error);
}

}  // namespace
}  // namespace tiercache::test
