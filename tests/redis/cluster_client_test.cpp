// ClusterClient on a real 3-master, 3-replica Redis Cluster (tests/support/redis_cluster.hpp):
// keys spread over every master, multi-key commands split by slot, transactions kept to one
// slot, -MOVED after a migration, -ASK during one, a failover ridden out (time measured), and
// push messages from every node's link.

#include "tiercache/redis/cluster_client.hpp"

#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ClusterClientTest : public ::testing::Test {
 protected:
  std::shared_ptr<AnyClient> client(std::string options = "") {
    std::string why;
    auto made = make_client(io_.executor(), cluster_.url() + options, &why);
    EXPECT_TRUE(made) << why;
    auto c = std::move(*made);
    c->start();
    return c;
  }
  std::uint16_t other_master(std::uint16_t port) const {
    for (const auto& m : cluster_.masters()) {
      if (m.port != port) return m.port;
    }
    throw std::runtime_error("no other master");
  }

  test::RedisCluster cluster_;
  test::IoThreads io_{2};
};

TEST_F(ClusterClientTest, MakeClientGivesAClusterClientForAClusterUrl) {
  auto c = client();
  EXPECT_NE(dynamic_cast<ClusterClient*>(c.get()), nullptr);
  auto pong = exec_sync(*c, command("PING"));
  ASSERT_TRUE(pong) << pong.error().message();
  EXPECT_EQ(pong->str(), "PONG");
}

TEST_F(ClusterClientTest, SpreadsKeysOverEveryMasterAndReadsThemBack) {
  auto c = client();
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = "key:" + std::to_string(i);
    auto r = exec_sync(*c, command("SET", k, "v" + std::to_string(i)));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->str(), "OK") << *r;
  }
  long total = 0;
  for (const auto& m : cluster_.masters()) {
    const long n = std::stol(cluster_.command(m.port, {"DBSIZE"}).str);
    EXPECT_GT(n, 0) << "master " << m.port << " holds no key";
    total += n;
  }
  EXPECT_EQ(total, kKeys);
  for (int i = 0; i < kKeys; i += 7) {
    auto r = exec_sync(*c, command("GET", "key:" + std::to_string(i)));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->str(), "v" + std::to_string(i));
  }
  auto* cluster_client = dynamic_cast<ClusterClient*>(c.get());
  ASSERT_NE(cluster_client, nullptr);
  std::set<std::string> owners;
  for (const auto& range : cluster_client->slot_map()) owners.insert(range.master);
  EXPECT_EQ(owners.size(), 3u);
}

TEST_F(ClusterClientTest, SplitsMultiKeyCommandsBySlotAndPutsRepliesBackInOrder) {
  auto c = client();
  resp::Request set;
  for (const char* k : {"a", "b", "c", "d", "e"}) set.push("SET", k, std::string("v") + k);
  auto r = exec_sync(*c, std::move(set));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 5u);
  auto mget = exec_sync(*c, command("MGET", "e", "missing", "a", "c", "b", "d"));
  ASSERT_TRUE(mget) << mget.error().message();
  ASSERT_EQ(mget->size(), 6u) << *mget;
  EXPECT_EQ(mget->at(0).str(), "ve");
  EXPECT_TRUE(mget->at(1).is_null());
  EXPECT_EQ(mget->at(2).str(), "va");
  EXPECT_EQ(mget->at(3).str(), "vc");
  EXPECT_EQ(mget->at(4).str(), "vb");
  EXPECT_EQ(mget->at(5).str(), "vd");
  auto exists = exec_sync(*c, command("EXISTS", "a", "b", "missing", "e"));
  ASSERT_TRUE(exists);
  EXPECT_EQ(exists->integer(), 3);
  auto unlink = exec_sync(*c, command("UNLINK", "a", "b", "c", "nope"));
  ASSERT_TRUE(unlink);
  EXPECT_EQ(unlink->integer(), 3);
}

