// ClusterSubscriber: where each subscription lives on a Redis Cluster, and how it follows the map.
//
// Placement. A shard channel (SSUBSCRIBE) lives on the master of its slot: Redis 7 delivers an
// SPUBLISH only to the subscribers of the shard that owns the channel's slot, so the message
// crosses no cluster bus, and a node refuses (-MOVED) a shard channel whose slot it does not
// serve. A classic channel or pattern lives on one master, any: a classic PUBLISH is broadcast
// over the cluster bus to every node, so one subscription anywhere hears it (and each node pays
// for every message: the reason to prefer shard channels where a channel has a key-like scope).
// Each node holds one Subscriber (one RESP3 link, resubscribed across reconnects), made when a
// subscription first lands there and dropped when its last one leaves.
//
// Moves. The truth is the ClusterClient's slot map; this class never guesses an owner. What
// makes it look again (check_interval, or at once):
//   - a node link goes down: its subscriptions are marked lost from that moment, and a map
//     refresh is asked for; if the node comes back with its slots, its Subscriber resubscribes
//     and reports the gap itself; if a replica takes over, the map names it and the channels
//     move there;
//   - Redis ends a shard subscription (a node that stops serving a slot sends SUNSUBSCRIBE for
//     its channels, Subscriber::on_shard_dropped): lost from that moment, moved once the map
//     names the new owner;
//   - a subscription that could not be placed or confirmed yet (no map, node unreachable).
// While anything is unsettled the map is asked for again and the placement checked every
// 100 ms. A move subscribes on the new node first and, once it confirms, reports the gap (from
// the loss to the confirmation: messages published meanwhile are lost, as pub/sub keeps
// nothing); the old node is told to unsubscribe without waiting for it, since it is often dead.
//
// Concurrency. Every change and every check runs on one strand under an asynchronous lock
// (OpLock), so placements never interleave across co_awaits; mu_ guards the maps for the
// observers and for the node links' callbacks, which only record what they saw and wake the
// checker. mu_ is never held across a co_await or while calling a Subscriber or a user handler.
//
// One file, past the usual size: the placement rules, the checks and the lock that serializes
// them are one state machine whose invariants (an entry's node is recorded before its request
// leaves; a gap is reported once, by whoever clears lost_at) hold only when read together.

#include "tiercache/redis/cluster_subscriber.hpp"

#include "tiercache/redis/error.hpp"
#include "tiercache/redis/slot.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace tiercache::redis {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kUnsettledCheck = std::chrono::milliseconds(100);
constexpr auto kMapPoll = std::chrono::milliseconds(10);

enum class Kind { channel, pattern, shard };

// One recorded subscription.
struct Entry {
  std::shared_ptr<const Subscriber::MessageHandler> message;  // channel, shard
  std::shared_ptr<const Subscriber::PatternHandler> pattern;  // pattern
  std::string node;                                           // shard: where; "" not placed
  std::optional<Clock::time_point> lost_at;                   // a gap not reported yet
  error_code cause;
  // Redis ended it there (shard): not placed on that node again until the map has been read
  // anew since, or it would answer -MOVED and reset the link of every channel it holds.
  std::string dropped_from;
  std::uint64_t refreshes_at_drop = 0;
};

struct Change {
  Kind kind;
  bool subscribe;
  std::vector<std::string> names;
  std::shared_ptr<const Subscriber::MessageHandler> message;
  std::shared_ptr<const Subscriber::PatternHandler> pattern;
};

// A gap closed by a move, summed over one check.
struct Report {
  std::size_t subscriptions = 0;
  Clock::duration gap{};
  error_code cause;
  void add(const Entry& e, Clock::time_point now) {
    ++subscriptions;
    if (e.lost_at) gap = std::max(gap, now - *e.lost_at);
    if (!cause) cause = e.cause;
  }
};

Result<void> to_result(error_code ec) {
  if (ec) return ec;
  return {};
}

}  // namespace

