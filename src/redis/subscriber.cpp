// Subscriber: pub/sub over one RESP3 connection.
//
// Under RESP3 a subscribed connection still answers ordinary commands, and every message or
// (un)subscribe confirmation arrives as a push ('>'), which the Connection hands to its push
// handler, never to a caller. SUBSCRIBE and friends are therefore no-reply requests (they
// complete once written), and "Redis has confirmed" is learnt by a PING sent right behind them
// on the same connection: Redis runs a connection's commands in order, so PING's reply means
// the subscription is active and a message published from now on reaches us. That barrier is
// what async_subscribe completes on, and what on_resubscribed waits for after a reconnect.
//
// The subscriptions live here, not at the server: each link up (LinkEvent) subscribes again to
// every name recorded, and the time from the down event to the PING's reply is the gap whose
// messages are lost (Redis pub/sub keeps nothing for absent subscribers). Names are recorded
// before the request is sent and removed before UNSUBSCRIBE is sent, so delivery follows the
// local map at once, and a reconnect racing a change sends what the map says when it runs.
// Ordering: changes and resubscriptions reach the connection's strand in the order they took
// the lock, and the connection keeps that order on the wire.
//
// Redis may also end a shard subscription by itself: a cluster node that stops serving a slot
// sends SUNSUBSCRIBE for its channels. Such a push is told from the confirmation of our own
// SUNSUBSCRIBE by a count of those sent and not yet confirmed per channel; the channel is then
// forgotten (the node would refuse it on the next reconnect) and on_shard_dropped hears it.
//
// Locking: State::mu guards the maps, the connection pointer and the link status. It is never
// held while a user handler runs (a handler may subscribe or unsubscribe), only while a request
// is queued (Connection::async_exec never completes inline).
#include "tiercache/redis/subscriber.hpp"

#include "tiercache/redis/connection.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <utility>

namespace tiercache::redis {

using Clock = std::chrono::steady_clock;

struct Subscriber::State : std::enable_shared_from_this<Subscriber::State> {
  explicit State(executor_type ex) : executor(std::move(ex)) {}

  template <class Handler>
  using Map = std::map<std::string, std::shared_ptr<const Handler>, std::less<>>;

  const executor_type executor;
  mutable std::mutex mu;
  // All guarded by mu.
  Connection* connection = nullptr;  // null once the Subscriber is being destroyed
  bool stopped = false;
  bool up = false;
  bool resp2 = false;  // the server answered HELLO 3 with RESP2: nothing is sent
  Clock::time_point down_at;
  error_code down_cause;
  bool in_gap = false;  // went down after having been up
  Map<MessageHandler> channels;
  Map<PatternHandler> patterns;
  Map<MessageHandler> shards;
  std::shared_ptr<const ResubscribedHandler> on_resubscribed;
  std::shared_ptr<const LinkHandler> link_listener;
  std::shared_ptr<const DroppedHandler> on_dropped;
  // SUNSUBSCRIBEs sent whose confirmation has not arrived, by channel: a sunsubscribe push for a
  // channel with none pending is Redis ending the subscription by itself.
  std::map<std::string, int, std::less<>> sunsubscribes_pending;

  std::size_t count() const { return channels.size() + patterns.size() + shards.size(); }

  // The error a change gets before anything is sent, or none. REQUIRES: mu held.
  error_code refusal() const {
    if (stopped || connection == nullptr) return Errc::stopped;
    if (resp2) return Errc::handshake_failed;
    return {};
  }

  void on_push(resp::ReplyView push);
  void on_link(const LinkEvent& event);
  void tell_link(const LinkEvent& event);
  void on_sunsubscribe(std::string_view channel);

  // Records a change in the maps; the command to send (empty: nothing). REQUIRES: mu held.
  resp::Request record(Change& change);

