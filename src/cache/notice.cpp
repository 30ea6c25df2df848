#include "cache/notice.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <utility>
#include <vector>

namespace tiercache::cache::detail {

void Notice::set() {
  std::map<std::uint64_t, Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    if (set_) return;
    set_ = true;
    waiters.swap(waiters_);
  }
  for (auto& [id, waiter] : waiters) complete(std::move(waiter), {});
}

bool Notice::is_set() const {
  std::lock_guard lock(mu_);
  return set_;
}

void Notice::expire(std::uint64_t id) {
  std::unique_lock lock(mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;  // already completed by set()
  Waiter waiter = std::move(it->second);
  waiters_.erase(it);
  lock.unlock();
  complete(std::move(waiter), asio::error::timed_out);
}

void Notice::start_wait(asio::any_io_executor ex, Handler handler,
                        std::chrono::steady_clock::duration timeout) {
  std::unique_lock lock(mu_);
  if (set_) {
    lock.unlock();
    complete(Waiter{std::move(ex), std::move(handler)}, {});
    return;
  }
  const std::uint64_t id = next_id_++;
  waiters_.emplace(id, Waiter{ex, std::move(handler)});
  lock.unlock();
  // The timer keeps itself alive through its handler and only expires the waiter: it is never
  // cancelled from another thread. After set() it finds no waiter and does nothing.
  auto timer = std::make_shared<asio::steady_timer>(ex, timeout);
  std::weak_ptr<Notice> weak = weak_from_this();
  timer->async_wait([timer, weak, id](error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->expire(id);
  });
}

void Notice::complete(Waiter waiter, error_code ec) {
  auto ex = waiter.executor;
  asio::post(std::move(ex), [h = std::move(waiter.handler), ec]() mutable { std::move(h)(ec); });
}

asio::awaitable<bool> Notice::wait_for(std::chrono::steady_clock::duration timeout) {
  if (is_set()) co_return true;
  auto ex = co_await asio::this_coro::executor;
  auto token = asio::as_tuple(asio::use_awaitable);
  auto [ec] = co_await asio::async_initiate<decltype(token), void(error_code)>(
      [this, ex, timeout](auto handler) { start_wait(ex, Handler(std::move(handler)), timeout); },
      token);
  co_return !ec;
}

}  // namespace tiercache::cache::detail
