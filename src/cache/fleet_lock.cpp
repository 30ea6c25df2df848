// The fleet lock: one loader per key across processes (single_flight.cpp, races 2 to 4).
// SET <ns>:lock:v<N>:<key> <token> NX PX lock_ttl; released by a Lua compare-and-delete on the
// token, which reads the lock with GETEX rather than GET: Redis tracks, for the caller's link,
// the keys a script reads with read-only commands, so GET would make the owner's own DEL push an
// invalidation back to it for a key nobody caches (GETEX with no option is a write command and
// changes nothing; Redis 6.2+). A waiter reads the key after each failed SET NX (which makes its
// link track the key), then sleeps on the key's Notice, set by the owner's write arriving as an
// invalidation push, with a doubling backoff as the fallback; after lock_max_wait it loads without
// the lock.

#include "cache/cache_impl.hpp"

#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include <random>

namespace tiercache::cache {
namespace {

using std::chrono::milliseconds;

const redis::Script& release_script() {
  static const redis::Script script(R"lua(
if redis.call('GETEX', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

std::string make_token() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string token(32, '0');
  for (std::size_t i = 0; i < token.size(); i += 16) {
    std::uint64_t bits = rng();
    for (std::size_t j = 0; j < 16; ++j, bits >>= 4) token[i + j] = hex[bits & 0xf];
  }
  return token;
}

}  // namespace

asio::awaitable<Cache::Impl::LockOutcome> Cache::Impl::acquire_lock(std::string rk) {
  const std::string lk = lock_key(rk);
  const std::string token = make_token();
  const auto deadline = std::chrono::steady_clock::now() + options_.lock_max_wait;
  milliseconds backoff(2);
  bool counted = false;
  for (;;) {
    // Taken before the GET, so a push after its reply is not lost; dropped from the map on every
    // way out unless another waiter holds it (without pushes nothing else would remove it).
    auto notice = key_notice(rk);
    struct Lease {
      Impl& impl;
      const std::string& rk;
      std::shared_ptr<detail::Notice>& notice;
      ~Lease() { impl.drop_notice(rk, notice); }
    } lease{*this, rk, notice};
    resp::Request req;
    req.push("SET", lk, token, "NX", "PX", options_.lock_ttl.count());
    auto reply = co_await exec(std::move(req));
    if (!reply || reply->is_error()) co_return LockOutcome{.unavailable = true};
    if (!reply->is_null()) co_return LockOutcome{.token = token};
    if (!counted) {
      counted = true;
      counters_.lock_waits.fetch_add(1);
    }
    auto seen = co_await read_for_lock_wait(rk);
    if (!seen) co_return LockOutcome{.unavailable = true};
    if (seen->hit() && !seen->stale) co_return LockOutcome{.appeared = std::move(*seen)};
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      spdlog::warn("cache {}: waited {} ms for the fleet lock of {}; loading without it",
                   options_.ns, options_.lock_max_wait.count(), rk);
      co_return LockOutcome{};
    }
    (void)co_await notice->wait_for(
        std::min<std::chrono::steady_clock::duration>(backoff, deadline - now));
    backoff = std::min(backoff * 2, milliseconds(250));
  }
}

asio::awaitable<void> Cache::Impl::release_lock(std::string rk, std::string token) {
  if (!redis_) co_return;
  std::vector<std::string> keys{lock_key(rk)};
  std::vector<std::string> args{std::move(token)};
  auto r = co_await release_script().exec(*redis_, std::move(keys), std::move(args));
  if (!r || r->is_error()) {
    spdlog::warn("cache {}: releasing the fleet lock of {} failed; it expires in {} ms",
                 options_.ns, rk, options_.lock_ttl.count());
  }
}

}  // namespace tiercache::cache