TEST_F(ClusterClientTest, RunsSameSlotTransactionsAndRefusesCrossSlotOnes) {
  auto c = client();
  resp::Request tx;
  tx.push("MULTI").push("INCRBY", "{u1}n", 5).push("PEXPIRE", "{u1}n", 60000).push("EXEC");
  auto r = exec_sync(*c, std::move(tx));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ(r->at(3).at(0).integer(), 5) << *r;

  resp::Request cross;
  cross.push("MULTI").push("SET", "a", "1").push("SET", "b", "2").push("EXEC");
  auto bad = exec_sync(*c, std::move(cross));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ClusterErrc::cross_slot);
  auto untouched = exec_sync(*c, command("EXISTS", "a", "b"));
  ASSERT_TRUE(untouched);
  EXPECT_EQ(untouched->integer(), 0);
  auto script = exec_sync(*c, command("EVAL", "return 1", 2, "a", "b"));
  ASSERT_FALSE(script);
  EXPECT_EQ(script.error(), ClusterErrc::cross_slot);
}

TEST_F(ClusterClientTest, RunsABlockingCommandOnALinkOfItsOwn) {
  auto c = client("?request_timeout=5s");
  auto blpop = test::exec_async(*c, command("BLPOP", "{q}list", 4));
  // The node's shared link is not stalled behind BLPOP: a read of the same slot answers now.
  auto get = exec_sync(*c, command("GET", "{q}other"), 2s);
  ASSERT_TRUE(get) << get.error().message();
  EXPECT_TRUE(get->is_null());
  ASSERT_TRUE(exec_sync(*c, command("LPUSH", "{q}list", "job")));
  ASSERT_EQ(blpop.wait_for(4s), std::future_status::ready);
  auto [ec, reply] = blpop.get();
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(reply.size(), 2u) << reply;
  EXPECT_EQ(reply.at(1).str(), "job");
}

TEST_F(ClusterClientTest, FollowsMovedAfterASlotMigration) {
  auto c = client();
  ASSERT_TRUE(exec_sync(*c, command("SET", "moving", "here")));
  const int slot = key_slot("moving");
  const std::uint16_t from = cluster_.master_of_slot(slot);
  const std::uint16_t to = other_master(from);
  cluster_.migrate_slot(slot, to);
  auto r = exec_sync(*c, command("GET", "moving"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "here");
  auto* cc = dynamic_cast<ClusterClient*>(c.get());
  bool learned = false;
  for (const auto& range : cc->slot_map()) {
    if (range.first <= slot && slot <= range.last) {
      learned = range.master == "127.0.0.1:" + std::to_string(to);
    }
  }
  EXPECT_TRUE(learned) << "the map still names the old owner of slot " << slot;
}

TEST_F(ClusterClientTest, HandlesAskDuringAMigrationWithNoFailedRequest) {
  auto c = client();
  constexpr int kKeys = 40;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(exec_sync(*c, command("SET", "{mig}" + std::to_string(i), i)));
  }
  const int slot = key_slot("mig");
  const std::uint16_t from = cluster_.master_of_slot(slot);
  const std::uint16_t to = other_master(from);

  // Readers and writers run through the whole migration; none may fail.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::string first_failure;
  std::thread load([&] {
    for (int n = 0; !stop; ++n) {
      const int i = n % kKeys;
      auto r = n % 3 == 0 ? exec_sync(*c, command("SET", "{mig}new" + std::to_string(n), n))
                          : exec_sync(*c, command("GET", "{mig}" + std::to_string(i)));
      const bool good = r && !r->is_error() && (n % 3 == 0 || r->str() == std::to_string(i));
      if (good) {
        ++ok;
      } else {
        ++failed;
        std::lock_guard lock(mu);
        if (first_failure.empty()) {
          first_failure = r ? resp::to_display(*r) : r.error().message();
        }
      }
    }
  });
  cluster_.begin_migration(slot, to);
  const int moved = cluster_.move_slot_keys(slot, to);
  // The slot is still the source's: each moved key is answered with -ASK, and new keys too.
  for (int i = 0; i < kKeys; ++i) {
    auto r = exec_sync(*c, command("GET", "{mig}" + std::to_string(i)));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str(), std::to_string(i));
  }
  const auto stats = cluster_.command(to, {"INFO", "commandstats"}).str;
  EXPECT_NE(stats.find("cmdstat_asking:"), std::string::npos) << "no ASKING reached the target";
  cluster_.move_slot_keys(slot, to);  // keys the writer added meanwhile
  cluster_.finish_migration(slot, to);
  const int before = ok.load();
  ASSERT_TRUE(test::wait_until([&] { return ok.load() > before + 50; }, 20s));
  stop = true;
  load.join();
  EXPECT_GE(moved, kKeys);
  EXPECT_EQ(failed.load(), 0) << "first failure: " << first_failure;
  std::cout << "requests during the migration: " << ok.load() << " ok, " << failed.load()
            << " failed\n";
}

