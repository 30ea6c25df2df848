// ClusterSubscriber on a real 3-master, 3-replica Redis Cluster (issue #9): shard channels
// subscribed on their slot's master and reached by SPUBLISH through the ClusterClient, classic
// channels and patterns on one master reached by PUBLISH on any node; a slot migration (the node
// ends the subscription with SUNSUBSCRIBE) and a master killed and replaced by its replica, after
// which delivery resumes on the new owner and the gap is reported.

#include "tiercache/redis/cluster_subscriber.hpp"

#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_cluster.hpp"

#include <boost/asio/co_spawn.hpp>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <mutex>
#include <set>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using test::wait_until;
using namespace std::chrono_literals;

// Every message received, by channel.
class Inbox {
 public:
  Subscriber::MessageHandler handler() {
    return [this](std::string_view channel, std::string_view message) {
      std::lock_guard lock(mu_);
      got_[std::string(channel)].emplace_back(message);
    };
  }
  Subscriber::PatternHandler pattern_handler() {
    return [this](std::string_view, std::string_view channel, std::string_view message) {
      std::lock_guard lock(mu_);
      got_[std::string(channel)].emplace_back(message);
    };
  }
  bool has(const std::string& channel, const std::string& message) const {
    std::lock_guard lock(mu_);
    auto it = got_.find(channel);
    return it != got_.end() &&
           std::find(it->second.begin(), it->second.end(), message) != it->second.end();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<std::string>> got_;
};

// Every gap reported.
class Gaps {
 public:
  Subscriber::ResubscribedHandler handler() {
    return [this](const Subscriber::Resubscribed& r) {
      std::lock_guard lock(mu_);
      reports_.push_back(r);
    };
  }
  std::vector<Subscriber::Resubscribed> reports() const {
    std::lock_guard lock(mu_);
    return reports_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Subscriber::Resubscribed> reports_;
};

class ClusterSubscriberTest : public ::testing::Test {
 protected:
  ClusterSubscriberTest() {
    ClusterOptions options;
    for (const auto port : cluster_.ports()) options.seeds.push_back({"127.0.0.1", port});
    Config config = cluster_.config();
    config.request_timeout = 2s;
    client_ = std::make_shared<ClusterClient>(io_.executor(), config, options);
    client_->start();
  }

  Result<void> run(asio::awaitable<Result<void>> op) {
    auto f = asio::co_spawn(io_.executor(), std::move(op), asio::use_future);
    if (f.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "a subscription change did not complete within 20 s";
      return asio::error::timed_out;
    }
    return f.get();
  }
  static std::string node_name(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }
  // Publishes `message` until `inbox` has it (a publish into a gap is lost, by design).
  bool publish_until_received(const Inbox& inbox, const std::string& verb,
                              const std::string& channel, const std::string& message) {
    return wait_until(
        [&] {
          (void)exec_sync(*client_, command(verb, channel, message), 5s);
          return wait_until([&] { return inbox.has(channel, message); }, 200ms);
        },
        30s);
  }