class ClusterSubscriber::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(std::shared_ptr<ClusterClient> c, ClusterSubscriberOptions o)
      : cluster(std::move(c)),
        options(o),
        strand(asio::make_strand(cluster->get_executor())),
        wake(strand) {}

  static asio::awaitable<Result<void>> change(std::shared_ptr<Impl> self, Change c);
  static asio::awaitable<void> supervise(std::shared_ptr<Impl> self);

  void start();
  void stop();
  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // From any thread: check soon.
  void kick() {
    asio::post(strand, [self = shared_from_this()] {
      self->woken_ = true;
      self->wake.cancel();
    });
  }

  const std::shared_ptr<ClusterClient> cluster;
  const ClusterSubscriberOptions options;
  asio::strand<asio::any_io_executor> strand;
  asio::steady_timer wake;  // on strand

  mutable std::mutex mu_;
  bool started_ = false;
  bool stopped_ = false;
  std::map<std::string, Entry, std::less<>> shards_;
  std::map<std::string, Entry, std::less<>> channels_;  // classic, on classic_node_
  std::map<std::string, Entry, std::less<>> patterns_;  // classic, on classic_node_
  std::string classic_node_;
  struct Node {
    std::unique_ptr<Subscriber> sub;
    bool up = false;
  };
  std::map<std::string, Node, std::less<>> nodes_;
  std::shared_ptr<const ResubscribedHandler> on_resubscribed_;
  std::atomic<std::uint64_t> moves_{0};

 private:
  // The asynchronous lock every change and check holds (on strand only).
  struct OpLock {
    std::shared_ptr<Impl> self;
    ~OpLock() { self->release(); }
  };
  asio::awaitable<void> acquire();
  void release();

  asio::awaitable<Result<void>> apply(Change c);
  asio::awaitable<error_code> place_shards(std::vector<std::string> names);
  asio::awaitable<error_code> place_classic(bool moving, Report& report);
  asio::awaitable<void> check();
  asio::awaitable<bool> wait_for_map();
  // The Subscriber of `node`, made and started on first use. REQUIRES: the OpLock held.
  Subscriber& node_sub(const std::string& node);
  // Drops the Subscribers left with nothing. REQUIRES: the OpLock held.
  void prune();
  void on_node_link(const std::string& node, const LinkEvent& event);
  void on_dropped(const std::string& node, const std::string& channel);
  void on_node_resubscribed(const std::string& node, const Resubscribed& report);
  void tell(const Report& report);

  bool busy_ = false;                                      // on strand
  std::deque<std::shared_ptr<asio::steady_timer>> queue_;  // on strand
  bool woken_ = false;                                     // on strand
  bool unsettled_ = false;                                 // on strand
};

asio::awaitable<void> ClusterSubscriber::Impl::acquire() {
  if (!busy_) {
    busy_ = true;
    co_return;
  }
  auto turn = std::make_shared<asio::steady_timer>(strand, Clock::time_point::max());
  queue_.push_back(turn);
  co_await turn->async_wait(asio::as_tuple(asio::use_awaitable));  // release() hands it over
}

void ClusterSubscriber::Impl::release() {
  if (queue_.empty()) {
    busy_ = false;
    return;
  }
  auto next = std::move(queue_.front());
  queue_.pop_front();
  next->cancel();
}

void ClusterSubscriber::Impl::start() {
  std::vector<Subscriber*> subs;
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
    for (auto& [name, node] : nodes_) subs.push_back(node.sub.get());
  }
  for (auto* sub : subs) sub->start();
  asio::co_spawn(strand, supervise(shared_from_this()), asio::detached);
}

void ClusterSubscriber::Impl::stop() {
  std::vector<Subscriber*> subs;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [name, node] : nodes_) subs.push_back(node.sub.get());
  }
  for (auto* sub : subs) sub->stop();
  kick();
}

Subscriber& ClusterSubscriber::Impl::node_sub(const std::string& node) {
  std::lock_guard lock(mu_);
  auto& n = nodes_[node];
  if (n.sub) return *n.sub;
  Config config = cluster->config();
  const auto colon = node.rfind(':');
  config.host = node.substr(0, colon);
  config.port = static_cast<std::uint16_t>(std::stoi(node.substr(colon + 1)));
  config.unix_socket.clear();
  n.sub = std::make_unique<Subscriber>(cluster->get_executor(), std::move(config));
  std::weak_ptr<Impl> weak = weak_from_this();
  n.sub->on_link([weak, node](const LinkEvent& event) {
    if (auto self = weak.lock()) self->on_node_link(node, event);
  });
  n.sub->on_shard_dropped([weak, node](std::string_view channel) {
    if (auto self = weak.lock()) self->on_dropped(node, std::string(channel));
  });
  n.sub->on_resubscribed([weak, node](const Resubscribed& report) {
    if (auto self = weak.lock()) self->on_node_resubscribed(node, report);
  });
  if (started_ && !stopped_) n.sub->start();
  return *n.sub;
}

