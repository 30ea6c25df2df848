#pragma once
// Subscriber: Redis pub/sub (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE) with a callback per channel or
// pattern, on a RESP3 connection of its own that it keeps subscribed across reconnects.
// Use: redis::Subscriber sub(ex, cfg); sub.start();
//      co_await sub.subscribe({"news"}, [](std::string_view ch, std::string_view msg) {...});
// Thread-safety: safe from any thread. Handlers run on the connection's strand, one at a time,
// in the order Redis sent the messages: keep them short and never block in them.
//
// Delivery is at most once. While the link is down (Redis restarting, network trouble) Redis
// keeps no messages for us: whatever was published then is lost. On every reconnect the
// Subscriber subscribes again to everything and, once Redis has confirmed, calls the handler
// given to on_resubscribed() with the length of the gap, so the application can reload what
// it might have missed. Messages arrive as RESP3 push messages; a server that only speaks RESP2
// (Redis < 6) is refused: requests complete with Errc::handshake_failed and the log says why.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/config.hpp"
#include "tiercache/redis/link.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::redis {

namespace asio = boost::asio;

class Connection;

class Subscriber {
 public:
  using executor_type = asio::any_io_executor;
  // A message on a channel (SUBSCRIBE, SSUBSCRIBE). The views live for the call only.
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;
  // A message on a channel that matched a pattern (PSUBSCRIBE).
  using PatternHandler = std::function<void(std::string_view pattern, std::string_view channel,
                                            std::string_view message)>;

  // What on_resubscribed reports after a reconnect.
  struct Resubscribed {
    // From the moment the link went down to Redis's confirmation of the new subscriptions:
    // messages published in this window were lost.
    std::chrono::steady_clock::duration gap{};
    // Channels, patterns and shard channels subscribed again.
    std::size_t subscriptions = 0;
    // Why the link went down.
    error_code cause;
  };
  using ResubscribedHandler = std::function<void(const Resubscribed&)>;

  using ChangeSignature = void(error_code);

  // Uses config.protocol = 3 whatever it says; the other fields as a Connection does.
  Subscriber(executor_type executor, Config config);
  // Stops the connection. Handlers never run after it returns, except one already running.
  ~Subscriber();

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  executor_type get_executor() const;

  // Starts connecting in the background; subscriptions made before take effect once connected.
  void start();
  // Closes the connection; subscribe and unsubscribe then complete with Errc::stopped.
  void stop();

  // Called (on the strand) after every reconnect, once the subscriptions are back. Set it
  // before start(); it may also be replaced later.
  void on_resubscribed(ResubscribedHandler handler);

  // Hears the link go down and come up (after the resubscription is sent, before Redis confirms
  // it): a ClusterSubscriber moves its subscriptions off a node that died. Runs on the strand.
  // Set it before start(); it may also be replaced later.
  void on_link(LinkHandler handler);

  // A shard channel whose subscription Redis ended by itself: a cluster node that stops serving
  // the channel's slot (a migration, a failover that demoted it) sends SUNSUBSCRIBE. The
  // channel is forgotten here, since this node would refuse it on the next reconnect; subscribe
  // it where its slot lives now (ClusterSubscriber does). Runs on the strand. Set it before
  // start(); it may also be replaced later.
  using DroppedHandler = std::function<void(std::string_view channel)>;
  void on_shard_dropped(DroppedHandler handler);

  // Subscribes to channels (SUBSCRIBE), patterns (PSUBSCRIBE, glob-style: news.*) or shard
  // channels (SSUBSCRIBE, Redis 7). A name subscribed again gets the new handler. The
  // subscription is recorded at once and kept across reconnects even when this call fails:
  // the error says it is not active yet, not that it is forgotten.
  // Completes with: (error_code): empty once Redis has confirmed, so a message published after
  //   that arrives; else a redis::Errc (not_connected, reply_timeout, stopped, ...).
  // Cancellation: terminal; the subscription stays recorded (unsubscribe to undo it).
  // Lifetimes: the Subscriber must outlive the operation. Names and handler are moved in.
  // Example: examples/hello_redis.cpp
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_subscribe(std::vector<std::string> channels, MessageHandler handler,
                       CompletionToken&& token = {}) {
    return initiate(Change{Kind::channel, true, std::move(channels), std::move(handler), {}},
                    std::forward<CompletionToken>(token));
  }
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_psubscribe(std::vector<std::string> patterns, PatternHandler handler,
                        CompletionToken&& token = {}) {
    return initiate(Change{Kind::pattern, true, std::move(patterns), {}, std::move(handler)},
                    std::forward<CompletionToken>(token));
  }
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_ssubscribe(std::vector<std::string> channels, MessageHandler handler,
                        CompletionToken&& token = {}) {
    return initiate(Change{Kind::shard, true, std::move(channels), std::move(handler), {}},
                    std::forward<CompletionToken>(token));
  }

  // Unsubscribes. Delivery to these names stops at once, before Redis confirms; unknown names
  // are ignored.
  // Completes with: (error_code): empty once Redis has confirmed; else a redis::Errc.
  // Cancellation: terminal; delivery stays stopped.
  // Lifetimes: the Subscriber must outlive the operation.
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_unsubscribe(std::vector<std::string> channels, CompletionToken&& token = {}) {
    return initiate(Change{Kind::channel, false, std::move(channels), {}, {}},
                    std::forward<CompletionToken>(token));
  }
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_punsubscribe(std::vector<std::string> patterns, CompletionToken&& token = {}) {
    return initiate(Change{Kind::pattern, false, std::move(patterns), {}, {}},
                    std::forward<CompletionToken>(token));
  }
  template <class CompletionToken = asio::default_completion_token_t<executor_type>>
  auto async_sunsubscribe(std::vector<std::string> channels, CompletionToken&& token = {}) {
    return initiate(Change{Kind::shard, false, std::move(channels), {}, {}},
                    std::forward<CompletionToken>(token));
  }

  // The async_ operations for coroutines, with the outcome as a value.
  [[nodiscard]] asio::awaitable<Result<void>> subscribe(std::vector<std::string> channels,
                                                        MessageHandler handler);
  [[nodiscard]] asio::awaitable<Result<void>> psubscribe(std::vector<std::string> patterns,
                                                         PatternHandler handler);
  [[nodiscard]] asio::awaitable<Result<void>> ssubscribe(std::vector<std::string> channels,
                                                         MessageHandler handler);
  [[nodiscard]] asio::awaitable<Result<void>> unsubscribe(std::vector<std::string> channels);
  [[nodiscard]] asio::awaitable<Result<void>> punsubscribe(std::vector<std::string> patterns);
  [[nodiscard]] asio::awaitable<Result<void>> sunsubscribe(std::vector<std::string> channels);

  // Channels, patterns and shard channels currently subscribed (as recorded here).
  std::size_t subscriptions() const;
  // Whether the link is up now.
  bool connected() const;

 private:
  enum class Kind { channel, pattern, shard };
  struct Change {
    Kind kind;
    bool subscribe;
    std::vector<std::string> names;
    MessageHandler message;
    PatternHandler pattern;
  };
  struct State;

  template <class CompletionToken>
  auto initiate(Change change, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, ChangeSignature>(
        [this](auto handler, Change c) { do_change(std::move(c), std::move(handler)); }, token,
        std::move(change));
  }
  void do_change(Change change, asio::any_completion_handler<ChangeSignature> handler);

  std::shared_ptr<State> state_;  // shared with the connection's handlers
  std::unique_ptr<Connection> connection_;
};

}  // namespace tiercache::redis