TEST_F(ClusterClientTest, GetsThroughAFailoverWithinABoundedTime) {
  auto c = client("?request_timeout=500ms");
  ASSERT_TRUE(exec_sync(*c, command("SET", "survivor", "1")));
  const std::uint16_t master = cluster_.master_of_slot(key_slot("survivor"));
  const auto killed_at = Clock::now();
  cluster_.kill_master(master);

  // Requests keep coming; measure from the kill to the first success after it.
  int failures = 0;
  std::chrono::milliseconds recovered{-1};
  while (Clock::now() - killed_at < 30s) {
    auto r = exec_sync(*c, command("INCR", "survivor"));
    if (r && !r->is_error()) {
      recovered = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at);
      break;
    }
    ++failures;
  }
  ASSERT_GE(recovered.count(), 0) << "no request succeeded within 30 s of the kill";
  const auto failover = cluster_.wait_for_failover(master);
  std::cout << "master killed -> requests succeed again after " << recovered.count() << " ms ("
            << failures << " failed requests meanwhile); cluster settled " << failover.count()
            << " ms after that\n";
  // Every request after the first success succeeds.
  for (int i = 0; i < 50; ++i) {
    auto r = exec_sync(*c, command("INCR", "survivor"));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_FALSE(r->is_error()) << *r;
  }
}

TEST_F(ClusterClientTest, DeliversPushMessagesFromEveryNodeToTheOneHandler) {
  auto writer = client();
  auto& c = *writer;
  // Tracking needs RESP3 links with CLIENT TRACKING on: the URL cannot say so, so build one.
  ClusterOptions options;
  for (const auto port : cluster_.ports()) options.seeds.push_back({"127.0.0.1", port});
  Config config = cluster_.config();
  config.client_tracking = true;
  ClusterClient tracked(io_.executor(), config, options);
  std::mutex mu;
  std::set<std::string> invalidated;
  std::set<std::size_t> links;
  tracked.set_push_handler([&](LinkId link, resp::ReplyView push) {
    if (push.size() < 2 || push.at(0).str() != "invalidate") return;
    std::lock_guard lock(mu);
    for (const auto key : push.at(1)) invalidated.insert(std::string(key.str()));
    links.insert(link.index);
  });
  tracked.start();
  std::vector<std::string> keys;
  std::set<std::uint16_t> masters;
  for (int i = 0; masters.size() < 3 && i < 1000; ++i) {
    const std::string k = "t" + std::to_string(i);
    if (masters.insert(cluster_.master_of_slot(key_slot(k))).second) keys.push_back(k);
  }
  ASSERT_EQ(keys.size(), 3u);
  for (const auto& k : keys) {
    ASSERT_TRUE(exec_sync(c, command("SET", k, "1")));
    ASSERT_TRUE(exec_sync(tracked, command("GET", k)));  // now tracked on that node's link
  }
  for (const auto& k : keys) ASSERT_TRUE(exec_sync(c, command("SET", k, "2")));
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        return invalidated.size() == keys.size();
      },
      10s));
  std::lock_guard lock(mu);
  EXPECT_EQ(links.size(), 3u);
}

// Settings a cluster cannot honour are refused when the client is made, before any link.
TEST(ClusterClientConfigTest, RefusesADatabaseAndOptinTracking) {
  asio::io_context io;
  ClusterOptions options;
  options.seeds.push_back({"127.0.0.1", 7000});
  Config database;
  database.database = 1;
  EXPECT_THROW(ClusterClient(io.get_executor(), database, options), std::invalid_argument);
  Config optin;
  optin.client_tracking = true;
  optin.tracking_optin = true;
  EXPECT_THROW(ClusterClient(io.get_executor(), optin, options), std::invalid_argument);
  Config plain;
  plain.client_tracking = true;
  EXPECT_NO_THROW(ClusterClient(io.get_executor(), plain, options));
}

}  // namespace
}  // namespace tiercache::redis
