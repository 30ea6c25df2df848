#pragma once
// GuardedClient: a redis::AnyClient that guards another one (one Redis endpoint) with a circuit
// breaker and a bound on requests in flight. Open or saturated, a request fails at once with
// resilience::Errc::circuit_open or saturated and is never sent, so callers fall back to L1 and
// loaders instead of waiting out timeouts; after its cool-down the breaker lets probes through
// and closes by itself when they succeed. It never retries (see guarded_client.cpp).
// Use: auto redis = std::make_shared<resilience::GuardedClient>(
//          std::make_shared<redis::Client>(ex, cfg), resilience::GuardedClientOptions{});
//      cache::Cache cache(redis, cache::Options{.ns = "flights"});   // a Cache over it
// Thread-safety: safe from any thread; on the hot path one atomic load (breaker) and one CAS
// (bulkhead) per request.

#include "tiercache/base/clock.hpp"
#include "tiercache/base/result.hpp"
#include "tiercache/redis/any_client.hpp"
#include "tiercache/resilience/circuit_breaker.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace tiercache::resilience {

// What one completed request tells the breaker about the endpoint.
enum class Verdict : std::uint8_t {
  success,  // the server answered, error replies (WRONGTYPE, NOPERM, OOM...) included
  failure,  // the endpoint is unusable: no connection, link lost, protocol or TLS error, and the
            // error replies of a server that cannot serve (LOADING, BUSY, MASTERDOWN, CLUSTERDOWN)
  timeout,  // no reply or no connection in time (reply_timeout, connect_timeout)
  ignore,   // says nothing about the endpoint: cancelled by the caller, client stopped, the
            // client's own queue full, a bad URL, a refusal of an inner guard
};

// The verdict on a request of `commands` commands that completed with (ec, reply). For several
// commands, the reply is their array and each element is looked at.
Verdict verdict_of(error_code ec, const resp::Reply& reply, std::size_t commands) noexcept;

struct GuardedClientOptions {
  // The breaker: thresholds, cool-down, and on_transition, the hook that hears every state
  // change (called under the breaker's lock: keep it short). An empty name becomes the inner
  // client's config().describe(). Default: CircuitBreakerOptions's defaults.
  CircuitBreakerOptions breaker{};
  // Requests in flight (sent, not yet answered) at most; beyond, Errc::saturated. Each holds its
  // request and handler until its reply or timeout, so when Redis stalls this bounds what piles
  // up in one request_timeout. Default: 4096 (4 M requests/s at 1 ms round trips).
  std::size_t max_in_flight = 4096;
  // Where the breaker reads the time. REQUIRES: outlives the GuardedClient and every request
  // in flight. Default: the real clock.
  const Clock* clock = &Clock::real();
};

// Counts since construction, and the present state.
struct GuardedClientStats {
  BreakerState state = BreakerState::closed;
  // The breaker's own counts: outcomes (successes, errors, timeouts, ignored) and transitions
  // (opened, half_opened, closed).
  BreakerStats breaker{};
  std::uint64_t rejected_open = 0;       // requests failed with Errc::circuit_open
  std::uint64_t rejected_saturated = 0;  // requests failed with Errc::saturated
  std::size_t in_flight = 0;             // requests sent and not yet completed (a gauge)
};

class GuardedClient final : public redis::AnyClient {
 public:
  // REQUIRES: inner is not null; options.breaker valid (else CircuitBreaker's
  // std::invalid_argument); max_in_flight >= 1 (else std::invalid_argument).
  explicit GuardedClient(std::shared_ptr<redis::AnyClient> inner,
                         GuardedClientOptions options = {});
  // Does not stop the inner client: whoever holds the last reference to it does (Cache does
  // through this class's stop()). Requests in flight keep the breaker alive until they complete.
  ~GuardedClient() override;
  GuardedClient(const GuardedClient&) = delete;
  GuardedClient& operator=(const GuardedClient&) = delete;

  // These forward to the inner client.
  executor_type get_executor() override;
  void start() override;
  void stop() override;
  void set_push_handler(redis::PushHandler handler) override;
  void set_link_handler(redis::LinkHandler handler) override;
  const redis::Config& config() const noexcept override;
  std::vector<std::string> primaries() const override { return inner_->primaries(); }
  bool cross_slot_allowed() const noexcept override { return inner_->cross_slot_allowed(); }

  BreakerState state() const noexcept;
  // The breaker is not closed: requests are refused (open) or only probes go (half-open).
  bool degraded() const noexcept { return state() != BreakerState::closed; }
  GuardedClientStats stats() const noexcept;

  // For admin endpoints and tests: force_open(), reset().
  CircuitBreaker& breaker() noexcept;
  redis::AnyClient& inner() noexcept { return *inner_; }

 protected:
  // Completes with: the inner client's (error_code, Reply); or, without sending anything,
  //   Errc::circuit_open or Errc::saturated, posted to the handler's executor (never inline).
  // Cancellation: the inner client's; the handler's executor and cancellation slot are the
  //   ones the inner client sees. A cancelled request tells the breaker nothing.
  // Lifetimes: as AnyClient::async_exec.
  void do_exec(resp::Request request, ExecHandler handler) override;
  // The same, for a request to one primary.
  void do_exec_on(std::string primary, resp::Request request, ExecHandler handler) override;

 private:
  // Both of the above; without a primary the request is routed by key.
  void guarded(std::optional<std::string> primary, resp::Request request, ExecHandler handler);

  struct Shared;
  std::shared_ptr<redis::AnyClient> inner_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace tiercache::resilience