  struct ResubscribeDone;
  struct ChangeOp;
};

namespace {

constexpr std::string_view kSubscribe[] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"};
constexpr std::string_view kUnsubscribe[] = {"UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"};

resp::Request ping() {
  resp::Request request;
  request.push("PING");
  return request;
}

// The PING behind a change or a resubscription answered: did Redis take what came before it?
error_code barrier_result(error_code ec, const resp::Reply& reply) {
  if (ec) return ec;
  if (!reply.is_error()) return {};
  // An error reply to SUBSCRIBE (an ACL without &channel) takes the PING's place in the stream.
  spdlog::warn("redis: subscriber: Redis refused a subscription: {}", reply.str());
  if (reply.str().starts_with("NOPERM")) return Errc::permission_denied;
  return Errc::protocol_error;
}

template <class Handler>
std::vector<std::string> names_of(const std::map<std::string, Handler, std::less<>>& map) {
  std::vector<std::string> names;
  names.reserve(map.size());
  for (const auto& [name, handler] : map) names.push_back(name);
  return names;
}

}  // namespace

// Calls on_resubscribed once the resubscription's PING has its reply.
struct Subscriber::State::ResubscribeDone {
  std::weak_ptr<State> weak;
  Resubscribed report;
  bool gap;
  Clock::time_point down_at;

  void operator()(error_code ec, resp::Reply reply) {
    auto state = weak.lock();
    if (!state) return;
    if (const error_code bad = barrier_result(ec, reply)) {
      spdlog::warn("redis: subscriber: resubscribing {} names failed: {}", report.subscriptions,
                   bad.message());
      return;
    }
    if (!gap) return;
    report.gap = Clock::now() - down_at;
    std::shared_ptr<const ResubscribedHandler> handler;
    {
      std::lock_guard lock(state->mu);
      if (state->stopped) return;
      handler = state->on_resubscribed;
    }
    spdlog::info("redis: subscriber resubscribed {} names; messages of the last {} ms are lost",
                 report.subscriptions,
                 std::chrono::duration_cast<std::chrono::milliseconds>(report.gap).count());
    if (handler && *handler) (*handler)(report);
  }
};

void Subscriber::State::on_push(resp::ReplyView push) {
  if (push.type() != resp::Type::push || push.size() < 3) return;
  const std::string_view kind = push.at(0).str();
  if (kind == "sunsubscribe") {
    on_sunsubscribe(push.at(1).str());
    return;
  }
  const bool pattern = kind == "pmessage";
  if (!pattern && kind != "message" && kind != "smessage") return;  // confirmations, tracking
  if (pattern && push.size() < 4) return;
  const std::string_view name = push.at(1).str();
  const std::string_view channel = pattern ? push.at(2).str() : name;
  const std::string_view message = push.at(pattern ? 3 : 2).str();

  std::shared_ptr<const MessageHandler> on_message;
  std::shared_ptr<const PatternHandler> on_pattern;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    if (pattern) {
      if (auto it = patterns.find(name); it != patterns.end()) on_pattern = it->second;
    } else {
      const auto& map = kind == "message" ? channels : shards;
      if (auto it = map.find(name); it != map.end()) on_message = it->second;
    }
  }
  if (on_message && *on_message) (*on_message)(channel, message);
  if (on_pattern && *on_pattern) (*on_pattern)(name, channel, message);
}

void Subscriber::State::on_link(const LinkEvent& event) {
  std::lock_guard lock(mu);
  if (event.kind == LinkEvent::Kind::down) {
    if (up) {
      up = false;
      in_gap = true;
      down_at = Clock::now();
      down_cause = event.error;
    }
    return;
  }
  up = true;
  if (event.protocol != 3) {
    if (!resp2) {
      spdlog::error(
          "redis: Subscriber needs RESP3 (Redis 6 or later); {} answered HELLO 3 with "
          "RESP{}, so nothing is subscribed",
          connection ? connection->config().describe() : "the server", event.protocol);
    }
    resp2 = true;
    return;
  }
  resp2 = false;
  if (connection == nullptr || stopped) return;

  ResubscribeDone done{weak_from_this(), {}, in_gap, down_at};
  done.report.subscriptions = count();
  done.report.cause = down_cause;
  in_gap = false;
  resp::Request request;
  if (!channels.empty()) request.push_range(kSubscribe[0], "", names_of(channels));
  if (!patterns.empty()) request.push_range(kSubscribe[1], "", names_of(patterns));
  // One SSUBSCRIBE per channel: a cluster wants each command's channels in one slot.
  for (const auto& [name, handler] : shards) request.push(kSubscribe[2], name);
  if (!request.empty()) {
    request.flags().no_reply = true;
    connection->async_exec(std::move(request), [](error_code, resp::Reply) {});
  }
  connection->async_exec(ping(), std::move(done));
}

