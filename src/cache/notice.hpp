#pragma once
// Notice: a one-shot event that any number of coroutines await with a deadline and any thread
// sets. Single-flight joiners wait on their flight's Notice; fleet-lock waiters on the Notice of
// the key they wait for, set by the tracking push that names it.
// Use: auto n = std::make_shared<Notice>(); ... bool set = co_await n->wait_for(200ms);
// A wait is a steady_timer wait: set() moves every waiter's expiry to now, so the waiting
// coroutine is owned by its timer's pending operation like any Asio wait — cancelled with its
// caller's cancellation slot, and destroyed with the io_context, never kept alive by the Notice.
// Thread-safety: safe from any thread. A waiter's timer is touched only under the mutex.

#include "tiercache/base/result.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace tiercache::cache::detail {

namespace asio = boost::asio;

class Notice {
 public:
  // Wakes every waiter; later waits complete at once.
  void set();
  bool is_set() const;
  std::size_t waiting() const;  // waits in progress

  // True once set, false when `timeout` passed first (or the wait was cancelled).
  [[nodiscard]] asio::awaitable<bool> wait_for(std::chrono::steady_clock::duration timeout);

 private:
  mutable std::mutex mu_;
  bool set_ = false;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, asio::steady_timer*> waiters_;  // each owned by its waiting frame
};

}  // namespace tiercache::cache::detail
