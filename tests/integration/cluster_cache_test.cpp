// cache::Cache unchanged on a ClusterClient (issue #9): writes and reads land on every master,
// get_or_load loads once, tag invalidation (version keys on other nodes than the entries) drops
// the entries, and one instance's write evicts another instance's L1 copy through per-node
// client tracking.

#include "tiercache/cache/cache.hpp"
#include "tiercache/redis/cluster_client.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

namespace tiercache {
namespace {

using test::run;
using namespace std::chrono_literals;

class ClusterCacheTest : public ::testing::Test {
 protected:
  std::shared_ptr<redis::ClusterClient> cluster_client() {
    redis::ClusterOptions options;
    for (const auto port : cluster_.ports()) options.seeds.push_back({"127.0.0.1", port});
    redis::Config config = cluster_.config();
    config.client_tracking = true;
    config.request_timeout = 2s;
    return std::make_shared<redis::ClusterClient>(io_.executor(), config, options);
  }
  std::unique_ptr<cache::Cache> make() {
    auto c = std::make_unique<cache::Cache>(cluster_client(), cache::Options{.ns = "cl"});
    EXPECT_TRUE(test::eventually([&] { return c->tracking(); }, 10s)) << "no tracking";
    return c;
  }
  boost::asio::any_io_executor ex() { return io_.executor(); }

  test::RedisCluster cluster_;
  test::IoThreads io_{2};
};

TEST_F(ClusterCacheTest, SetGetAndGetManyAcrossEveryMaster) {
  auto cache = make();
  constexpr int kKeys = 60;
  for (int i = 0; i < kKeys; ++i) {
    auto w = run(ex(), cache->set("k" + std::to_string(i), "v" + std::to_string(i)));
    ASSERT_TRUE(w) << w.error().message();
  }
  for (const auto& m : cluster_.masters()) {
    EXPECT_GT(std::stol(cluster_.command(m.port, {"DBSIZE"}).str), 0) << "master " << m.port;
  }
  auto other = make();  // its L1 is empty: every read goes to Redis
  for (int i = 0; i < kKeys; ++i) {
    auto r = run(ex(), other->get("k" + std::to_string(i)));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->hit()) << i;
    EXPECT_EQ(r->value(), "v" + std::to_string(i));
  }
  auto fresh = make();
  auto many = run(ex(), fresh->get_many({"k1", "nope", "k2", "k3"}));
  ASSERT_TRUE(many) << many.error().message();
  ASSERT_EQ(many->size(), 4u);
  EXPECT_EQ((*many)[0].value(), "v1");
  EXPECT_FALSE((*many)[1].hit());
  EXPECT_EQ((*many)[2].value(), "v2");
  EXPECT_EQ((*many)[3].value(), "v3");
  for (const auto& r : *many) EXPECT_FALSE(r.degraded);
}

TEST_F(ClusterCacheTest, GetOrLoadLoadsOnceAndTagInvalidationDropsTheEntries) {
  auto cache = make();
  auto calls = std::make_shared<std::atomic<int>>(0);
  cache::LoadPolicy policy;
  // One tag: the cache reads and bumps several tag versions in one script, whose keys span
  // slots on a cluster (ClusterErrc::cross_slot); see docs/decisions/0011-cluster.md.
  policy.write.tags = {"city:paris"};
  for (int round = 0; round < 3; ++round) {
    auto r = run(ex(), cache->get_or_load("events:paris", test::counting(calls, "list"), policy));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->value(), "list");
  }
  EXPECT_EQ(calls->load(), 1);
  auto other = make();
  auto seen = run(ex(), other->get("events:paris"));
  ASSERT_TRUE(seen && seen->hit());

  ASSERT_TRUE(run(ex(), cache->invalidate_tags({"city:paris"})));
  auto gone = run(ex(), cache->get("events:paris"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->hit());
  EXPECT_TRUE(test::eventually(
      [&] {
        auto r = run(ex(), other->get("events:paris"));
        return r && !r->hit();
      },
      5s));
  auto reloaded =
      run(ex(), cache->get_or_load("events:paris", test::counting(calls, "new"), policy));
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->value(), "new");
  EXPECT_EQ(calls->load(), 2);
}

TEST_F(ClusterCacheTest, AWriteThroughOneInstanceEvictsTheOthersL1Copy) {
  auto a = make();
  auto b = make();
  ASSERT_TRUE(run(ex(), a->set("shared", "old")));
  ASSERT_TRUE(run(ex(), b->get("shared")));
  auto r = run(ex(), b->get("shared"));
  ASSERT_TRUE(r && r->hit());
  ASSERT_EQ(r->source, cache::Source::l1);
  ASSERT_TRUE(run(ex(), a->set("shared", "new")));
  EXPECT_TRUE(test::eventually(
      [&] {
        auto x = run(ex(), b->get("shared"));
        return x && x->hit() && x->value() == "new";
      },
      5s));
}

}  // namespace
}  // namespace tiercache
