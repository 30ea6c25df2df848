#include "cache/notice.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tiercache::cache::detail {

void Notice::set() {
  std::lock_guard lock(mu_);
  if (set_) return;
  set_ = true;
  for (auto& [id, timer] : waiters_) timer->expires_at(asio::steady_timer::time_point::min());
}

bool Notice::is_set() const {
  std::lock_guard lock(mu_);
  return set_;
}

std::size_t Notice::waiting() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

asio::awaitable<bool> Notice::wait_for(std::chrono::steady_clock::duration timeout) {
  if (is_set()) co_return true;
  asio::steady_timer timer(co_await asio::this_coro::executor, timeout);
  // Leaves waiters_ however the wait ends: completed, or its frame destroyed with the context.
  struct Registration {
    Notice& notice;
    std::uint64_t id = 0;  // 0: not registered
    ~Registration() {
      if (id == 0) return;
      std::lock_guard lock(notice.mu_);
      notice.waiters_.erase(id);
    }
  } registration{*this};
  // The wait starts under the mutex, so set() either sees the timer registered and expires it,
  // or ran before and the wait starts already expired.
  auto token = asio::as_tuple(asio::use_awaitable);
  co_await asio::async_initiate<decltype(token), void(error_code)>(
      [this, &timer, &registration](auto handler) {
        std::lock_guard lock(mu_);
        if (set_) {
          timer.expires_at(asio::steady_timer::time_point::min());
        } else {
          registration.id = ++next_id_;
          waiters_.emplace(registration.id, &timer);
        }
        timer.async_wait(std::move(handler));
      },
      token);
  co_return is_set();
}

}  // namespace tiercache::cache::detail
