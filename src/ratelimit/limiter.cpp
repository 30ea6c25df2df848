#include "tiercache/ratelimit/limiter.hpp"

#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include "batcher.hpp"
#include "local_limiter.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace tiercache::ratelimit {

struct Limiter::State {
  State(std::shared_ptr<redis::AnyClient> client, Policy p, const Clock& c)
      : redis(std::move(client)),
        policy(std::move(p)),
        clock(c),
        batcher(std::make_shared<Batcher>(redis, policy)),
        local(policy.local_limit != 0 ? policy.local_limit : policy.limit, policy.window,
              policy.local_max_keys, c) {}

  // Counts a call Redis could not decide and says so at warn, at most once a second.
  void record_failure(std::string_view what, std::string_view cause) {
    redis_failures.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = clock.now().time_since_epoch().count();
    std::int64_t next = next_warn_ns.load(std::memory_order_relaxed);
    if (now < next || !next_warn_ns.compare_exchange_strong(next, now + 1'000'000'000)) {
      suppressed_warnings.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    spdlog::warn(
        "ratelimit: {} on {}* ({}, {} per {} ms) not decided by Redis: {}; on_redis_down = {} "
        "({} more such calls since the last message)",
        what, policy.key_prefix, to_string(policy.algorithm), policy.limit, policy.window.count(),
        cause, to_string(policy.on_redis_down),
        suppressed_warnings.exchange(0, std::memory_order_relaxed));
  }

  void count(const Decision& d) {
    (d.allowed ? allowed : denied).fetch_add(1, std::memory_order_relaxed);
  }

  // What allow() answers when Redis could not decide.
  Decision fallback(const std::string& key, std::uint32_t cost) {
    Decision d;
    switch (policy.on_redis_down) {
      case OnRedisDown::fail_open:
        fail_open.fetch_add(1, std::memory_order_relaxed);
        d.allowed = true;
        d.limit = policy.max_cost();
        d.remaining = policy.max_cost() - cost;
        d.source = Source::fail_open;
        break;
      case OnRedisDown::fail_closed:
        fail_closed.fetch_add(1, std::memory_order_relaxed);
        d.allowed = false;
        d.limit = policy.max_cost();
        d.retry_after = policy.fail_closed_retry;
        d.source = Source::fail_closed;
        break;
      case OnRedisDown::local:
        local_decisions.fetch_add(1, std::memory_order_relaxed);
        d = local.decide(key, cost, false);
        break;
    }
    count(d);
    return d;
  }

  // The coroutines of Limiter take their state by value: a call keeps it alive, and no capturing
  // lambda is a coroutine.
  static asio::awaitable<Result<Decision>> decide(std::shared_ptr<State> s, std::string key,
                                                  std::uint32_t cost, bool peek);
  static asio::awaitable<Result<void>> reset_key(std::shared_ptr<State> s, std::string key);

  const std::shared_ptr<redis::AnyClient> redis;
  const Policy policy;
  const Clock& clock;
  const std::shared_ptr<Batcher> batcher;
  LocalLimiter local;

  std::atomic<std::uint64_t> allowed{0}, denied{0}, redis_failures{0}, fail_open{0}, fail_closed{0},
      local_decisions{0};
  std::atomic<std::int64_t> next_warn_ns{std::numeric_limits<std::int64_t>::min()};
  std::atomic<std::uint64_t> suppressed_warnings{0};
};

asio::awaitable<Result<Decision>> Limiter::State::decide(std::shared_ptr<State> s, std::string key,
                                                         std::uint32_t cost, bool peek) {
  if (key.empty() || cost == 0 || cost > s->policy.max_cost())
    co_return make_error_code(Errc::invalid_argument);
  // Queued with the Limiter's other decisions: one script call decides a batch of them.
  std::string redis_key;
  redis_key.reserve(s->policy.key_prefix.size() + key.size());
  redis_key.append(s->policy.key_prefix).append(key);
  Batcher::Answer answer =
      co_await s->batcher->async_decide(std::move(redis_key), cost, peek, asio::use_awaitable);
  if (answer.decision) {
    if (!peek) s->count(*answer.decision);
    co_return *answer.decision;
  }
  if (answer.failure == asio::error::operation_aborted) co_return answer.failure;
  s->record_failure(peek ? "peek" : "allow", answer.cause);
  if (!peek) co_return s->fallback(key, cost);
  if (s->policy.on_redis_down == OnRedisDown::local) co_return s->local.decide(key, cost, true);
  co_return answer.failure;
}

asio::awaitable<Result<void>> Limiter::State::reset_key(std::shared_ptr<State> s, std::string key) {
  if (key.empty()) co_return make_error_code(Errc::invalid_argument);
  s->local.reset(key);
  resp::Request request;
  request.push("UNLINK", s->policy.key_prefix + key);
  auto reply = co_await s->redis->exec(std::move(request));
  if (!reply) {
    if (reply.error() == asio::error::operation_aborted) co_return reply.error();
    s->record_failure("reset", reply.error().message());
    co_return make_error_code(Errc::redis_unavailable);
  }
  if (reply->is_error()) {
    s->record_failure("reset", reply->str());
    co_return make_error_code(Errc::unexpected_reply);
  }
  co_return Result<void>{};
}

Limiter::Limiter(std::shared_ptr<redis::AnyClient> redis, Policy policy, const Clock& clock) {
  if (redis == nullptr) throw std::invalid_argument("ratelimit::Limiter: no Redis client");
  if (policy.limit == 0) throw std::invalid_argument("ratelimit::Policy: limit must be >= 1");
  if (policy.window < std::chrono::milliseconds(1) ||
      policy.window > std::chrono::hours(24 * 366)) {
    throw std::invalid_argument("ratelimit::Policy: window must be between 1 ms and 1 year");
  }
  if (policy.local_max_keys == 0) {
    throw std::invalid_argument("ratelimit::Policy: local_max_keys must be >= 1");
  }
  if (policy.max_batch == 0 || policy.max_batch > 1000) {
    throw std::invalid_argument("ratelimit::Policy: max_batch must be between 1 and 1000");
  }
  if (policy.max_in_flight == 0 || policy.max_in_flight > 16) {
    throw std::invalid_argument("ratelimit::Policy: max_in_flight must be between 1 and 16");
  }
  state_ = std::make_shared<State>(std::move(redis), std::move(policy), clock);
}

asio::awaitable<Result<Decision>> Limiter::allow(std::string key, std::uint32_t cost) {
  return State::decide(state_, std::move(key), cost, false);
}

asio::awaitable<Result<Decision>> Limiter::peek(std::string key, std::uint32_t cost) {
  return State::decide(state_, std::move(key), cost, true);
}

asio::awaitable<Result<void>> Limiter::reset(std::string key) {
  return State::reset_key(state_, std::move(key));
}

const Policy& Limiter::policy() const noexcept { return state_->policy; }

std::string Limiter::redis_key(std::string_view key) const {
  std::string out = state_->policy.key_prefix;
  out += key;
  return out;
}

Limiter::Stats Limiter::stats() const noexcept {
  const auto get = [](const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  return Stats{.allowed = get(state_->allowed),
               .denied = get(state_->denied),
               .redis_failures = get(state_->redis_failures),
               .fail_open = get(state_->fail_open),
               .fail_closed = get(state_->fail_closed),
               .local = get(state_->local_decisions),
               .batches = state_->batcher->batches(),
               .batched_decisions = state_->batcher->batched_decisions()};
}

}  // namespace tiercache::ratelimit
