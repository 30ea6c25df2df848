#include "tiercache/ratelimit/limiter.hpp"

#include "tiercache/resp/reply.hpp"
#include "tiercache/resp/request.hpp"

#include "local_limiter.hpp"
#include "scripts.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

namespace tiercache::ratelimit {
namespace {

using std::chrono::microseconds;

// A reply is {allowed, remaining, retry-after us, reset-after us, server now us}. Walked with the
// iterator: ReplyView::at(i) is linear in i.
std::optional<Decision> parse(const resp::ReplyView& reply, std::uint32_t limit) {
  if (reply.type() != resp::Type::array || reply.size() != 5) return std::nullopt;
  std::int64_t v[5];
  std::size_t i = 0;
  for (const resp::ReplyView e : reply) {
    if (i == 5 || e.type() != resp::Type::integer) return std::nullopt;
    v[i++] = e.integer();
  }
  if (i != 5) return std::nullopt;
  Decision d;
  d.allowed = v[0] == 1;
  d.limit = limit;
  d.remaining = static_cast<std::uint32_t>(std::clamp<std::int64_t>(v[1], 0, limit));
  d.retry_after = microseconds(std::max<std::int64_t>(0, v[2]));
  if (v[3] > 0) {
    d.reset_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(microseconds(v[4] + v[3])));
  }
  return d;
}

// The script's fixed arguments, worked out once per Limiter as text, so the script neither
// parses nor formats them on every call (the ARGV layout of each .lua file):
//   sliding_log:    LIMIT, WINDOW us | cost, peek | expiry ms
//   sliding_window: LIMIT, WINDOW us | cost, peek
//   token_bucket:   T us, tau us     | cost | expiry ms | peek
struct ScriptArgs {
  std::string first, second, expiry_ms;

  explicit ScriptArgs(const Policy& policy) {
    const auto window_us = std::chrono::microseconds(policy.window).count();
    if (policy.algorithm == Algorithm::token_bucket) {
      // The same doubles the script used to compute, written so that they read back exactly.
      const double interval = static_cast<double>(window_us) / policy.limit;
      const double tau = policy.effective_burst() * interval;
      first = exact_text(interval);
      second = exact_text(tau);
      // A written TAT is at most tau ahead of now: the key may go once that has passed.
      expiry_ms = std::to_string(static_cast<std::int64_t>(std::ceil(tau / 1000)) + 1);
    } else {
      first = std::to_string(policy.limit);
      second = std::to_string(window_us);
      // The sliding log's newest entry leaves the window WINDOW after its stamp, and a stamp is
      // at most a millisecond past the script's clock reading (else the script computes it).
      expiry_ms = std::to_string(policy.window.count() + 1);
    }
  }

  static std::string exact_text(double v) {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf, static_cast<std::size_t>(n));
  }
};

}  // namespace

struct Limiter::State {
  State(std::shared_ptr<redis::AnyClient> client, Policy p, const Clock& c)
      : redis(std::move(client)),
        policy(std::move(p)),
        clock(c),
        script(&script_for(policy.algorithm)),
        fixed(policy),
        local(policy.local_limit != 0 ? policy.local_limit : policy.limit, policy.window,
              policy.local_max_keys, c) {}

  // EVALSHA (EVAL when `eval`) of the policy's script on key_prefix + key, with its ARGV (the
  // layout of each .lua file): the request redis::Script::async_exec would build, written
  // straight into one Request (which sizes its payload once per push). Per decision that spares
  // the key, argument and argv vectors and the prefixed key's string (bench/README.md).
  resp::Request request(bool eval, std::string_view key, std::uint32_t cost, bool peek) const {
    // The Redis key: on the stack when it fits (any sane key), else on the heap.
    char stack[256];
    std::string heap;
    std::string_view redis_key;
    const std::string& prefix = policy.key_prefix;
    if (prefix.size() + key.size() <= sizeof stack) {
      std::memcpy(stack, prefix.data(), prefix.size());
      std::memcpy(stack + prefix.size(), key.data(), key.size());
      redis_key = std::string_view(stack, prefix.size() + key.size());
    } else {
      heap.reserve(prefix.size() + key.size());
      heap.append(prefix).append(key);
      redis_key = heap;
    }
    const std::string_view command = eval ? "EVAL" : "EVALSHA";
    const std::string_view body = eval ? script->source() : script->sha1();
    const std::string_view peek_flag = peek ? "1" : "0";
    resp::Request out;
    switch (policy.algorithm) {
      case Algorithm::sliding_log:
        out.push(command, body, "1", redis_key, fixed.first, fixed.second, cost, peek_flag,
                 fixed.expiry_ms);
        break;
      case Algorithm::sliding_window:
        out.push(command, body, "1", redis_key, fixed.first, fixed.second, cost, peek_flag);
        break;
      case Algorithm::token_bucket:
        out.push(command, body, "1", redis_key, fixed.first, fixed.second, cost, fixed.expiry_ms,
                 peek_flag);
        break;
    }
    return out;
  }

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
  const redis::Script* const script;
  const ScriptArgs fixed;
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
  // The client awaited directly, not through redis::Script: one composed operation and its
  // vectors less per decision; the NOSCRIPT fallback is Script's (EVAL once, then as answered).
  auto [ec, reply] = co_await s->redis->async_exec(s->request(false, key, cost, peek),
                                                   asio::as_tuple(asio::use_awaitable));
  if (!ec && redis::Script::is_noscript(reply)) {
    std::tie(ec, reply) = co_await s->redis->async_exec(s->request(true, key, cost, peek),
                                                        asio::as_tuple(asio::use_awaitable));
  }
  error_code failure;
  if (ec) {
    if (ec == asio::error::operation_aborted) co_return ec;
    failure = make_error_code(Errc::redis_unavailable);
    s->record_failure(peek ? "peek" : "allow", ec.message());
  } else if (std::optional<Decision> d = parse(reply, s->policy.max_cost())) {
    if (!peek) s->count(*d);
    co_return *d;
  } else {
    failure = make_error_code(Errc::unexpected_reply);
    s->record_failure(peek ? "peek" : "allow", resp::to_display(reply));
  }
  if (!peek) co_return s->fallback(key, cost);
  if (s->policy.on_redis_down == OnRedisDown::local) co_return s->local.decide(key, cost, true);
  co_return failure;
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
  return Stats{get(state_->allowed),   get(state_->denied),      get(state_->redis_failures),
               get(state_->fail_open), get(state_->fail_closed), get(state_->local_decisions)};
}

}  // namespace tiercache::ratelimit
