#pragma once
// RedisCluster: a private Redis Cluster for one test: 3 masters and 3 replicas (by default) of
// redis-server (cluster-enabled yes) on free ports, each a RedisServer in its own temp dir, joined
// by `redis-cli --cluster create ... --cluster-replicas 1`. Ready when every node says
// cluster_state:ok and every replica's link to its master is up. Torn down by pid.
// Use: RedisCluster cluster; auto url = cluster.url();  // redis+cluster://127.0.0.1:p1,...
// Fault tools: kill_master(), wait_for_failover(), migrate_slot() and its two halves.
// Thread-safety: not thread-safe; owned by one test. Start-up failures throw std::runtime_error.

#include "tiercache/redis/config.hpp"

#include "tests/support/redis_server.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tiercache::test {

// One node as CLUSTER NODES describes it.
struct ClusterNode {
  std::string id;
  std::uint16_t port = 0;
  bool master = false;
  bool failed = false;           // flagged fail (or pfail) by the node asked
  std::string master_id;         // replicas: the id of their master
  std::vector<int> slot_ranges;  // masters: first, last, first, last, ... (inclusive)
};

// A reply from a node, as hiredis read it: a string (status, bulk, error or an integer in
// decimal) or an array of such strings.
struct NodeReply {
  bool error = false;
  std::string str;
  std::vector<std::string> elements;
};

class RedisCluster {
 public:
  struct Options {
    int masters = 3;
    int replicas_per_master = 1;
    // cluster-node-timeout: how long a silent master takes to be declared failed. Default 1 s,
    // so a failover takes about 2 s; Redis's own default is 15 s.
    std::chrono::milliseconds node_timeout{1000};
  };

  RedisCluster();
  explicit RedisCluster(Options options);
  ~RedisCluster();  // kills every node it started (by pid) and removes their temp dirs

  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // redis+cluster://127.0.0.1:p1,127.0.0.1:p2,... over every node started (seeds).
  std::string url() const;
  // A Config that reaches node 0 (the base of each node link's Config).
  redis::Config config() const;
  std::vector<std::uint16_t> ports() const;

  // The topology as a live node sees it now (CLUSTER NODES).
  std::vector<ClusterNode> nodes() const;
  std::vector<ClusterNode> masters() const;
  // The port of the master serving `slot` (per a live node). Throws if no one serves it.
  std::uint16_t master_of_slot(int slot) const;
  // CLUSTER KEYSLOT, as Redis computes it.
  int keyslot(const std::string& key) const;

  // The server on `port`. REQUIRES: a node of this cluster.
  RedisServer& server(std::uint16_t port);
  // Runs one command on the node at `port` (hiredis, 2 s timeout). Throws if unreachable.
  NodeReply command(std::uint16_t port, const std::vector<std::string>& args) const;

  // SIGKILLs the master on `port` (by its pid) and returns that pid.
  pid_t kill_master(std::uint16_t port);
  // Waits until the slots of the dead master on `port` are served by a promoted replica and
  // every live node says cluster_state:ok; returns how long that took from the call. Throws
  // after `timeout`.
  std::chrono::milliseconds wait_for_failover(
      std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Moves `slot` and its keys to the master on `to`: begin, move keys, finish.
  void migrate_slot(int slot, std::uint16_t to);
  // CLUSTER SETSLOT IMPORTING on `to` and MIGRATING on the owner: from now on the owner answers
  // -ASK for keys of `slot` it does not have.
  void begin_migration(int slot, std::uint16_t to);
  // MIGRATEs every key of `slot` still on the owner to `to`; returns how many moved.
  int move_slot_keys(int slot, std::uint16_t to);
  // CLUSTER SETSLOT NODE on every master: `to` owns `slot`; the old owner answers -MOVED.
  void finish_migration(int slot, std::uint16_t to);

 private:
  void create();
  void wait_until_ready(std::chrono::milliseconds timeout);
  bool ready() const;
  const RedisServer& any_live() const;
  std::string node_id(std::uint16_t port) const;

  Options options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
};

}  // namespace tiercache::test
