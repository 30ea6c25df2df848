// ClusterClient: the slot map and its refresh.
//
// The map is learned, never configured: any node answers CLUSTER SHARDS (Redis 7; CLUSTER SLOTS
// before it) with every slot range and its master. It is asked for
//   - at start, from the seeds;
//   - after a -MOVED (the one slot is patched at once from the redirect; the full map follows,
//     since a moved slot usually means a resharding or a failover that moved many);
//   - after a link error or -CLUSTERDOWN/-TRYAGAIN (a master may have died and a replica taken
//     over: only a fresh map names the new master);
//   - every ClusterOptions::refresh_interval, to notice topology changes nobody hit yet.
// Refreshes are coalesced (one at a time) and spaced by at least kMinRefreshGap, so a storm of
// redirects costs one CLUSTER SHARDS, not one per request. A refresh asks the known masters
// first, then every other node it has ever linked to (seeds included), and takes the first map.
// Node links are never closed before stop(): a node that left is one idle link that keeps
// trying to reconnect with backoff, which is cheaper than tracking its in-flight requests.
//
// Reads from replicas (ClusterOptions::read_from other than primary). The map then keeps each
// slot's replicas too, and every node link, master or replica, sends READONLY each time it
// connects: one link per node serves both roles, so a master demoted to replica after a failover
// keeps serving reads on its link and a replica promoted keeps serving writes. A link carries
// reads only once Redis has answered READONLY on its current connection (readonly_ holds that
// connection's generation): requests queued while it reconnected leave before READONLY and get
// -MOVED, which sends them to the master, never a wrong answer.

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include "redis/cluster/cluster_impl.hpp"
#include "redis/cluster/command_keys.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace tiercache::redis {
namespace {

constexpr auto kMinRefreshGap = std::chrono::milliseconds(100);

resp::Request one(std::string_view a, std::string_view b) {
  resp::Request req;
  req.push(a, b);
  return req;
}

// Completes the caller's handler with the coroutine's outcome, on the handler's executor.
struct SpawnDone {
  using executor_type = ExecHandler::executor_type;
  using cancellation_slot_type = ExecHandler::cancellation_slot_type;

  AnyClient::ExecHandler handler;

  executor_type get_executor() const noexcept { return handler.get_executor(); }
  cancellation_slot_type get_cancellation_slot() const noexcept {
    return handler.get_cancellation_slot();
  }
  void operator()(const std::exception_ptr& ep, std::pair<error_code, resp::Reply> outcome) {
    if (ep) {
      std::move(handler)(make_error_code(Errc::stopped), resp::Reply());
      return;
    }
    std::move(handler)(outcome.first, std::move(outcome.second));
  }
};

}  // namespace

ClusterClient::Impl::Impl(executor_type executor, Config config, ClusterOptions options)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      options_(std::move(options)),
      strand_(asio::make_strand(executor_)),
      timer_(strand_) {
  if (options_.seeds.empty()) throw std::invalid_argument("ClusterClient: no seed nodes");
  if (config_.database != 0) {
    throw std::invalid_argument("ClusterClient: a Redis Cluster has only database 0");
  }
  if (config_.tracking_optin) {
    // A keyless CLIENT CACHING YES would be routed apart from the read it is meant for.
    throw std::invalid_argument(
        "ClusterClient: tracking_optin is not supported on a cluster (use default tracking)");
  }
  std::lock_guard lock(mu_);
  for (const auto& seed : options_.seeds) node_locked({seed.host, seed.port});
}

void ClusterClient::Impl::start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    for (auto& [key, conn] : nodes_) {
      // The seeds were linked in the constructor, before weak_from_this() could name us.
      if (reads_from_replicas()) conn->set_link_handler(node_link_handler(conn.get()));
      conn->start();
    }
  }
  request_refresh();
  asio::co_spawn(strand_, periodic(shared_from_this()), asio::detached);
}

void ClusterClient::Impl::stop() {
  std::unordered_map<std::string, std::shared_ptr<Connection>> nodes;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    nodes = nodes_;
    slots_.clear();
    masters_.clear();
  }
  for (auto& [key, conn] : nodes) conn->stop();
  asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
}

void ClusterClient::Impl::set_push_handler(PushHandler handler) {
  std::lock_guard lock(mu_);
  push_ = std::move(handler);
  for (auto& [key, conn] : nodes_) conn->set_push_handler(push_);
}

