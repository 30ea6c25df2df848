#pragma once
// CircuitBreaker: stops calling an endpoint that is failing, and lets a few probes test it again
// later (closed -> open -> half-open -> closed). It opens when, over a sliding time window of
// buckets, at least minimum_calls were made and the share of failures reaches the threshold, or
// after consecutive_timeouts timeouts in a row; stays open for a jittered cool-down (doubling on
// each failed probe round, up to a cap); then admits half_open_probes calls, closes when they all
// succeed and reopens on the first failure. The design and its races: circuit_breaker.cpp.
// Use: if (auto permit = breaker.try_acquire()) { auto r = co_await call();
//        r ? permit.success() : permit.failure(is_timeout ? Failure::timeout : Failure::error); }
//      else { /* open: serve from L1 or the loader, report degraded */ }
// Thread-safety: safe from any thread. Closed, try_acquire() is one atomic load; an outcome is a
// few atomic adds; a mutex is taken only for a state change.

#include "tiercache/base/clock.hpp"
#include "tiercache/base/thread_annotations.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace tiercache::resilience {

enum class BreakerState : std::uint8_t { closed = 0, open = 1, half_open = 2 };
std::string_view to_string(BreakerState state) noexcept;

enum class Failure : std::uint8_t {
  error,    // the call failed (connection lost, refused, protocol error)
  timeout,  // the call did not answer in time; counts as an error and toward the streak
};

// Why the state changed, for logs and alerts.
enum class TransitionReason : std::uint8_t {
  failure_rate,          // closed -> open
  consecutive_timeouts,  // closed -> open
  cool_down_elapsed,     // open -> half_open
  probes_succeeded,      // half_open -> closed
  probe_failed,          // half_open -> open
  forced,                // force_open() or reset()
};
std::string_view to_string(TransitionReason reason) noexcept;

struct BreakerTransition {
  BreakerState from;
  BreakerState to;
  TransitionReason reason;
  Clock::duration cool_down{};  // to == open: how long it stays open
};

struct CircuitBreakerOptions {
  // A name for logs and metrics (the endpoint). Default: "".
  std::string name;
  // The sliding window over which the failure rate is taken, and its number of buckets: a
  // bucket's calls leave the window all at once when it ages out. Default: 10 s in 10 buckets.
  Clock::duration window = std::chrono::seconds(10);
  std::uint32_t window_buckets = 10;
  // Calls the window must hold before the failure rate can open the breaker. Default: 20.
  std::uint32_t minimum_calls = 20;
  // Opens when failures / calls >= this. Default: 0.5.
  double failure_rate_threshold = 0.5;
  // Opens after this many timeouts with no success between them (errors neither add to nor
  // break the streak); 0 turns this off. Default: 5.
  std::uint32_t consecutive_timeouts = 5;
  // The first cool-down; each probe round that fails doubles it, up to max_open_duration; a
  // close resets it. Default: 5 s, at most 30 s.
  Clock::duration open_duration = std::chrono::seconds(5);
  Clock::duration max_open_duration = std::chrono::seconds(30);
  // Each cool-down is lengthened by a random share in [0, jitter] of itself, so that breakers of
  // many processes do not probe in step. Default: 0.2.
  double jitter = 0.2;
  // Calls admitted while half-open; all must succeed to close. Default: 3.
  std::uint32_t half_open_probes = 3;
  // Seed for the jitter; 0 picks one at random. Default: 0.
  std::uint64_t seed = 0;
  // Called on every state change, in order, under the breaker's transition lock: keep it short,
  // and call nothing of this breaker but state() and stats() from it. Default: none.
  std::function<void(const BreakerTransition&)> on_transition;
};

// Counts since construction.
struct BreakerStats {
  std::uint64_t allowed = 0;   // permits granted
  std::uint64_t rejected = 0;  // try_acquire() refused: open, or half-open with probes out
  std::uint64_t successes = 0;
  std::uint64_t errors = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t ignored = 0;  // permits dropped or ignore()d: no outcome
  std::uint64_t opened = 0;   // transitions into each state
  std::uint64_t half_opened = 0;
  std::uint64_t closed = 0;
};

class CircuitBreaker {
 public:
  // The right to make one call. Report its outcome once; a permit destroyed without one counts
  // as ignore(). A rejected permit is false and its outcome calls do nothing.
  class [[nodiscard]] Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept
        : breaker_(std::exchange(other.breaker_, nullptr)), word_(other.word_) {}
    Permit& operator=(Permit&& other) noexcept;
    ~Permit() { ignore(); }

    explicit operator bool() const noexcept { return breaker_ != nullptr; }
    void success() noexcept;
    void failure(Failure kind = Failure::error) noexcept;
    // The outcome says nothing about the endpoint (cancelled by the caller, a Redis error reply
    // such as WRONGTYPE): frees a half-open probe slot, changes no count of the window.
    void ignore() noexcept;

   private:
    friend class CircuitBreaker;
    Permit(CircuitBreaker* breaker, std::uint64_t word) : breaker_(breaker), word_(word) {}
    CircuitBreaker* breaker_ = nullptr;
    std::uint64_t word_ = 0;  // the state word when granted: its generation and state
  };

  // REQUIRES: window_buckets >= 1, window >= window_buckets ns, half_open_probes >= 1,
  // 0 < failure_rate_threshold <= 1 (else std::invalid_argument). clock outlives this.
  CircuitBreaker(CircuitBreakerOptions options, const Clock& clock);
  ~CircuitBreaker();
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // A permit if a call may go now. Open past its cool-down, the first caller moves the breaker
  // to half-open and takes a probe.
  Permit try_acquire();

  BreakerState state() const noexcept;
  BreakerStats stats() const noexcept;
  const std::string& name() const noexcept { return options_.name; }

  // Admin and tests: open now (for the current cool-down), or close and forget the window.
  void force_open();
  void reset();

 private:
  struct Window;
  enum class Outcome : std::uint8_t { success, error, timeout, ignore };

  void on_outcome(std::uint64_t permit_word, Outcome outcome) noexcept;
  void record_in_window(bool failed) noexcept;
  bool window_trips() const noexcept;
  // Moves from the state in `expected` (same generation) to `to`; false if another thread
  // already moved it. Takes mu_.
  bool transition(std::uint64_t expected, BreakerState to, TransitionReason reason) noexcept;
  std::int64_t now_ns() const noexcept;

  const CircuitBreakerOptions options_;
  const Clock& clock_;
  const std::int64_t bucket_ns_;
  const Clock::time_point origin_;
  std::unique_ptr<Window> window_;

  // The state word: generation (32 bits) | probes succeeded (15) | probes issued (15) | state (2).
  std::atomic<std::uint64_t> word_;
  std::atomic<std::int64_t> open_until_ns_{0};
  std::atomic<std::uint32_t> timeout_streak_{0};

  struct Counters;
  std::unique_ptr<Counters> counters_;

  std::mutex mu_;
  Clock::duration next_cool_down_ TIERCACHE_GUARDED_BY(mu_);
  std::uint64_t rng_ TIERCACHE_GUARDED_BY(mu_);
};

}  // namespace tiercache::resilience
