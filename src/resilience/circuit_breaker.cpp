// CircuitBreaker: how it is built, and which races it tolerates.
//
// State word. Everything a call needs to know is one atomic 64-bit word:
//
//   63                 32 31        17 16         2 1   0
//   +--------------------+------------+------------+-----+
//   |     generation     | probes ok  | probes out |state|
//   +--------------------+------------+------------+-----+
//
// Closed, try_acquire() is a single acquire load of this word. Half-open, a probe is taken by a
// compare-and-swap that raises "probes out" only while it is below half_open_probes, so no more
// probes run than allowed, however many threads race. Every transition bumps the generation, and
// a permit remembers the word it was granted under: an outcome from an older generation (a slow
// call admitted before the breaker opened) changes no state and cannot steal or fill a probe slot
// of a later half-open round. Counting probes in the same word as the generation is what makes
// that exact: with separate atomics, a thread that read "half-open, generation 5" could bump the
// probe count of generation 7.
//
// Transitions take mu_, re-check the generation and state they expect, write the open deadline
// (before publishing the new word with release, so a reader that sees "open" sees its deadline)
// and call on_transition under the lock, so callbacks arrive in transition order. Half-open probe
// counts may change concurrently, hence the CAS loop even under the lock.
//
// Window. Failure rate is taken over `window` in window_buckets time buckets (a ring indexed by
// bucket epoch = time / bucket width). Each bucket is one atomic word: epoch (20 bits, mod 2^20),
// calls (22 bits), failures (22 bits). Recording is a CAS that either adds to the bucket of the
// current epoch or restarts a bucket left from an older epoch, so a bucket is never half reset.
// A bucket counts toward the window when its epoch is less than window_buckets behind the
// current one. Approximations, all harmless: a bucket untouched for exactly a multiple of 2^20
// bucket widths (12 days at 1 s buckets) would count again (only until overwritten); a bucket
// saturates at 4 million calls; a success recorded by a thread descheduled across a close can
// land in the fresh window. Successes never trip the breaker, so only a failure sums the window.
//
// Timeouts. A separate streak counter: a timeout adds one, a success clears it, an error leaves
// it. It opens the breaker on its own, without minimum_calls, because a Redis that stalls makes
// every call wait its full timeout: a few in a row are enough evidence.
#include "tiercache/resilience/circuit_breaker.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>

namespace tiercache::resilience {

namespace {

constexpr std::uint64_t kStateMask = 0x3;
constexpr int kIssuedShift = 2;
constexpr int kSucceededShift = 17;
constexpr std::uint64_t kProbeMask = 0x7fff;
constexpr int kGenerationShift = 32;

BreakerState state_of(std::uint64_t w) { return static_cast<BreakerState>(w & kStateMask); }
std::uint64_t issued_of(std::uint64_t w) { return (w >> kIssuedShift) & kProbeMask; }
std::uint64_t succeeded_of(std::uint64_t w) { return (w >> kSucceededShift) & kProbeMask; }
std::uint64_t generation_of(std::uint64_t w) { return w >> kGenerationShift; }
std::uint64_t make_word(std::uint64_t generation, BreakerState s) {
  return (generation << kGenerationShift) | static_cast<std::uint64_t>(s);
}

constexpr int kEpochShift = 44;
constexpr std::uint64_t kEpochMask = (std::uint64_t{1} << 20) - 1;
constexpr int kCallsShift = 22;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << 22) - 1;

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view to_string(BreakerState state) noexcept {
  switch (state) {
    case BreakerState::closed:
      return "closed";
    case BreakerState::open:
      return "open";
    case BreakerState::half_open:
      return "half_open";
  }
  return "unknown";
}

std::string_view to_string(TransitionReason reason) noexcept {
  switch (reason) {
    case TransitionReason::failure_rate:
      return "failure rate";
    case TransitionReason::consecutive_timeouts:
      return "consecutive timeouts";
    case TransitionReason::cool_down_elapsed:
      return "cool-down elapsed";
    case TransitionReason::probes_succeeded:
      return "probes succeeded";
    case TransitionReason::probe_failed:
      return "probe failed";
    case TransitionReason::forced:
      return "forced";
  }
  return "unknown";
}

struct CircuitBreaker::Window {
  explicit Window(std::uint32_t n) : buckets(std::make_unique<std::atomic<std::uint64_t>[]>(n)) {}
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets;
};

struct CircuitBreaker::Counters {
  std::atomic<std::uint64_t> allowed{0}, rejected{0}, successes{0}, errors{0}, timeouts{0},
      ignored{0}, opened{0}, half_opened{0}, closed{0};
};

// ---- Permit ----

CircuitBreaker::Permit& CircuitBreaker::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    ignore();
    breaker_ = std::exchange(other.breaker_, nullptr);
    word_ = other.word_;
  }
  return *this;
}

void CircuitBreaker::Permit::success() noexcept {
  if (auto* b = std::exchange(breaker_, nullptr)) b->on_outcome(word_, Outcome::success);
}

