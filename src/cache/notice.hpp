#pragma once
// Notice: a one-shot event that any number of coroutines await with a deadline and any thread
// sets. Single-flight joiners wait on their flight's Notice; fleet-lock waiters on the Notice of
// the key they wait for, set by the tracking push that names it.
// Use: auto n = std::make_shared<Notice>(); ... bool set = co_await n->wait_for(200ms);
// REQUIRES: owned by a shared_ptr (a wait's deadline timer holds a weak_ptr to it).
// Thread-safety: safe from any thread. Waiters are completed by a post to their executor, never
// inline, and never with the lock held.

#include "tiercache/base/result.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace tiercache::cache::detail {

namespace asio = boost::asio;

class Notice : public std::enable_shared_from_this<Notice> {
 public:
  using Handler = asio::any_completion_handler<void(error_code)>;

  // Completes every waiter with success; later waits complete at once.
  void set();
  bool is_set() const;

  // True once set, false when `timeout` passed first. The deadline is a timer of this Notice's
  // own (not an `||` of two operations: it completes the waiter itself, so it needs no
  // cancellation to reach a handler).
  [[nodiscard]] asio::awaitable<bool> wait_for(std::chrono::steady_clock::duration timeout);

 private:
  struct Waiter {
    asio::any_io_executor executor;
    Handler handler;
  };

  // Registers the waiter and starts its deadline timer; completes at once when already set.
  void start_wait(asio::any_io_executor ex, Handler handler,
                  std::chrono::steady_clock::duration timeout);
  void expire(std::uint64_t id);
  static void complete(Waiter waiter, error_code ec);

  mutable std::mutex mu_;
  bool set_ = false;
  std::uint64_t next_id_ = 0;
  // A node map: erasing never move-assigns a handler (Boost 1.81's any_completion_handler
  // recurses on move-assignment).
  std::map<std::uint64_t, Waiter> waiters_;
};

}  // namespace tiercache::cache::detail