  test::RedisCluster cluster_;
  test::IoThreads io_{2};
  std::shared_ptr<ClusterClient> client_;
};

TEST_F(ClusterSubscriberTest, ShardChannelsLiveOnTheirSlotsMasterAndHearSpublish) {
  ClusterSubscriber sub(client_);
  sub.start();
  Inbox inbox;
  std::vector<std::string> channels;
  for (int i = 0; i < 12; ++i) channels.push_back("inval:" + std::to_string(i));
  auto r = run(sub.ssubscribe(channels, inbox.handler()));
  ASSERT_TRUE(r) << r.error().message();
  std::set<std::string> nodes;
  for (const auto& ch : channels) {
    EXPECT_EQ(sub.node_of(ch), node_name(cluster_.master_of_slot(cluster_.keyslot(ch)))) << ch;
    nodes.insert(sub.node_of(ch));
  }
  EXPECT_EQ(nodes.size(), 3u) << "the channels should spread over the three masters";
  for (const auto& ch : channels) {
    auto published = exec_sync(*client_, command("SPUBLISH", ch, "hello " + ch));
    ASSERT_TRUE(published) << published.error().message();
    EXPECT_EQ(published->integer(), 1) << ch << ": one subscriber on the slot's master";
  }
  for (const auto& ch : channels) {
    EXPECT_TRUE(wait_until([&] { return inbox.has(ch, "hello " + ch); }, 5s)) << ch;
  }

  // Classic channels and patterns: one master holds them; PUBLISH reaches it from any node.
  ASSERT_TRUE(run(sub.subscribe({"news"}, inbox.handler())));
  ASSERT_TRUE(run(sub.psubscribe({"ev.*"}, inbox.pattern_handler())));
  EXPECT_FALSE(sub.classic_node().empty());
  for (const auto& m : cluster_.masters()) {
    const auto n = cluster_.command(m.port, {"PUBLISH", "news", "from " + std::to_string(m.port)});
    EXPECT_FALSE(n.error) << n.str;
  }
  for (const auto& m : cluster_.masters()) {
    EXPECT_TRUE(
        wait_until([&] { return inbox.has("news", "from " + std::to_string(m.port)); }, 5s));
  }
  ASSERT_TRUE(exec_sync(*client_, command("PUBLISH", "ev.1", "pattern")));
  EXPECT_TRUE(wait_until([&] { return inbox.has("ev.1", "pattern"); }, 5s));

  // Unsubscribed: nobody hears it any more.
  ASSERT_TRUE(run(sub.sunsubscribe({channels[0]})));
  auto none = exec_sync(*client_, command("SPUBLISH", channels[0], "gone"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->integer(), 0);
  EXPECT_EQ(sub.subscriptions(), channels.size() - 1 + 2);
}

TEST_F(ClusterSubscriberTest, FollowsAShardChannelWhoseSlotMigrates) {
  ClusterSubscriber sub(client_);
  Gaps gaps;
  sub.on_resubscribed(gaps.handler());
  sub.start();
  Inbox inbox;
  const std::string channel = "migrating-channel";
  ASSERT_TRUE(run(sub.ssubscribe({channel}, inbox.handler())));
  const int slot = key_slot(channel);
  const std::uint16_t from = cluster_.master_of_slot(slot);
  std::uint16_t to = 0;
  for (const auto& m : cluster_.masters()) {
    if (m.port != from) to = m.port;
  }
  ASSERT_EQ(sub.node_of(channel), node_name(from));
  cluster_.migrate_slot(slot, to);

  // The old owner ends the subscription; the subscriber follows the slot.
  EXPECT_TRUE(wait_until([&] { return sub.node_of(channel) == node_name(to); }, 20s))
      << "still on " << sub.node_of(channel);
  EXPECT_TRUE(publish_until_received(inbox, "SPUBLISH", channel, "after the migration"));
  ASSERT_TRUE(wait_until([&] { return !gaps.reports().empty(); }, 10s));
  const auto report = gaps.reports().front();
  EXPECT_EQ(report.cause, make_error_code(ClusterErrc::slot_moved)) << report.cause.message();
  EXPECT_GE(report.subscriptions, 1u);
  EXPECT_GE(sub.moves(), 1u);
  // Only the new owner has it.
  EXPECT_EQ(cluster_.command(from, {"PUBSUB", "SHARDNUMSUB", channel}).elements.at(1), "0");
  EXPECT_EQ(cluster_.command(to, {"PUBSUB", "SHARDNUMSUB", channel}).elements.at(1), "1");
}

TEST_F(ClusterSubscriberTest, ResumesDeliveryAfterAFailoverAndReportsTheGap) {
  ClusterSubscriber sub(client_);
  Gaps gaps;
  sub.on_resubscribed(gaps.handler());
  sub.start();
  Inbox inbox;
  std::vector<std::string> channels;
  for (int i = 0; i < 12; ++i) channels.push_back("fo:" + std::to_string(i));
  ASSERT_TRUE(run(sub.ssubscribe(channels, inbox.handler())));
  ASSERT_TRUE(run(sub.subscribe({"news"}, inbox.handler())));

  // The master that holds the classic subscriptions, and the shard channels it serves.
  const std::string victim = sub.classic_node();
  const auto victim_port =
      static_cast<std::uint16_t>(std::stoi(victim.substr(victim.rfind(':') + 1)));
  std::vector<std::string> on_victim;
  for (const auto& ch : channels) {
    if (sub.node_of(ch) == victim) on_victim.push_back(ch);
  }
  ASSERT_FALSE(on_victim.empty());
  for (const auto& ch : channels) {
    ASSERT_TRUE(publish_until_received(inbox, "SPUBLISH", ch, "before"));
  }

  cluster_.kill_master(victim_port);
  const auto failover = cluster_.wait_for_failover(victim_port);
  std::cout << "failover took " << failover.count() << " ms\n";

  for (const auto& ch : on_victim) {
    EXPECT_TRUE(publish_until_received(inbox, "SPUBLISH", ch, "after")) << ch;
    EXPECT_NE(sub.node_of(ch), victim) << ch;
  }
  EXPECT_TRUE(publish_until_received(inbox, "PUBLISH", "news", "after"));
  EXPECT_NE(sub.classic_node(), victim);
  for (const auto& ch : channels) {
    EXPECT_TRUE(publish_until_received(inbox, "SPUBLISH", ch, "after all")) << ch;
  }

  ASSERT_TRUE(wait_until([&] { return !gaps.reports().empty(); }, 10s));
  std::size_t moved = 0;
  for (const auto& r : gaps.reports()) {
    moved += r.subscriptions;
    EXPECT_GT(r.gap, std::chrono::steady_clock::duration::zero());
    EXPECT_TRUE(r.cause) << "a gap names its cause";
    std::cout << "gap reported: " << r.subscriptions << " subscription(s), "
              << std::chrono::duration_cast<std::chrono::milliseconds>(r.gap).count() << " ms, "
              << r.cause.message() << "\n";
  }
  EXPECT_GE(moved, on_victim.size() + 1);  // its shard channels and the classic one
}

}  // namespace
}  // namespace tiercache::redis