void CircuitBreaker::Permit::failure(Failure kind) noexcept {
  if (auto* b = std::exchange(breaker_, nullptr)) {
    b->on_outcome(word_, kind == Failure::timeout ? Outcome::timeout : Outcome::error);
  }
}

void CircuitBreaker::Permit::ignore() noexcept {
  if (auto* b = std::exchange(breaker_, nullptr)) b->on_outcome(word_, Outcome::ignore);
}

// ---- CircuitBreaker ----

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      bucket_ns_(std::max<std::int64_t>(
          1, options_.window.count() / std::max<std::int64_t>(1, options_.window_buckets))),
      origin_(clock.now()),
      window_(std::make_unique<Window>(std::max<std::uint32_t>(1, options_.window_buckets))),
      word_(make_word(0, BreakerState::closed)),
      counters_(std::make_unique<Counters>()),
      next_cool_down_(options_.open_duration),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()) {
  if (options_.window_buckets == 0 || options_.window.count() < options_.window_buckets ||
      options_.half_open_probes == 0 || options_.half_open_probes > kProbeMask ||
      !(options_.failure_rate_threshold > 0 && options_.failure_rate_threshold <= 1) ||
      options_.jitter < 0 || options_.open_duration.count() < 0) {
    throw std::invalid_argument("CircuitBreaker " + options_.name + ": invalid options");
  }
}

CircuitBreaker::~CircuitBreaker() = default;

std::int64_t CircuitBreaker::now_ns() const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now() - origin_).count();
}

BreakerState CircuitBreaker::state() const noexcept {
  return state_of(word_.load(std::memory_order_acquire));
}

BreakerStats CircuitBreaker::stats() const noexcept {
  const auto& c = *counters_;
  constexpr auto r = std::memory_order_relaxed;
  return {c.allowed.load(r), c.rejected.load(r),    c.successes.load(r),
          c.errors.load(r),  c.timeouts.load(r),    c.ignored.load(r),
          c.opened.load(r),  c.half_opened.load(r), c.closed.load(r)};
}

CircuitBreaker::Permit CircuitBreaker::try_acquire() {
  std::uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    switch (state_of(w)) {
      case BreakerState::closed:
        counters_->allowed.fetch_add(1, std::memory_order_relaxed);
        return Permit(this, w);
      case BreakerState::open:
        if (now_ns() < open_until_ns_.load(std::memory_order_relaxed)) {
          counters_->rejected.fetch_add(1, std::memory_order_relaxed);
          return Permit();
        }
        transition(w, BreakerState::half_open, TransitionReason::cool_down_elapsed);
        w = word_.load(std::memory_order_acquire);
        break;
      case BreakerState::half_open: {
        if (issued_of(w) >= options_.half_open_probes) {
          counters_->rejected.fetch_add(1, std::memory_order_relaxed);
          return Permit();
        }
        const std::uint64_t taken = w + (std::uint64_t{1} << kIssuedShift);
        if (word_.compare_exchange_weak(w, taken, std::memory_order_acq_rel)) {
          counters_->allowed.fetch_add(1, std::memory_order_relaxed);
          return Permit(this, taken);
        }
        break;  // w reloaded by the failed CAS
      }
    }
  }
}