void Subscriber::State::tell_link(const LinkEvent& event) {
  std::shared_ptr<const LinkHandler> listener;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    listener = link_listener;
  }
  if (listener && *listener) (*listener)(event);
}

// Our own SUNSUBSCRIBE's confirmation, or Redis ending the subscription (see on_shard_dropped).
void Subscriber::State::on_sunsubscribe(std::string_view channel) {
  std::shared_ptr<const DroppedHandler> dropped;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    if (auto it = sunsubscribes_pending.find(channel); it != sunsubscribes_pending.end()) {
      if (--it->second == 0) sunsubscribes_pending.erase(it);
      return;
    }
    auto it = shards.find(channel);
    if (it == shards.end()) return;
    shards.erase(it);
    dropped = on_dropped;
  }
  spdlog::info("redis: subscriber: Redis ended the subscription to shard channel '{}'", channel);
  if (dropped && *dropped) (*dropped)(channel);
}

// A subscribe or unsubscribe: record it, send the command, then the PING barrier.
struct Subscriber::State::ChangeOp {
  std::shared_ptr<State> state;
  Change change;
  int step = 0;

  // `self` owns this op: a local copy of `state` keeps the lock's mutex alive after the move.
  template <class Self>
  void operator()(Self& self) {
    const std::shared_ptr<State> s = state;
    error_code refused;
    {
      std::lock_guard lock(s->mu);
      refused = s->refusal();
      if (!refused) {
        resp::Request request = s->record(change);
        step = request.empty() ? 2 : 1;
        s->connection->async_exec(request.empty() ? ping() : std::move(request), std::move(self));
        return;
      }
    }
    step = 2;
    asio::post(s->executor, asio::append(std::move(self), refused, resp::Reply()));
  }

  template <class Self>
  void operator()(Self& self, error_code ec, resp::Reply reply) {
    if (step == 1 && !ec) {
      const std::shared_ptr<State> s = state;
      std::lock_guard lock(s->mu);
      if (!(ec = s->refusal())) {
        step = 2;
        s->connection->async_exec(ping(), std::move(self));
        return;
      }
    }
    if (step == 2) ec = barrier_result(ec, reply);
    self.complete(ec);
  }
};

resp::Request Subscriber::State::record(Change& change) {
  const auto index = static_cast<std::size_t>(change.kind);
  resp::Request request;
  if (change.subscribe) {
    if (change.names.empty()) return request;
    if (change.kind == Kind::pattern) {
      auto handler = std::make_shared<const PatternHandler>(std::move(change.pattern));
      for (const auto& name : change.names) patterns[name] = handler;
    } else {
      auto handler = std::make_shared<const MessageHandler>(std::move(change.message));
      auto& map = change.kind == Kind::channel ? channels : shards;
      for (const auto& name : change.names) map[name] = handler;
    }
    if (change.kind == Kind::shard) {
      for (const auto& name : change.names) request.push(kSubscribe[index], name);
    } else {
      request.push_range(kSubscribe[index], "", change.names);
    }
  } else {
    // No names: all of this kind, as Redis reads an UNSUBSCRIBE without arguments.
    const auto erase = [&](auto& map) {
      if (change.names.empty()) change.names = names_of(map);
      for (const auto& name : change.names) map.erase(name);
    };
    if (change.kind == Kind::channel) erase(channels);
    if (change.kind == Kind::pattern) erase(patterns);
    if (change.kind == Kind::shard) erase(shards);
    if (change.names.empty()) return request;
    if (change.kind == Kind::shard) {
      for (const auto& name : change.names) {
        request.push(kUnsubscribe[index], name);
        ++sunsubscribes_pending[name];
      }
    } else {
      request.push_range(kUnsubscribe[index], "", change.names);
    }
  }
  request.flags().no_reply = true;
  return request;
}