void ClusterClient::Impl::set_link_handler(LinkHandler handler) {
  std::lock_guard lock(mu_);
  link_ = std::move(handler);
  for (auto& [key, conn] : nodes_) conn->set_link_handler(node_link_handler(conn.get()));
}

LinkHandler ClusterClient::Impl::node_link_handler(const Connection* conn) {
  if (!reads_from_replicas() || !started_) return link_;
  std::weak_ptr<Impl> weak = weak_from_this();
  return [weak, conn, user = link_](const LinkEvent& event) {
    if (auto self = weak.lock()) {
      std::shared_ptr<Connection> link;
      {
        std::lock_guard lock(self->mu_);
        for (auto& [key, c] : self->nodes_) {
          if (c.get() == conn) link = c;
        }
      }
      if (link) self->on_node_link(std::move(link), event);
    }
    if (user) user(event);
  };
}

void ClusterClient::Impl::on_node_link(std::shared_ptr<Connection> conn, const LinkEvent& event) {
  const Connection* key = conn.get();
  {
    std::lock_guard lock(mu_);
    readonly_.erase(key);
    if (event.kind == LinkEvent::Kind::down || stopped_) {
      up_generation_.erase(key);
      return;
    }
    up_generation_[key] = event.link.generation;
  }
  send_readonly(conn, event.link.generation);
}

void ClusterClient::Impl::send_readonly(const std::shared_ptr<Connection>& conn,
                                        std::uint64_t generation) {
  resp::Request readonly;
  readonly.push("READONLY");
  std::weak_ptr<Impl> weak = weak_from_this();
  std::weak_ptr<Connection> link = conn;
  conn->async_exec(std::move(readonly), [weak, link, generation](error_code ec, resp::Reply reply) {
    auto self = weak.lock();
    auto c = link.lock();
    if (self && c) self->on_readonly(c, generation, ec, reply.is_error());
  });
}

void ClusterClient::Impl::on_readonly(const std::shared_ptr<Connection>& conn,
                                      std::uint64_t generation, error_code ec, bool refused) {
  {
    std::lock_guard lock(mu_);
    auto it = up_generation_.find(conn.get());
    if (stopped_ || it == up_generation_.end() || it->second != generation) return;
    if (!ec && !refused) {
      readonly_[conn.get()] = generation;
      return;
    }
  }
  if (refused) {
    spdlog::warn("redis cluster: {} refused READONLY: reads stay off that node",
                 conn->config().describe());
    return;
  }
  if (ec == Errc::stopped) return;
  // Not answered in time (a slow server): ask again on this connection. A lost link ends the
  // loop with its down event, which retires the generation.
  send_readonly(conn, generation);
}

bool ClusterClient::Impl::have_map() const {
  std::lock_guard lock(mu_);
  return have_map_;
}

bool ClusterClient::Impl::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

std::shared_ptr<Connection> ClusterClient::Impl::route(int slot) {
  std::lock_guard lock(mu_);
  if (stopped_ || slots_.empty()) return nullptr;
  if (slot < 0) {
    if (masters_.empty()) return nullptr;
    return masters_[rotate_++ % masters_.size()];
  }
  return slots_[static_cast<std::size_t>(slot)];
}

std::shared_ptr<Connection> ClusterClient::Impl::route_read(int slot, bool& no_replica) {
  no_replica = false;
  std::lock_guard lock(mu_);
  if (stopped_ || slots_.empty()) return nullptr;
  const auto index = static_cast<std::size_t>(slot);
  if (!replicas_.empty() && replicas_[index]) {
    const ReplicaSet& set = *replicas_[index];
    for (std::size_t i = 0; i < set.size(); ++i) {
      const auto& conn = set[(replica_turn_ + i) % set.size()];
      if (readonly_.contains(conn.get())) {
        ++replica_turn_;
        replica_reads_.fetch_add(1, std::memory_order_relaxed);
        return conn;
      }
    }
  }
  if (options_.read_from == ReadFrom::replica) {
    no_replica = true;
    return nullptr;
  }
  return slots_[index];
}

std::string ClusterClient::Impl::master_of(int slot) const {
  std::lock_guard lock(mu_);
  const auto index = static_cast<std::size_t>(slot);
  if (slot < 0 || index >= slots_.size() || !slots_[index]) return {};
  const Config& c = slots_[index]->config();
  return c.host + ":" + std::to_string(c.port);
}

