#include "tiercache/ratelimit/rate_limited_loader.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace tiercache::ratelimit {

asio::awaitable<Result<Decision>> acquire(Limiter limiter, std::string key, WaitOptions options) {
  const auto deadline = std::chrono::steady_clock::now() + options.max_wait;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    Result<Decision> d = co_await limiter.allow(key, options.cost);
    if (!d || d->allowed) co_return d;
    // A refusal with no retry_after (a degraded answer that cannot say) still waits a little.
    const auto wait =
        std::max<std::chrono::steady_clock::duration>(d->retry_after, std::chrono::milliseconds(1));
    if (std::chrono::steady_clock::now() + wait > deadline) co_return d;
    timer.expires_after(wait);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return ec;
  }
}

}  // namespace tiercache::ratelimit