Subscriber::Subscriber(executor_type executor, Config config)
    : state_(std::make_shared<State>(executor)) {
  config.protocol = 3;
  connection_ = std::make_unique<Connection>(std::move(executor), std::move(config));
  state_->connection = connection_.get();
  std::weak_ptr<State> weak = state_;
  connection_->set_push_handler([weak](LinkId, resp::ReplyView push) {
    if (auto state = weak.lock()) state->on_push(push);
  });
  connection_->set_link_handler([weak](const LinkEvent& event) {
    if (auto state = weak.lock()) {
      state->on_link(event);
      state->tell_link(event);
    }
  });
}

Subscriber::~Subscriber() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
    state_->connection = nullptr;
  }
  connection_->stop();
}

Subscriber::executor_type Subscriber::get_executor() const { return state_->executor; }

void Subscriber::start() { connection_->start(); }

void Subscriber::stop() {
  {
    std::lock_guard lock(state_->mu);
    state_->stopped = true;
  }
  connection_->stop();
}

void Subscriber::on_resubscribed(ResubscribedHandler handler) {
  auto shared = std::make_shared<const ResubscribedHandler>(std::move(handler));
  std::lock_guard lock(state_->mu);
  state_->on_resubscribed = std::move(shared);
}

void Subscriber::on_link(LinkHandler handler) {
  auto shared = std::make_shared<const LinkHandler>(std::move(handler));
  std::lock_guard lock(state_->mu);
  state_->link_listener = std::move(shared);
}

void Subscriber::on_shard_dropped(DroppedHandler handler) {
  auto shared = std::make_shared<const DroppedHandler>(std::move(handler));
  std::lock_guard lock(state_->mu);
  state_->on_dropped = std::move(shared);
}

void Subscriber::do_change(Change change, asio::any_completion_handler<ChangeSignature> handler) {
  asio::async_compose<asio::any_completion_handler<ChangeSignature>, ChangeSignature>(
      State::ChangeOp{state_, std::move(change)}, handler, state_->executor);
}

std::size_t Subscriber::subscriptions() const {
  std::lock_guard lock(state_->mu);
  return state_->count();
}

bool Subscriber::connected() const {
  std::lock_guard lock(state_->mu);
  return state_->up && !state_->resp2;
}

namespace {

Result<void> to_result(error_code ec) {
  if (ec) return ec;
  return {};
}

}  // namespace

asio::awaitable<Result<void>> Subscriber::subscribe(std::vector<std::string> channels,
                                                    MessageHandler handler) {
  auto [ec] = co_await async_subscribe(std::move(channels), std::move(handler),
                                       asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

asio::awaitable<Result<void>> Subscriber::psubscribe(std::vector<std::string> patterns,
                                                     PatternHandler handler) {
  auto [ec] = co_await async_psubscribe(std::move(patterns), std::move(handler),
                                        asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

asio::awaitable<Result<void>> Subscriber::ssubscribe(std::vector<std::string> channels,
                                                     MessageHandler handler) {
  auto [ec] = co_await async_ssubscribe(std::move(channels), std::move(handler),
                                        asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

asio::awaitable<Result<void>> Subscriber::unsubscribe(std::vector<std::string> channels) {
  auto [ec] = co_await async_unsubscribe(std::move(channels), asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

asio::awaitable<Result<void>> Subscriber::punsubscribe(std::vector<std::string> patterns) {
  auto [ec] = co_await async_punsubscribe(std::move(patterns), asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

asio::awaitable<Result<void>> Subscriber::sunsubscribe(std::vector<std::string> channels) {
  auto [ec] = co_await async_sunsubscribe(std::move(channels), asio::as_tuple(asio::use_awaitable));
  co_return to_result(ec);
}

}  // namespace tiercache::redis