std::shared_ptr<Connection> ClusterClient::Impl::node(const detail::Endpoint& at) {
  std::lock_guard lock(mu_);
  if (stopped_) return nullptr;
  return node_locked(at);
}

std::shared_ptr<Connection> ClusterClient::Impl::linked(const std::string& name) const {
  std::lock_guard lock(mu_);
  if (stopped_) return nullptr;
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second;
}

std::shared_ptr<Connection> ClusterClient::Impl::make_link(const std::string& host,
                                                           std::uint16_t port, bool node_link) {
  Config cfg = config_;
  cfg.host = host;
  cfg.port = port;
  cfg.unix_socket.clear();
  auto conn = std::make_shared<Connection>(executor_, std::move(cfg), next_index_++);
  if (push_) conn->set_push_handler(push_);
  if (LinkHandler handler = node_link ? node_link_handler(conn.get()) : link_) {
    conn->set_link_handler(std::move(handler));
  }
  if (started_ && !stopped_) conn->start();
  return conn;
}

std::shared_ptr<Connection> ClusterClient::Impl::node_locked(const detail::Endpoint& at) {
  auto& conn = nodes_[at.key()];
  if (!conn) conn = make_link(at.host, at.port, true);
  return conn;
}

std::shared_ptr<Connection> ClusterClient::Impl::dedicated(const Connection& shared) {
  std::lock_guard lock(mu_);
  if (stopped_) return nullptr;
  return make_link(shared.config().host, shared.config().port, false);
}

void ClusterClient::Impl::apply_moved(int slot, const detail::Endpoint& to) {
  std::lock_guard lock(mu_);
  if (stopped_ || slots_.empty()) return;
  auto conn = node_locked(to);
  slots_[static_cast<std::size_t>(slot)] = conn;
  if (std::find(masters_.begin(), masters_.end(), conn) == masters_.end()) {
    masters_.push_back(conn);
  }
}

void ClusterClient::Impl::apply(const detail::Topology& topology) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  std::vector<std::shared_ptr<Connection>> slots(kSlotCount);
  std::vector<std::shared_ptr<Connection>> masters;
  std::vector<std::shared_ptr<const ReplicaSet>> replicas;
  if (reads_from_replicas()) replicas.resize(kSlotCount);
  for (const auto& range : topology.ranges) {
    auto conn = node_locked(range.master);
    std::fill(slots.begin() + range.first, slots.begin() + range.last + 1, conn);
    if (std::find(masters.begin(), masters.end(), conn) == masters.end()) masters.push_back(conn);
    if (replicas.empty() || range.replicas.empty()) continue;
    auto set = std::make_shared<ReplicaSet>();
    for (const auto& at : range.replicas) set->push_back(node_locked(at));
    std::fill(replicas.begin() + range.first, replicas.begin() + range.last + 1, set);
  }
  slots_.swap(slots);
  masters_.swap(masters);
  replicas_.swap(replicas);
  have_map_ = true;
  refreshes_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<ClusterClient::Range> ClusterClient::Impl::slot_map() const {
  std::lock_guard lock(mu_);
  std::vector<Range> out;
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    const Connection* conn = slots_[s].get();
    const std::string name =
        conn == nullptr ? "" : conn->config().host + ":" + std::to_string(conn->config().port);
    if (!out.empty() && out.back().master == name && out.back().last + 1 == static_cast<int>(s)) {
      out.back().last = static_cast<int>(s);
    } else {
      out.push_back({static_cast<int>(s), static_cast<int>(s), name});
    }
  }
  std::erase_if(out, [](const Range& r) { return r.master.empty(); });
  return out;
}

void ClusterClient::Impl::request_refresh() {
  {
    std::lock_guard lock(mu_);
    if (stopped_ || refreshing_) return;
    if (have_map_ && Clock::now() - last_refresh_ < kMinRefreshGap) return;
    refreshing_ = true;
  }
  asio::co_spawn(strand_, refresh_task(shared_from_this()), asio::detached);
}

asio::awaitable<void> ClusterClient::Impl::refresh_task(std::shared_ptr<Impl> self) {
  const bool ok = co_await refresh_once(self);
  if (!ok) spdlog::warn("redis cluster: no node gave a slot map");
  std::lock_guard lock(self->mu_);
  self->refreshing_ = false;
  self->last_refresh_ = Clock::now();
}

