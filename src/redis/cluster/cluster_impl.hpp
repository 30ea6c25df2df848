#pragma once
// ClusterClient::Impl: the slot map, the node links and the refresh machinery shared by every
// request (cluster_client.cpp); the request coroutine that routes and redirects is in
// cluster_exec.cpp.
// Thread-safety: safe from any thread; the map and the node table are guarded by mu_, and the
// refresh coroutines and the periodic timer run on strand_.

#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/connection.hpp"

#include "redis/cluster/topology.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace tiercache::redis {

class ClusterClient::Impl : public std::enable_shared_from_this<Impl> {
 public:
  using Outcome = std::pair<error_code, resp::Reply>;
  using Clock = std::chrono::steady_clock;

  Impl(executor_type executor, Config config, ClusterOptions options);

  void start();
  void stop();
  void set_push_handler(PushHandler handler);
  void set_link_handler(LinkHandler handler);
  std::vector<Range> slot_map() const;

  // The master link for `slot` (any master for detail::kNoSlot); nullptr when no master is
  // known for it yet or the client is stopped.
  std::shared_ptr<Connection> route(int slot);
  // Where a read-only command of `slot` goes under options_.read_from: a replica link of the
  // slot's shard that has answered READONLY on its current connection (taken in turn), else
  // the master (replica_preferred, primary), else nullptr with `no_replica` set (replica).
  // REQUIRES: slot >= 0.
  std::shared_ptr<Connection> route_read(int slot, bool& no_replica);
  bool reads_from_replicas() const noexcept { return options_.read_from != ReadFrom::primary; }
  std::string master_of(int slot) const;
  // The link to one node, made (and started) on first use.
  std::shared_ptr<Connection> node(const detail::Endpoint& at);
  // The link to the node named "host:port", if one was ever made; nullptr otherwise.
  std::shared_ptr<Connection> linked(const std::string& name) const;
  // A link of its own to the node of `shared`, for one exclusive request.
  std::shared_ptr<Connection> dedicated(const Connection& shared);
  // -MOVED: the slot has a new owner. Cheap; the full map follows by request_refresh().
  void apply_moved(int slot, const detail::Endpoint& to);
  // Starts a background refresh unless one runs or one finished less than kMinRefreshGap ago.
  void request_refresh();
  bool have_map() const;
  bool stopped() const;

  // Runs one request to completion (cluster_exec.cpp).
  static asio::awaitable<Outcome> run(std::shared_ptr<Impl> self, resp::Request request);
  // run(), spawned, completing `handler` (cluster_client.cpp).
  static void route_and_run(std::shared_ptr<Impl> self, resp::Request request, ExecHandler handler);
  // The direct path (direct_exec.cpp): sends a one-command request straight to its slot's link
  // and returns true, or returns false with request and handler untouched.
  static bool try_direct(const std::shared_ptr<Impl>& self, resp::Request& request,
                         ExecHandler& handler);

  const executor_type executor_;
  const Config config_;
  const ClusterOptions options_;
  std::atomic<std::uint64_t> refreshes_{0};
  std::atomic<std::uint64_t> replica_reads_{0};

 private:
  static asio::awaitable<void> refresh_task(std::shared_ptr<Impl> self);
  static asio::awaitable<void> periodic(std::shared_ptr<Impl> self);
  static asio::awaitable<bool> refresh_once(std::shared_ptr<Impl> self);
  void apply(const detail::Topology& topology);
  std::shared_ptr<Connection> node_locked(const detail::Endpoint& at);
  std::shared_ptr<Connection> make_link(const std::string& host, std::uint16_t port,
                                        bool node_link);
  // The link handler of a node link: the user's, and with replica reads the READONLY upkeep
  // (on_node_link). REQUIRES: mu_ held.
  LinkHandler node_link_handler(const Connection* conn);
  // A node link went up (send READONLY; reads wait for its answer) or down (no reads).
  void on_node_link(std::shared_ptr<Connection> conn, const LinkEvent& event);
  void send_readonly(const std::shared_ptr<Connection>& conn, std::uint64_t generation);
  void on_readonly(const std::shared_ptr<Connection>& conn, std::uint64_t generation, error_code ec,
                   bool refused);

  asio::strand<executor_type> strand_;
  asio::steady_timer timer_;  // periodic refresh; on strand_

  mutable std::mutex mu_;
  bool started_ = false;     // guarded by mu_
  bool stopped_ = false;     // guarded by mu_
  bool have_map_ = false;    // guarded by mu_
  bool refreshing_ = false;  // guarded by mu_
  Clock::time_point last_refresh_{};
  std::size_t next_index_ = 0;
  std::size_t rotate_ = 0;  // keyless commands take the masters in turn
  std::unordered_map<std::string, std::shared_ptr<Connection>> nodes_;  // by "host:port"
  std::vector<std::shared_ptr<Connection>> slots_;                      // 16384, or empty
  std::vector<std::shared_ptr<Connection>> masters_;
  // read_from other than primary: each slot's replica links (one list per shard), and for each
  // node link the connection READONLY was confirmed on (0: none yet, or down).
  using ReplicaSet = std::vector<std::shared_ptr<Connection>>;
  std::vector<std::shared_ptr<const ReplicaSet>> replicas_;  // 16384, or empty
  std::unordered_map<const Connection*, std::uint64_t> readonly_;
  std::unordered_map<const Connection*, std::uint64_t> up_generation_;
  std::size_t replica_turn_ = 0;
  PushHandler push_;
  LinkHandler link_;
};

}  // namespace tiercache::redis