void ClusterSubscriber::Impl::prune() {
  std::vector<std::unique_ptr<Subscriber>> idle;
  {
    std::lock_guard lock(mu_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      if (it->second.sub->subscriptions() == 0) {
        idle.push_back(std::move(it->second.sub));
        it = nodes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // Destroyed outside mu_: a Subscriber's destructor may wait for its handler, which takes mu_.
}

void ClusterSubscriber::Impl::on_node_link(const std::string& node, const LinkEvent& event) {
  const bool down = event.kind == LinkEvent::Kind::down;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    auto it = nodes_.find(node);
    if (it == nodes_.end()) return;
    it->second.up = !down;
    if (down) {
      const auto now = Clock::now();
      const auto mark = [&](Entry& e) {
        if (e.lost_at) return;
        e.lost_at = now;
        e.cause = event.error;
      };
      for (auto& [name, e] : shards_) {
        if (e.node == node) mark(e);
      }
      if (classic_node_ == node) {
        for (auto& [name, e] : channels_) mark(e);
        for (auto& [name, e] : patterns_) mark(e);
      }
    }
  }
  if (down) cluster->refresh();
  kick();
}

void ClusterSubscriber::Impl::on_dropped(const std::string& node, const std::string& channel) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    auto it = shards_.find(channel);
    if (it == shards_.end() || it->second.node != node) return;
    it->second.node.clear();
    it->second.dropped_from = node;
    it->second.refreshes_at_drop = cluster->refreshes();
    if (!it->second.lost_at) {
      it->second.lost_at = Clock::now();
      it->second.cause = ClusterErrc::slot_moved;
    }
  }
  cluster->refresh();
  kick();
}

// The node's own Subscriber resubscribed after a reconnect: its gap is over, reported here
// unless a check already did (it then cleared every lost_at of the node).
void ClusterSubscriber::Impl::on_node_resubscribed(const std::string& node,
                                                   const Resubscribed& report) {
  std::shared_ptr<const ResubscribedHandler> handler;
  bool any = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    const auto settle = [&](Entry& e) {
      any = any || e.lost_at.has_value();
      e.lost_at.reset();
    };
    for (auto& [name, e] : shards_) {
      if (e.node == node) settle(e);
    }
    if (classic_node_ == node) {
      for (auto& [name, e] : channels_) settle(e);
      for (auto& [name, e] : patterns_) settle(e);
    }
    handler = on_resubscribed_;
  }
  if (any && handler && *handler) (*handler)(report);
}

void ClusterSubscriber::Impl::tell(const Report& report) {
  if (report.subscriptions == 0) return;
  std::shared_ptr<const ResubscribedHandler> handler;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    handler = on_resubscribed_;
  }
  spdlog::info(
      "redis cluster: subscriber moved {} subscription(s); messages of the last {} ms "
      "are lost",
      report.subscriptions,
      std::chrono::duration_cast<std::chrono::milliseconds>(report.gap).count());
  if (handler && *handler) {
    (*handler)(Resubscribed{
        .gap = report.gap, .subscriptions = report.subscriptions, .cause = report.cause});
  }
}