void CircuitBreaker::on_outcome(std::uint64_t permit_word, Outcome outcome) noexcept {
  auto& c = *counters_;
  switch (outcome) {
    case Outcome::success:
      c.successes.fetch_add(1, std::memory_order_relaxed);
      break;
    case Outcome::error:
      c.errors.fetch_add(1, std::memory_order_relaxed);
      break;
    case Outcome::timeout:
      c.timeouts.fetch_add(1, std::memory_order_relaxed);
      break;
    case Outcome::ignore:
      c.ignored.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  std::uint64_t w = word_.load(std::memory_order_acquire);
  if (generation_of(w) != generation_of(permit_word)) return;  // the state has moved on

  if (state_of(permit_word) == BreakerState::closed) {
    if (outcome == Outcome::ignore) return;
    record_in_window(outcome != Outcome::success);
    if (outcome == Outcome::success) {
      if (timeout_streak_.load(std::memory_order_relaxed) != 0) {
        timeout_streak_.store(0, std::memory_order_relaxed);
      }
      return;
    }
    if (outcome == Outcome::timeout && options_.consecutive_timeouts != 0 &&
        timeout_streak_.fetch_add(1, std::memory_order_relaxed) + 1 >=
            options_.consecutive_timeouts) {
      transition(w, BreakerState::open, TransitionReason::consecutive_timeouts);
    } else if (window_trips()) {
      transition(w, BreakerState::open, TransitionReason::failure_rate);
    }
    return;
  }

  // Half-open: a probe's outcome.
  if (outcome == Outcome::error || outcome == Outcome::timeout) {
    transition(w, BreakerState::open, TransitionReason::probe_failed);
    return;
  }
  for (;;) {
    if (generation_of(w) != generation_of(permit_word)) return;
    const std::uint64_t next = outcome == Outcome::success
                                   ? w + (std::uint64_t{1} << kSucceededShift)
                                   : w - (std::uint64_t{1} << kIssuedShift);
    if (word_.compare_exchange_weak(w, next, std::memory_order_acq_rel)) {
      if (outcome == Outcome::success && succeeded_of(next) >= options_.half_open_probes) {
        transition(next, BreakerState::closed, TransitionReason::probes_succeeded);
      }
      return;
    }
  }
}

void CircuitBreaker::record_in_window(bool failed) noexcept {
  const auto epoch = static_cast<std::uint64_t>(now_ns() / bucket_ns_);
  auto& bucket = window_->buckets[epoch % options_.window_buckets];
  const std::uint64_t tag = (epoch & kEpochMask) << kEpochShift;
  const std::uint64_t fail = failed ? 1 : 0;
  std::uint64_t w = bucket.load(std::memory_order_relaxed);
  for (;;) {
    std::uint64_t next;
    if ((w >> kEpochShift) != (epoch & kEpochMask)) {
      next = tag | (std::uint64_t{1} << kCallsShift) | fail;
    } else if (((w >> kCallsShift) & kCountMask) == kCountMask) {
      return;  // saturated
    } else {
      next = w + (std::uint64_t{1} << kCallsShift) + fail;
    }
    if (bucket.compare_exchange_weak(w, next, std::memory_order_relaxed)) return;
  }
}

bool CircuitBreaker::window_trips() const noexcept {
  const auto epoch = static_cast<std::uint64_t>(now_ns() / bucket_ns_) & kEpochMask;
  std::uint64_t calls = 0;
  std::uint64_t failures = 0;
  for (std::uint32_t i = 0; i < options_.window_buckets; ++i) {
    const std::uint64_t w = window_->buckets[i].load(std::memory_order_relaxed);
    if (((epoch - (w >> kEpochShift)) & kEpochMask) >= options_.window_buckets) continue;
    calls += (w >> kCallsShift) & kCountMask;
    failures += w & kCountMask;
  }
  return calls >= options_.minimum_calls && calls > 0 &&
         static_cast<double>(failures) >=
             options_.failure_rate_threshold * static_cast<double>(calls);
}

bool CircuitBreaker::transition(std::uint64_t expected, BreakerState to,
                                TransitionReason reason) noexcept {
  std::lock_guard lock(mu_);
  std::uint64_t w = word_.load(std::memory_order_acquire);
  // Only transitions change the generation and state, and they hold mu_: once checked here, the
  // two stay put; only half-open probe counts can change under us, hence the CAS loop below.
  if (generation_of(w) != generation_of(expected) || state_of(w) != state_of(expected)) {
    return false;
  }
  BreakerTransition t{state_of(expected), to, reason, {}};
  if (to == BreakerState::open) {
    const Clock::duration base =
        reason == TransitionReason::probe_failed ? next_cool_down_ : options_.open_duration;
    next_cool_down_ = std::min(base * 2, std::max(options_.max_open_duration, base));
    const double share = static_cast<double>(splitmix64(rng_) >> 11) * 0x1.0p-53 * options_.jitter;
    t.cool_down =
        base + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::nano>(
                   static_cast<double>(base.count()) * share));
    open_until_ns_.store(now_ns() + std::chrono::nanoseconds(t.cool_down).count(),
                         std::memory_order_relaxed);
  } else if (to == BreakerState::closed) {
    for (std::uint32_t i = 0; i < options_.window_buckets; ++i) {
      window_->buckets[i].store(0, std::memory_order_relaxed);
    }
  }
  timeout_streak_.store(0, std::memory_order_relaxed);
  const std::uint64_t next = make_word((generation_of(w) + 1) & 0xffffffff, to);
  while (!word_.compare_exchange_weak(w, next, std::memory_order_acq_rel)) {
  }
  switch (to) {
    case BreakerState::open:
      counters_->opened.fetch_add(1, std::memory_order_relaxed);
      break;
    case BreakerState::half_open:
      counters_->half_opened.fetch_add(1, std::memory_order_relaxed);
      break;
    case BreakerState::closed:
      counters_->closed.fetch_add(1, std::memory_order_relaxed);
      next_cool_down_ = options_.open_duration;
      break;
  }
  if (options_.on_transition) {
    try {
      options_.on_transition(t);
    } catch (...) {  // a logging hook must not take the breaker down
    }
  }
  return true;
}

void CircuitBreaker::force_open() {
  for (std::uint64_t w = word_.load(std::memory_order_acquire); state_of(w) != BreakerState::open;
       w = word_.load(std::memory_order_acquire)) {
    transition(w, BreakerState::open, TransitionReason::forced);
  }
}

void CircuitBreaker::reset() {
  for (std::uint64_t w = word_.load(std::memory_order_acquire); state_of(w) != BreakerState::closed;
       w = word_.load(std::memory_order_acquire)) {
    transition(w, BreakerState::closed, TransitionReason::forced);
  }
  for (std::uint32_t i = 0; i < options_.window_buckets; ++i) {
    window_->buckets[i].store(0, std::memory_order_relaxed);
  }
  timeout_streak_.store(0, std::memory_order_relaxed);
}

}  // namespace tiercache::resilience
