#pragma once
// ClusterClient: the handle to a Redis Cluster. Learns which master serves each hash slot from
// seed nodes (CLUSTER SHARDS, else CLUSTER SLOTS), keeps one pipelined Connection per node and
// sends each command to the master of its key's slot; follows -MOVED and -ASK, and rides out a
// failover by refreshing the map and retrying requests that were never sent; optionally reads
// from replicas (ClusterOptions::read_from). Routing rule and limits:
// docs/decisions/0011-cluster.md. Use: auto redis = redis::make_client(ex,
// "redis+cluster://h1:7000,h2:7001").value();
//      redis->start(); Result<resp::Reply> r = co_await redis->exec(std::move(req));
// Thread-safety: safe from any thread.

#include "tiercache/redis/any_client.hpp"
#include "tiercache/redis/url.hpp"

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tiercache::redis {

// Why a cluster request failed without reaching Redis, besides the redis::Errc of its links.
// Category "tiercache.redis.cluster". Kept out of redis::Errc for now: adding values there
// breaks the exhaustive switch in src/resilience/guarded_client.cpp (see 0011-cluster.md).
enum class ClusterErrc {
  cross_slot = 1,  // a transaction's, script's or command's keys fall in different hash slots
  cluster_down,    // no node gave a slot map, or no master serves the key's slot (yet)
  no_replica,      // read_from=replica, and the key's shard has no replica ready for reads
  slot_moved,      // a shard channel's slot moved, and its node ended the subscription
};
const boost::system::error_category& cluster_category() noexcept;
inline boost::system::error_code make_error_code(ClusterErrc e) noexcept {
  return {static_cast<int>(e), cluster_category()};
}

// Where read-only commands (GET, MGET, EXISTS, PTTL, HGETALL, EVALSHA_RO...; never a script
// that may write, never WATCH or MULTI) of a one-slot request are sent. A replica may lag its
// master: see "Reads from replicas" in docs/decisions/0011-cluster.md for what the cache keeps.
enum class ReadFrom {
  primary,            // every command to the slot's master
  replica,            // reads only to a replica of the slot's shard; while it has none linked
                      // and READONLY (at start, all down, the only one promoted), a read waits
                      // within request_timeout, then fails with ClusterErrc::no_replica
  replica_preferred,  // reads to a ready replica of the shard when there is one, else the master
};
std::string_view to_string(ReadFrom read_from) noexcept;

struct ClusterOptions {
  // Nodes asked for the slot map first; any one that answers is enough. REQUIRES: not empty.
  std::vector<ServerAddress> seeds;
  // Ask for the slot map this often even when nothing went wrong. Default: 10 s.
  std::chrono::milliseconds refresh_interval{10'000};
  // Redirects (-MOVED, -ASK, -TRYAGAIN) one request follows before it completes with the last
  // error reply. Default: 5.
  int max_redirects = 5;
  // Where reads go. Anything but primary links every replica as well (one link per node; each
  // link sends READONLY once connected, and carries reads only after Redis has answered it).
  // Default: primary. URL option: read_from=primary|replica|replica_preferred.
  ReadFrom read_from = ReadFrom::primary;
};

// What make_client builds: the settings of every link and, for a cluster, its options.
struct ClientSettings {
  Config config;
  // Set for redis+cluster:// and rediss+cluster:// URLs; the seeds are never empty then.
  std::optional<ClusterOptions> cluster;
  // "127.0.0.1:6379", or "cluster 10.0.0.1:7000,10.0.0.2:7000 (read_from=replica)", for logs.
  std::string describe() const;
};

class ClusterClient final : public AnyClient {
 public:
  // `config` applies to every node link (password, TLS, timeouts, tracking...); its host and
  // port are replaced by each node's. Throws std::invalid_argument when options.seeds is empty
  // or config.database is not 0 (a cluster has no other database).
  ClusterClient(executor_type executor, Config config, ClusterOptions options);
  ~ClusterClient() override;

  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  executor_type get_executor() override;
  void start() override;
  void stop() override;
  void set_push_handler(PushHandler handler) override;
  void set_link_handler(LinkHandler handler) override;
  const Config& config() const noexcept override;
  // The masters of the current slot map, "host:port", in slot order.
  std::vector<std::string> primaries() const override;
  bool cross_slot_allowed() const noexcept override { return false; }

  // "host:port" of the master serving each slot range, for tests and the admin API:
  // [(first, last, "127.0.0.1:7000"), ...] in slot order. Empty before the first map.
  struct Range {
    int first = 0;
    int last = 0;
    std::string master;
  };
  std::vector<Range> slot_map() const;
  // Maps learned since start (initial, periodic, and after redirects or errors).
  std::uint64_t refreshes() const;
  // "host:port" of the master serving `slot` in the current map; "" when none is known yet.
  // REQUIRES: 0 <= slot < 16384.
  std::string master_of(int slot) const;
  // Asks for a fresh slot map in the background, as a -MOVED does (coalesced with any refresh
  // in progress, at most one per 100 ms). For the pub/sub subscriber, which sees its links drop
  // and Redis end subscriptions, not the replies that tell the client the map moved.
  void refresh();
  // Reads sent to a replica's link since start (read_from other than primary), for tests and
  // metrics.
  std::uint64_t replica_reads() const;
  const ClusterOptions& options() const noexcept;

  // The implementation (src/redis/cluster/), opaque here; named publicly so that its own
  // handlers, which are not members, can hold it.
  class Impl;

 protected:
  void do_exec(resp::Request request, ExecHandler handler) override;
  // Straight to that node's link: no routing, no redirects (SCAN has no key to redirect).
  void do_exec_on(std::string primary, resp::Request request, ExecHandler handler) override;

 private:
  std::shared_ptr<Impl> impl_;
};

// Any URL parse_deployment_url reads (redis/url.hpp), plus the options only a cluster has:
// read_from=primary|replica|replica_preferred (refused on a single-server URL, which has no
// replicas to choose). Errors: Errc::invalid_url, with the reason in `why`.
[[nodiscard]] Result<ClientSettings> parse_client_url(std::string_view url,
                                                      std::string* why = nullptr);

// Client for redis://, rediss:// and unix:// URLs, ClusterClient for redis+cluster:// and
// rediss+cluster:// (parse_client_url). Not started. Errors: Errc::invalid_url, with the
// reason in `why`.
[[nodiscard]] Result<std::shared_ptr<AnyClient>> make_client(AnyClient::executor_type executor,
                                                             std::string_view url,
                                                             std::string* why = nullptr);
// The same from settings already parsed (a daemon builds several clients from one URL, each
// with its own client_name or tracking). Not started. Throws std::invalid_argument as
// ClusterClient's constructor does.
std::shared_ptr<AnyClient> make_client(AnyClient::executor_type executor, ClientSettings settings);

}  // namespace tiercache::redis

template <>
struct boost::system::is_error_code_enum<tiercache::redis::ClusterErrc> : std::true_type {};