asio::awaitable<bool> ClusterSubscriber::Impl::wait_for_map() {
  const auto deadline = Clock::now() + cluster->config().request_timeout;
  asio::steady_timer pause(strand);
  while (cluster->primaries().empty()) {
    if (Clock::now() >= deadline || stopped()) co_return false;
    cluster->refresh();
    pause.expires_after(kMapPoll);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return true;
}

// Subscribes each recorded shard channel of `names` on its slot's master (grouped by node and
// handler), recording the node before the request leaves. A moved channel is unsubscribed on
// its old node without waiting. Reports the gaps it closes.
asio::awaitable<error_code> ClusterSubscriber::Impl::place_shards(std::vector<std::string> names) {
  using Group = std::pair<std::string, const Subscriber::MessageHandler*>;
  std::map<Group, std::vector<std::string>> groups;
  std::map<Group, std::shared_ptr<const Subscriber::MessageHandler>> handlers;
  std::map<std::string, std::vector<std::string>> leaving;  // old node -> channels
  error_code first;
  {
    std::lock_guard lock(mu_);
    for (const auto& name : names) {
      auto it = shards_.find(name);
      if (it == shards_.end()) continue;
      Entry& e = it->second;
      const std::string owner = cluster->master_of(key_slot(name));
      if (owner.empty()) {
        if (!first) first = ClusterErrc::cluster_down;
        continue;
      }
      if (!e.node.empty() && e.node != owner) leaving[e.node].push_back(name);
      e.node = owner;
      const Group g{owner, e.message.get()};
      groups[g].push_back(name);
      handlers[g] = e.message;
    }
  }
  for (auto& [node, channels] : leaving) {
    Subscriber* old = nullptr;
    {
      std::lock_guard lock(mu_);
      if (auto it = nodes_.find(node); it != nodes_.end()) old = it->second.sub.get();
    }
    if (old != nullptr) old->async_sunsubscribe(std::move(channels), asio::detached);
  }
  Report report;
  for (auto& [group, channels] : groups) {
    Subscriber& sub = node_sub(group.first);
    auto r = co_await sub.ssubscribe(channels, *handlers[group]);
    if (!r) {
      if (!first) first = r.error();
      continue;
    }
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    for (const auto& name : channels) {
      auto it = shards_.find(name);
      if (it == shards_.end() || it->second.node != group.first) continue;
      it->second.dropped_from.clear();
      if (!it->second.lost_at) continue;
      report.add(it->second, now);
      it->second.lost_at.reset();
    }
  }
  moves_.fetch_add(report.subscriptions, std::memory_order_relaxed);
  tell(report);
  co_return first;
}

// Subscribes every classic channel and pattern on the classic node, chosen (the first master of
// the map) when there is none or `moving`. Adds the gaps it closes to `report`.
asio::awaitable<error_code> ClusterSubscriber::Impl::place_classic(bool moving, Report& report) {
  std::string node;
  std::string old;
  std::map<const Subscriber::MessageHandler*, std::vector<std::string>> by_message;
  std::map<const Subscriber::PatternHandler*, std::vector<std::string>> by_pattern;
  std::vector<std::shared_ptr<const void>> keep;  // the handlers, while their names leave
  {
    std::lock_guard lock(mu_);
    if (channels_.empty() && patterns_.empty()) co_return error_code();
    if (classic_node_.empty() || moving) {
      const auto primaries = cluster->primaries();
      if (primaries.empty()) co_return ClusterErrc::cluster_down;
      old = classic_node_;
      classic_node_ = primaries.front();
    }
    node = classic_node_;
    for (const auto& [name, e] : channels_) {
      by_message[e.message.get()].push_back(name);
      keep.push_back(e.message);
    }
    for (const auto& [name, e] : patterns_) {
      by_pattern[e.pattern.get()].push_back(name);
      keep.push_back(e.pattern);
    }
  }
  if (!old.empty() && old != node) {
    Subscriber* previous = nullptr;
    {
      std::lock_guard lock(mu_);
      if (auto it = nodes_.find(old); it != nodes_.end()) previous = it->second.sub.get();
    }
    if (previous != nullptr) {
      std::vector<std::string> none;
      previous->async_unsubscribe(none, asio::detached);  // all of them
      previous->async_punsubscribe(std::move(none), asio::detached);
    }
  }
  Subscriber& sub = node_sub(node);
  error_code first;
  for (auto& [handler, names] : by_message) {
    auto r = co_await sub.subscribe(names, *handler);
    if (!r && !first) first = r.error();
  }
  for (auto& [handler, names] : by_pattern) {
    auto r = co_await sub.psubscribe(names, *handler);
    if (!r && !first) first = r.error();
  }
  if (!first) {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    for (auto* map : {&channels_, &patterns_}) {
      for (auto& [name, e] : *map) {
        if (!e.lost_at) continue;
        report.add(e, now);
        e.lost_at.reset();
      }
    }
  }
  co_return first;
}

// Compares every subscription with the map and moves what must move (see the top of the file).
asio::awaitable<void> ClusterSubscriber::Impl::check() {
  const auto primaries = cluster->primaries();
  bool unsettled = primaries.empty();
  std::vector<std::string> to_place;
  enum class Classic { stay, move, confirm } classic = Classic::stay;
  {
    std::lock_guard lock(mu_);
    if (stopped_) co_return;
    for (auto& [name, e] : shards_) {
      const auto node = nodes_.find(e.node);
      const bool up = node != nodes_.end() && node->second.up;
      const std::string owner = cluster->master_of(key_slot(name));
      const bool stale = !e.dropped_from.empty() && owner == e.dropped_from &&
                         cluster->refreshes() < e.refreshes_at_drop + 2;
      if (owner.empty() || (e.node == owner && e.lost_at && !up) || stale) {
        unsettled = true;  // no map yet, the node is down and still named, or the map is old
      } else if (e.node != owner || e.lost_at) {
        to_place.push_back(name);  // moved, dropped, or placed but not confirmed since
      }
    }
    if (!channels_.empty() || !patterns_.empty()) {
      const bool listed =
          std::find(primaries.begin(), primaries.end(), classic_node_) != primaries.end();
      const auto node = nodes_.find(classic_node_);
      const bool up = node != nodes_.end() && node->second.up;
      const auto is_lost = [](const auto& kv) { return kv.second.lost_at.has_value(); };
      const bool lost = std::any_of(channels_.begin(), channels_.end(), is_lost) ||
                        std::any_of(patterns_.begin(), patterns_.end(), is_lost);
      if (!listed && !primaries.empty()) {
        classic = Classic::move;  // its node left the map (or none was chosen)
      } else if (lost && up) {
        classic = Classic::confirm;  // placed but not confirmed since
      } else if (lost) {
        unsettled = true;  // its node is down and still named: wait
      }
    }
  }
  if (unsettled) cluster->refresh();
  if (!to_place.empty()) {
    if (co_await place_shards(std::move(to_place))) unsettled = true;
  }
  if (classic != Classic::stay) {
    Report report;
    if (co_await place_classic(classic == Classic::move, report)) unsettled = true;
    moves_.fetch_add(report.subscriptions, std::memory_order_relaxed);
    tell(report);
  }
  prune();
  unsettled_ = unsettled;
}

asio::awaitable<void> ClusterSubscriber::Impl::supervise(std::shared_ptr<Impl> self) {
  while (!self->stopped()) {
    if (!self->woken_) {
      self->wake.expires_after(self->unsettled_ ? kUnsettledCheck : self->options.check_interval);
      co_await self->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    self->woken_ = false;
    if (self->stopped()) break;
    co_await self->acquire();
    OpLock lock{self};
    co_await self->check();
  }
}

asio::awaitable<Result<void>> ClusterSubscriber::Impl::change(std::shared_ptr<Impl> self,
                                                              Change c) {
  if (self->stopped()) co_return make_error_code(Errc::stopped);
  co_await self->acquire();
  OpLock lock{self};
  co_return co_await self->apply(std::move(c));
}

asio::awaitable<Result<void>> ClusterSubscriber::Impl::apply(Change c) {
  auto& map = c.kind == Kind::shard ? shards_ : c.kind == Kind::channel ? channels_ : patterns_;
  if (!c.subscribe) {
    std::map<std::string, std::vector<std::string>> by_node;
    {
      std::lock_guard lock(mu_);
      if (c.names.empty()) {
        for (const auto& [name, e] : map) c.names.push_back(name);
      }
      for (const auto& name : c.names) {
        auto it = map.find(name);
        if (it == map.end()) continue;
        const std::string node = c.kind == Kind::shard ? it->second.node : classic_node_;
        if (!node.empty()) by_node[node].push_back(name);
        map.erase(it);
      }
    }
    error_code first;
    for (auto& [node, names] : by_node) {
      Subscriber* sub = nullptr;
      {
        std::lock_guard lock(mu_);
        if (auto it = nodes_.find(node); it != nodes_.end()) sub = it->second.sub.get();
      }
      if (sub == nullptr) continue;
      Result<void> r;
      if (c.kind == Kind::shard) {
        r = co_await sub->sunsubscribe(std::move(names));
      } else if (c.kind == Kind::channel) {
        r = co_await sub->unsubscribe(std::move(names));
      } else {
        r = co_await sub->punsubscribe(std::move(names));
      }
      if (!r && !first) first = r.error();
    }
    prune();
    co_return to_result(first);
  }
  if (c.names.empty()) co_return Result<void>();
  {
    std::lock_guard lock(mu_);
    for (const auto& name : c.names) {
      Entry& e = map[name];
      e.message = c.message;
      e.pattern = c.pattern;
    }
  }
  if (!co_await wait_for_map()) {
    if (!stopped()) kick();  // the checks place them once a map is known
    co_return stopped() ? make_error_code(Errc::stopped)
                        : make_error_code(ClusterErrc::cluster_down);
  }
  error_code ec;
  if (c.kind == Kind::shard) {
    ec = co_await place_shards(std::move(c.names));
  } else {
    Report report;
    ec = co_await place_classic(false, report);
    tell(report);
  }
  if (ec) kick();
  co_return to_result(ec);
}

ClusterSubscriber::ClusterSubscriber(std::shared_ptr<ClusterClient> cluster,
                                     ClusterSubscriberOptions options) {
  if (!cluster) throw std::invalid_argument("ClusterSubscriber: cluster client is null");
  if (options.check_interval.count() <= 0) {
    throw std::invalid_argument("ClusterSubscriber: check_interval must be positive");
  }
  impl_ = std::make_shared<Impl>(std::move(cluster), options);
}

ClusterSubscriber::~ClusterSubscriber() {
  impl_->stop();
  std::map<std::string, Impl::Node, std::less<>> nodes;
  {
    std::lock_guard lock(impl_->mu_);
    nodes.swap(impl_->nodes_);
  }
}

void ClusterSubscriber::start() { impl_->start(); }
void ClusterSubscriber::stop() { impl_->stop(); }

void ClusterSubscriber::on_resubscribed(ResubscribedHandler handler) {
  auto shared = std::make_shared<const ResubscribedHandler>(std::move(handler));
  std::lock_guard lock(impl_->mu_);
  impl_->on_resubscribed_ = std::move(shared);
}

namespace {

Change make_change(Kind kind, bool subscribe, std::vector<std::string> names,
                   Subscriber::MessageHandler message = {},
                   Subscriber::PatternHandler pattern = {}) {
  return Change{kind, subscribe, std::move(names),
                std::make_shared<const Subscriber::MessageHandler>(std::move(message)),
                std::make_shared<const Subscriber::PatternHandler>(std::move(pattern))};
}

}  // namespace

asio::awaitable<Result<void>> ClusterSubscriber::ssubscribe(std::vector<std::string> channels,
                                                            MessageHandler handler) {
  co_return co_await asio::co_spawn(
      impl_->strand,
      Impl::change(impl_, make_change(Kind::shard, true, std::move(channels), std::move(handler))),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> ClusterSubscriber::subscribe(std::vector<std::string> channels,
                                                           MessageHandler handler) {
  co_return co_await asio::co_spawn(
      impl_->strand,
      Impl::change(impl_,
                   make_change(Kind::channel, true, std::move(channels), std::move(handler))),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> ClusterSubscriber::psubscribe(std::vector<std::string> patterns,
                                                            PatternHandler handler) {
  co_return co_await asio::co_spawn(
      impl_->strand,
      Impl::change(impl_,
                   make_change(Kind::pattern, true, std::move(patterns), {}, std::move(handler))),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> ClusterSubscriber::sunsubscribe(std::vector<std::string> channels) {
  co_return co_await asio::co_spawn(
      impl_->strand, Impl::change(impl_, make_change(Kind::shard, false, std::move(channels))),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> ClusterSubscriber::unsubscribe(std::vector<std::string> channels) {
  co_return co_await asio::co_spawn(
      impl_->strand, Impl::change(impl_, make_change(Kind::channel, false, std::move(channels))),
      asio::use_awaitable);
}

asio::awaitable<Result<void>> ClusterSubscriber::punsubscribe(std::vector<std::string> patterns) {
  co_return co_await asio::co_spawn(
      impl_->strand, Impl::change(impl_, make_change(Kind::pattern, false, std::move(patterns))),
      asio::use_awaitable);
}

std::size_t ClusterSubscriber::subscriptions() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->shards_.size() + impl_->channels_.size() + impl_->patterns_.size();
}

std::string ClusterSubscriber::node_of(std::string_view shard_channel) const {
  std::lock_guard lock(impl_->mu_);
  auto it = impl_->shards_.find(shard_channel);
  return it == impl_->shards_.end() ? std::string() : it->second.node;
}

std::string ClusterSubscriber::classic_node() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->channels_.empty() && impl_->patterns_.empty() ? std::string()
                                                              : impl_->classic_node_;
}

std::uint64_t ClusterSubscriber::moves() const {
  return impl_->moves_.load(std::memory_order_relaxed);
}

}  // namespace tiercache::redis