asio::awaitable<bool> ClusterClient::Impl::refresh_once(std::shared_ptr<Impl> self) {
  std::vector<std::shared_ptr<Connection>> candidates;
  {
    std::lock_guard lock(self->mu_);
    candidates = self->masters_;
    for (auto& [key, conn] : self->nodes_) {
      if (std::find(candidates.begin(), candidates.end(), conn) == candidates.end()) {
        candidates.push_back(conn);
      }
    }
  }
  for (auto& conn : candidates) {
    if (self->stopped()) co_return false;
    auto [ec, reply] =
        co_await conn->async_exec(one("CLUSTER", "SHARDS"), asio::as_tuple(asio::use_awaitable));
    if (ec) continue;
    auto topology = detail::parse_shards(reply, self->config_.tls.enabled);
    if (!topology) {
      auto [ec2, slots] =
          co_await conn->async_exec(one("CLUSTER", "SLOTS"), asio::as_tuple(asio::use_awaitable));
      if (ec2) continue;
      topology = detail::parse_slots(slots);
    }
    if (topology) {
      self->apply(*topology);
      co_return true;
    }
  }
  co_return false;
}

asio::awaitable<void> ClusterClient::Impl::periodic(std::shared_ptr<Impl> self) {
  while (!self->stopped()) {
    self->timer_.expires_after(self->options_.refresh_interval);
    co_await self->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (self->stopped()) break;
    self->request_refresh();
  }
}

ClusterClient::ClusterClient(executor_type executor, Config config, ClusterOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(config), std::move(options))) {}

ClusterClient::~ClusterClient() { impl_->stop(); }

ClusterClient::executor_type ClusterClient::get_executor() { return impl_->executor_; }
void ClusterClient::start() { impl_->start(); }
void ClusterClient::stop() { impl_->stop(); }
void ClusterClient::set_push_handler(PushHandler handler) {
  impl_->set_push_handler(std::move(handler));
}
void ClusterClient::set_link_handler(LinkHandler handler) {
  impl_->set_link_handler(std::move(handler));
}
const Config& ClusterClient::config() const noexcept { return impl_->config_; }
std::vector<ClusterClient::Range> ClusterClient::slot_map() const { return impl_->slot_map(); }

std::vector<std::string> ClusterClient::primaries() const {
  std::vector<std::string> out;
  for (auto& range : impl_->slot_map()) {
    if (std::find(out.begin(), out.end(), range.master) == out.end()) {
      out.push_back(std::move(range.master));
    }
  }
  return out;
}
std::uint64_t ClusterClient::refreshes() const {
  return impl_->refreshes_.load(std::memory_order_relaxed);
}
std::string ClusterClient::master_of(int slot) const { return impl_->master_of(slot); }
void ClusterClient::refresh() { impl_->request_refresh(); }
std::uint64_t ClusterClient::replica_reads() const {
  return impl_->replica_reads_.load(std::memory_order_relaxed);
}
const ClusterOptions& ClusterClient::options() const noexcept { return impl_->options_; }

void ClusterClient::do_exec(resp::Request request, ExecHandler handler) {
  if (Impl::try_direct(impl_, request, handler)) return;
  Impl::route_and_run(impl_, std::move(request), std::move(handler));
}

void ClusterClient::Impl::route_and_run(std::shared_ptr<Impl> self, resp::Request request,
                                        ExecHandler handler) {
  auto strand = asio::make_strand(self->executor_);
  asio::co_spawn(std::move(strand), run(std::move(self), std::move(request)),
                 SpawnDone{std::move(handler)});
}

void ClusterClient::do_exec_on(std::string primary, resp::Request request, ExecHandler handler) {
  if (auto conn = impl_->linked(primary)) {
    conn->async_exec(std::move(request), std::move(handler));
    return;
  }
  asio::post(impl_->executor_,
             asio::append(std::move(handler), make_error_code(Errc::not_connected), resp::Reply()));
}

Result<std::shared_ptr<AnyClient>> make_client(AnyClient::executor_type executor,
                                               std::string_view url, std::string* why) {
  auto settings = parse_client_url(url, why);
  if (!settings) return settings.error();
  return make_client(std::move(executor), std::move(*settings));
}

std::shared_ptr<AnyClient> make_client(AnyClient::executor_type executor, ClientSettings settings) {
  if (!settings.cluster) {
    return std::make_shared<Client>(std::move(executor), std::move(settings.config));
  }
  return std::make_shared<ClusterClient>(std::move(executor), std::move(settings.config),
                                         std::move(*settings.cluster));
}

}  // namespace tiercache::redis
