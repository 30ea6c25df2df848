#pragma once
// Batcher: a Limiter's way to Redis. Decisions queue here; while fewer than
// Policy::max_in_flight script calls are in flight (per hash slot on a cluster) and none waits,
// one leaves at once, alone; else they wait and leave together in the next call, when one in
// flight returns: at most Policy::max_batch per EVALSHA, decided in order by one batch script
// (max_batch 1: each at once, pipelined, no queue).
// Use: auto batcher = std::make_shared<Batcher>(redis, policy);
//      Batcher::Answer a = co_await batcher->async_decide(redis_key, cost, peek, use_awaitable);
// Thread-safety: safe from any thread (one mutex, never held while completing a caller); each
// answer is delivered on its caller's executor.

#include "tiercache/base/result.hpp"
#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/ratelimit/decision.hpp"
#include "tiercache/ratelimit/policy.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/redis/script.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tiercache::ratelimit {

namespace asio = boost::asio;

class Batcher : public std::enable_shared_from_this<Batcher> {
 public:
  // What Redis said about one decision.
  struct Answer {
    std::optional<Decision> decision;  // Redis decided
    // Otherwise why not: Errc::redis_unavailable (no reply: lost link, timeout...),
    // Errc::unexpected_reply (an error reply, for the whole batch or this key alone), or
    // operation_aborted (the caller cancelled).
    error_code failure;
    std::string cause;  // for the log: the transport error's message or Redis's reply
  };

  // REQUIRES: redis is not null; policy is valid (Limiter checks it).
  Batcher(std::shared_ptr<redis::AnyClient> redis, const Policy& policy);

  // Decides a request of `cost` units on `redis_key` (the prefixed key) with the next batch.
  // REQUIRES: 1 <= cost <= policy.max_cost(), redis_key not empty.
  // Completes with: an Answer, on the token's executor (the client's when it has none).
  // Cancellation: any type, terminal: a decision still queued leaves the queue and counts
  //   nothing; one already sent completes at once, and Redis may still count it.
  template <class CompletionToken>
  auto async_decide(std::string redis_key, std::uint32_t cost, bool peek, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(Answer)>(
        [this](auto handler, std::string key, std::uint32_t units, bool look) {
          auto pending = std::make_shared<PendingOp<decltype(handler)>>(
              std::move(handler), redis_->get_executor(), std::move(key), units, look);
          pending->watch_cancellation(pending);
          submit(std::move(pending));
        },
        token, std::move(redis_key), cost, peek);
  }

  // Script calls sent (one per batch; a NOSCRIPT retry is the same batch), and the decisions
  // they carried.
  std::uint64_t batches() const noexcept { return batches_.load(std::memory_order_relaxed); }
  std::uint64_t batched_decisions() const noexcept {
    return batched_decisions_.load(std::memory_order_relaxed);
  }

 private:
  // One decision on its way: what the script needs, and its caller to complete once.
  struct Pending {
    Pending(std::string k, std::uint32_t c, bool p) : key(std::move(k)), cost(c), peek(p) {}
    virtual ~Pending() = default;
    // Completes the caller unless it was completed already: on its executor, at once when that
    // is this thread's (`post` forces a later turn: from inside a cancellation handler).
    virtual void finish(Answer answer, bool post) = 0;

    const std::string key;
    const std::uint32_t cost;
    const bool peek;
    std::atomic<bool> done{false};  // the caller was completed (answered or cancelled)
  };

  template <class Handler>
  struct PendingOp final : Pending {
    using Executor = asio::associated_executor_t<Handler, asio::any_io_executor>;
    using Work = std::decay_t<decltype(asio::prefer(std::declval<Executor>(),
                                                    asio::execution::outstanding_work.tracked))>;

    PendingOp(Handler&& h, const asio::any_io_executor& fallback, std::string k, std::uint32_t c,
              bool p)
        : Pending(std::move(k), c, p),
          handler(std::move(h)),
          work(asio::prefer(asio::get_associated_executor(handler, fallback),
                            asio::execution::outstanding_work.tracked)) {}

    // Holds only a weak reference: a decision answered and gone ignores a late cancellation.
    void watch_cancellation(const std::shared_ptr<PendingOp>& self) {
      auto slot = asio::get_associated_cancellation_slot(handler);
      if (!slot.is_connected()) return;
      slot.assign([weak = std::weak_ptr<PendingOp>(self)](asio::cancellation_type type) {
        if (type == asio::cancellation_type::none) return;
        if (auto pending = weak.lock()) {
          pending->finish(Answer{.failure = asio::error::operation_aborted}, true);
        }
      });
    }

    void finish(Answer answer, bool post) override {
      if (done.exchange(true, std::memory_order_acq_rel)) return;
      Work ex(std::move(work));
      auto call = [h = std::move(handler), a = std::move(answer), ex]() mutable {
        asio::get_associated_cancellation_slot(h).clear();
        std::move(h)(std::move(a));
      };
      if (post) {
        asio::post(ex, std::move(call));
      } else {
        asio::dispatch(ex, std::move(call));
      }
    }

    Handler handler;
    Work work;  // outstanding work on the caller's executor until it is completed
  };

  // The lane of a batch sent with batching off (max_batch 1): no slot is that large.
  static constexpr std::uint32_t kUnbatched = 0x10000;

  // One script call: the decisions it carries, in order, and the hash slot they share.
  struct Batch {
    std::uint32_t lane = 0;
    bool eval = false;  // sent again by EVAL after NOSCRIPT
    std::vector<std::shared_ptr<Pending>> pendings;
  };

  // The decisions of one hash slot (all of them on one server) that wait for a call in flight.
  struct Lane {
    std::uint32_t in_flight = 0;  // script calls sent and not answered; waiting implies >= 1
    std::deque<std::shared_ptr<Pending>> waiting;
  };

  void submit(std::shared_ptr<Pending> pending);
  // Called as one of `lane`'s calls returns: the next batch (its waiting decisions not
  // cancelled, at most max_batch), which takes the returned call's place in flight; or null when
  // none waits, and then the lane has one call fewer in flight.
  std::shared_ptr<Batch> take_next(std::uint32_t lane);
  void send(std::shared_ptr<Batch> batch);
  void on_reply(std::shared_ptr<Batch> batch, error_code ec, const resp::Reply& reply);
  // Completes every decision of `batch` with what `reply` says of it.
  void deliver(const Batch& batch, error_code ec, const resp::Reply& reply) const;
  resp::Request request(const Batch& batch) const;

  const std::shared_ptr<redis::AnyClient> redis_;
  const redis::Script* const script_;
  const bool by_slot_;  // a cluster: one batch holds keys of one hash slot only
  const std::uint32_t limit_;
  const std::size_t max_batch_;
  const std::uint32_t max_in_flight_;
  // The script's fixed arguments, worked out once as text (see batcher.cpp).
  const std::vector<std::string> fixed_;

  std::mutex mu_;
  std::unordered_map<std::uint16_t, Lane> lanes_ TIERCACHE_GUARDED_BY(mu_);
  std::atomic<std::uint64_t> batches_{0}, batched_decisions_{0};
};

}  // namespace tiercache::ratelimit
