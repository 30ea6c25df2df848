#pragma once
// ClusterSubscriber: pub/sub on a Redis Cluster. Shard channels (SSUBSCRIBE, Redis 7) are
// subscribed on the master of each channel's slot, and follow it: when that master dies and a
// replica takes over, when the slot migrates (the node sends SUNSUBSCRIBE) or when the slot map
// says so, the channel is subscribed again where the slot lives now, and the gap is reported as
// Subscriber reports a reconnect. Classic channels and patterns (SUBSCRIBE, PSUBSCRIBE; PUBLISH
// reaches every node of a cluster) are held on one master, moved when it leaves the map.
// Use: auto cluster = std::make_shared<redis::ClusterClient>(ex, cfg, opts); cluster->start();
//      redis::ClusterSubscriber sub(cluster); sub.start();
//      co_await sub.ssubscribe({"{ns}:inval"}, [](std::string_view ch, std::string_view m) {...});
//      co_await cluster->exec(spublish);   // SPUBLISH is routed by the channel's slot
// Thread-safety: safe from any thread. Handlers run on a node link's strand, one at a time per
// node: keep them short and never block in them. Why and how: docs/decisions/0011-cluster.md.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/subscriber.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis {

struct ClusterSubscriberOptions {
  // How often the subscriptions are checked against the slot map when nothing happened. A link
  // that went down, a subscription Redis ended or one not placed yet is checked every 100 ms
  // until settled. Default: 1 s.
  std::chrono::milliseconds check_interval{1000};
};

class ClusterSubscriber {
 public:
  using MessageHandler = Subscriber::MessageHandler;
  using PatternHandler = Subscriber::PatternHandler;
  using Resubscribed = Subscriber::Resubscribed;
  using ResubscribedHandler = Subscriber::ResubscribedHandler;

  // Reads the slot map of `cluster` and asks it for fresh ones; its config() is the base of each
  // node link (protocol 3 whatever it says). REQUIRES: cluster is not null; it is started by its
  // owner, and outlives nothing here (it is shared).
  explicit ClusterSubscriber(std::shared_ptr<ClusterClient> cluster,
                             ClusterSubscriberOptions options = {});
  // Stops every node link. Handlers never run after it returns, except one already running.
  ~ClusterSubscriber();

  ClusterSubscriber(const ClusterSubscriber&) = delete;
  ClusterSubscriber& operator=(const ClusterSubscriber&) = delete;

  // Starts the node links and the checks against the slot map. Idempotent.
  void start();
  // Closes every node link; changes then complete with Errc::stopped.
  void stop();

  // Called after every gap: a node link back (its subscriptions again, as Subscriber's), or
  // subscriptions moved to another node (gap: from the old link's loss, or from Redis ending
  // them, to the new node's confirmation; cause: the link's error or ClusterErrc::slot_moved).
  void on_resubscribed(ResubscribedHandler handler);

  // As Subscriber's: the names are recorded at once and kept (and moved) even when the call
  // fails, which only says they are not active yet.
  // Completes with: empty once every node concerned has confirmed; else the first error
  //   (redis::Errc, or ClusterErrc::cluster_down while no slot map is known).
  // Cancellation: none; each node link waits at most its request_timeout.
  // Lifetimes: the ClusterSubscriber must outlive the call.
  [[nodiscard]] asio::awaitable<Result<void>> ssubscribe(std::vector<std::string> channels,
                                                         MessageHandler handler);
  [[nodiscard]] asio::awaitable<Result<void>> subscribe(std::vector<std::string> channels,
                                                        MessageHandler handler);
  [[nodiscard]] asio::awaitable<Result<void>> psubscribe(std::vector<std::string> patterns,
                                                         PatternHandler handler);
  // Delivery to these names stops at once; unknown names are ignored.
  [[nodiscard]] asio::awaitable<Result<void>> sunsubscribe(std::vector<std::string> channels);
  [[nodiscard]] asio::awaitable<Result<void>> unsubscribe(std::vector<std::string> channels);
  [[nodiscard]] asio::awaitable<Result<void>> punsubscribe(std::vector<std::string> patterns);

  // Channels, patterns and shard channels recorded.
  std::size_t subscriptions() const;
  // "host:port" of the node a shard channel is subscribed on now; "" when it waits for a place
  // or is unknown. For tests and the admin API.
  std::string node_of(std::string_view shard_channel) const;
  // "host:port" of the node holding the classic channels and patterns; "" when none.
  std::string classic_node() const;
  // Subscriptions moved to another node since start.
  std::uint64_t moves() const;

  class Impl;  // src/redis/cluster/cluster_subscriber.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tiercache::redis
