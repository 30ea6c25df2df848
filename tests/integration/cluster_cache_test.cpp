// cache::Cache unchanged on a ClusterClient (issue #9): writes and reads land on every master,
// get_or_load loads once, tag invalidation (version keys on other nodes than the entries) drops
// the entries, one instance's write evicts another instance's L1 copy through per-node client
// tracking; several tags per entry (version keys of several slots), set_many across slots, and
// pattern and namespace invalidation that must SCAN every master.

#include "tiercache/cache/cache.hpp"
#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "tests/cache/cache_test_support.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

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

// How many keys match `match` on each master (a SCAN loop run by the node itself).
std::vector<long> keys_per_master(const test::RedisCluster& cluster, const std::string& match) {
  constexpr const char* kCount = R"lua(
local n, cursor = 0, '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor, n = page[1], n + #page[2]
until cursor == '0'
return n
)lua";
  std::vector<long> out;
  for (const auto& m : cluster.masters()) {
    out.push_back(std::stol(cluster.command(m.port, {"EVAL", kCount, "0", match}).str));
  }
  return out;
}

TEST_F(ClusterCacheTest, SeveralTagsAndDependenciesLiveOnSeveralSlots) {
  const std::vector<std::string> tags = {"city:paris", "city:lyon", "kind:concert", "kind:opera"};
  std::set<std::uint16_t> slots;
  for (const auto& t : tags) slots.insert(redis::key_slot("cl:tag:" + t));
  ASSERT_GT(slots.size(), 1u) << "the test needs tag keys on several slots";

  auto cache = make();
  ASSERT_TRUE(run(ex(), cache->set("venue:1", "salle pleyel")));
  auto calls = std::make_shared<std::atomic<int>>(0);
  cache::LoadPolicy policy;
  policy.write.tags = tags;
  policy.write.dependencies = {"venue:1"};
  auto r = run(ex(), cache->get_or_load("events", test::counting(calls, "list"), policy));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->value(), "list");

  auto other = make();
  auto seen = run(ex(), other->get("events"));
  ASSERT_TRUE(seen && seen->hit());
  // Two of the tags at once, their version keys on different slots.
  ASSERT_TRUE(run(ex(), cache->invalidate_tags({"city:lyon", "kind:opera"})));
  auto gone = run(ex(), cache->get("events"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->hit());
  // The other instance learns it from an invalidation push: soon, not at once.
  EXPECT_TRUE(test::eventually(
      [&] {
        auto x = run(ex(), other->get("events"));
        return x && !x->hit();
      },
      5s));

  r = run(ex(), cache->get_or_load("events", test::counting(calls, "again"), policy));
  ASSERT_TRUE(r && r->value() == "again");
  // The dependency: a new value of venue:1 drops what was derived from it.
  ASSERT_TRUE(run(ex(), cache->del("venue:1")));
  gone = run(ex(), cache->get("events"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->hit());
  EXPECT_EQ(calls->load(), 2);
}

TEST_F(ClusterCacheTest, SetManyAcrossSlotsLandsEveryEntry) {
  auto cache = make();
  std::vector<std::pair<std::string, std::string>> items;
  for (int i = 0; i < 40; ++i) items.emplace_back("m" + std::to_string(i), "v" + std::to_string(i));
  auto w = run(ex(), cache->set_many(items, {.tags = {"batch", "city:paris"}}));
  ASSERT_TRUE(w) << w.error().message();
  for (const long n : keys_per_master(cluster_, "cl:v*:m*")) EXPECT_GT(n, 0);

  auto other = make();
  std::vector<std::string> keys;
  for (const auto& [k, v] : items) keys.push_back(k);
  auto many = run(ex(), other->get_many(keys));
  ASSERT_TRUE(many) << many.error().message();
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_TRUE((*many)[i].hit()) << items[i].first;
    EXPECT_EQ((*many)[i].value(), items[i].second);
  }
  ASSERT_TRUE(run(ex(), cache->invalidate_tags({"batch"})));
  auto after = run(ex(), cache->get_many(keys));
  ASSERT_TRUE(after);
  for (const auto& x : *after) EXPECT_FALSE(x.hit());
  // The other instance's L1 copies go when the tag's invalidation push reaches it.
  EXPECT_TRUE(test::eventually(
      [&] {
        auto seen = run(ex(), other->get_many(keys));
        return seen &&
               std::none_of(seen->begin(), seen->end(), [](const auto& x) { return x.hit(); });
      },
      5s));
}

TEST_F(ClusterCacheTest, PatternAndNamespaceInvalidationReachEveryMaster) {
  auto cache = make();
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(run(ex(), cache->set("paris:" + std::to_string(i), "x")));
    ASSERT_TRUE(run(ex(), cache->set("lyon:" + std::to_string(i), "y")));
  }
  for (const long n : keys_per_master(cluster_, "cl:v*:paris:*")) ASSERT_GT(n, 0);

  auto removed = run(ex(), cache->invalidate_pattern("paris:*"));
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_EQ(*removed, 60u);
  for (const long n : keys_per_master(cluster_, "cl:v*:paris:*")) EXPECT_EQ(n, 0);
  auto kept = run(ex(), cache->get("lyon:7"));
  ASSERT_TRUE(kept && kept->hit());

  // The namespace: its entries are gone at once; the old keys are cleaned up on every master.
  ASSERT_TRUE(run(ex(), cache->invalidate_namespace()));
  auto gone = run(ex(), cache->get("lyon:7"));
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->hit());
  EXPECT_TRUE(test::eventually(
      [&] {
        for (const long n : keys_per_master(cluster_, "cl:v*:lyon:*")) {
          if (n != 0) return false;
        }
        return true;
      },
      10s));
}

TEST_F(ClusterCacheTest, TheClusterNamesItsMastersAsPrimaries) {
  auto client = cluster_client();
  client->start();
  ASSERT_TRUE(test::eventually([&] { return client->primaries().size() == 3; }, 10s));
  std::set<std::string> expected;
  for (const auto& m : cluster_.masters()) expected.insert("127.0.0.1:" + std::to_string(m.port));
  const auto primaries = client->primaries();
  EXPECT_EQ(std::set<std::string>(primaries.begin(), primaries.end()), expected);
  EXPECT_FALSE(client->cross_slot_allowed());
  for (const auto& p : primaries) {
    resp::Request req;
    req.push("ROLE");
    auto role = run(ex(), client->exec_on(p, std::move(req)));
    ASSERT_TRUE(role) << p << ": " << role.error().message();
    EXPECT_EQ(role->at(0).str(), "master") << p;
  }
  resp::Request req;
  req.push("PING");
  auto nowhere = run(ex(), client->exec_on("127.0.0.1:1", std::move(req)));
  ASSERT_FALSE(nowhere);
  EXPECT_EQ(nowhere.error(), redis::Errc::not_connected);
  client->stop();
}

}  // namespace
}  // namespace tiercache
