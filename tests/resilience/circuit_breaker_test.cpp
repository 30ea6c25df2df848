#include "tiercache/resilience/circuit_breaker.hpp"

#include "tiercache/base/clock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::resilience {
namespace {

using namespace std::chrono_literals;
using State = BreakerState;

// Options with no jitter and a recorder of every transition.
struct Fixture {
  explicit Fixture(CircuitBreakerOptions o = {}) : breaker(with_recorder(std::move(o)), clock) {}

  CircuitBreakerOptions with_recorder(CircuitBreakerOptions o) {
    o.jitter = 0;
    o.on_transition = [this](const BreakerTransition& t) { log.push_back(t); };
    return o;
  }
  void succeed(int n = 1) {
    for (int i = 0; i < n; ++i) {
      auto p = breaker.try_acquire();
      ASSERT_TRUE(p);
      p.success();
    }
  }
  void fail(int n = 1, Failure kind = Failure::error) {
    for (int i = 0; i < n; ++i) {
      auto p = breaker.try_acquire();
      ASSERT_TRUE(p);
      p.failure(kind);
    }
  }
  std::string states() const {
    std::string s;
    for (const auto& t : log) s += std::string(to_string(t.to)) + " ";
    return s;
  }

  ManualClock clock;
  std::vector<BreakerTransition> log;
  CircuitBreaker breaker;
};

TEST(CircuitBreakerTest, DoesNotTripBeforeTheMinimumNumberOfCalls) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 10, .consecutive_timeouts = 0});
  f.fail(9);
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.fail();
  EXPECT_EQ(f.breaker.state(), State::open);
  ASSERT_EQ(f.log.size(), 1u);
  EXPECT_EQ(f.log[0].reason, TransitionReason::failure_rate);
}

TEST(CircuitBreakerTest, OpensWhenTheFailureRateReachesTheThreshold) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 10, .failure_rate_threshold = 0.5});
  f.succeed(6);
  f.fail(4);  // 4 / 10
  f.fail();   // 5 / 11
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.fail();  // 6 / 12
  EXPECT_EQ(f.breaker.state(), State::open);
  const auto s = f.breaker.stats();
  EXPECT_EQ(s.allowed, 12u);
  EXPECT_EQ(s.successes, 6u);
  EXPECT_EQ(s.errors, 6u);
  EXPECT_EQ(s.opened, 1u);
  EXPECT_FALSE(f.breaker.try_acquire());
  EXPECT_EQ(f.breaker.stats().rejected, 1u);
}

TEST(CircuitBreakerTest, ForgetsCallsThatLeftTheWindow) {
  Fixture f(CircuitBreakerOptions{
      .window = 10s, .window_buckets = 10, .minimum_calls = 10, .consecutive_timeouts = 0});
  f.fail(5);
  f.clock.advance(10s);  // the first five age out
  f.fail(5);
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.clock.advance(9s);  // the last five are 9 s old: still in
  f.fail(4);
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.fail();
  EXPECT_EQ(f.breaker.state(), State::open);
}

TEST(CircuitBreakerTest, OpensOnConsecutiveTimeoutsThatASuccessInterrupts) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 1000, .consecutive_timeouts = 3});
  f.fail(2, Failure::timeout);
  f.succeed();
  f.fail(2, Failure::timeout);
  f.fail(1, Failure::error);  // errors neither add to nor break the streak
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.fail(1, Failure::timeout);
  EXPECT_EQ(f.breaker.state(), State::open);
  ASSERT_EQ(f.log.size(), 1u);
  EXPECT_EQ(f.log[0].reason, TransitionReason::consecutive_timeouts);
  EXPECT_EQ(f.breaker.stats().timeouts, 5u);
}

TEST(CircuitBreakerTest, HalfOpensAfterTheCoolDownAndClosesWhenAllProbesSucceed) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 1, .open_duration = 5s, .half_open_probes = 2});
  f.fail();
  ASSERT_EQ(f.breaker.state(), State::open);
  f.clock.advance(4999ms);
  EXPECT_FALSE(f.breaker.try_acquire());
  f.clock.advance(1ms);
  auto p1 = f.breaker.try_acquire();
  ASSERT_TRUE(p1);
  EXPECT_EQ(f.breaker.state(), State::half_open);
  auto p2 = f.breaker.try_acquire();
  ASSERT_TRUE(p2);
  EXPECT_FALSE(f.breaker.try_acquire()) << "only two probes at a time";
  p1.success();
  EXPECT_EQ(f.breaker.state(), State::half_open);
  EXPECT_FALSE(f.breaker.try_acquire()) << "a finished probe does not free a slot";
  p2.success();
  EXPECT_EQ(f.breaker.state(), State::closed);
  EXPECT_EQ(f.states(), "open half_open closed ");
  EXPECT_EQ(f.log[1].reason, TransitionReason::cool_down_elapsed);
  EXPECT_EQ(f.log[2].reason, TransitionReason::probes_succeeded);
  // Closed: calls flow again.
  f.succeed(3);
  EXPECT_EQ(f.breaker.state(), State::closed);
  const auto s = f.breaker.stats();
  EXPECT_EQ(s.opened, 1u);
  EXPECT_EQ(s.half_opened, 1u);
  EXPECT_EQ(s.closed, 1u);
  EXPECT_EQ(s.rejected, 3u);
}

TEST(CircuitBreakerTest, AFailedProbeReopensWithADoubledCappedCoolDown) {
  Fixture f(CircuitBreakerOptions{
      .minimum_calls = 1, .open_duration = 1s, .max_open_duration = 3s, .half_open_probes = 1});
  f.fail();
  EXPECT_EQ(f.log.back().cool_down, 1s);
  f.clock.advance(1s);
  f.fail();  // the probe
  EXPECT_EQ(f.breaker.state(), State::open);
  EXPECT_EQ(f.log.back().reason, TransitionReason::probe_failed);
  EXPECT_EQ(f.log.back().cool_down, 2s);
  f.clock.advance(1999ms);
  EXPECT_FALSE(f.breaker.try_acquire());
  f.clock.advance(1ms);
  f.fail();
  EXPECT_EQ(f.log.back().cool_down, 3s);  // 4 s, capped
  f.clock.advance(3s);
  f.succeed();
  EXPECT_EQ(f.breaker.state(), State::closed);
  f.fail();
  EXPECT_EQ(f.log.back().cool_down, 1s) << "closing resets the cool-down";
  EXPECT_EQ(f.states(), "open half_open open half_open open half_open closed open ");
}

TEST(CircuitBreakerTest, AnIgnoredProbeFreesItsSlot) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 1, .open_duration = 1s, .half_open_probes = 1});
  f.fail();
  f.clock.advance(1s);
  {
    auto probe = f.breaker.try_acquire();
    ASSERT_TRUE(probe);
    EXPECT_FALSE(f.breaker.try_acquire());
  }  // dropped without an outcome
  EXPECT_EQ(f.breaker.state(), State::half_open);
  f.succeed();
  EXPECT_EQ(f.breaker.state(), State::closed);
  EXPECT_EQ(f.breaker.stats().ignored, 1u);
}

TEST(CircuitBreakerTest, OutcomesOfPermitsFromAnEarlierStateChangeNothing) {
  Fixture f(CircuitBreakerOptions{.minimum_calls = 1, .open_duration = 1s, .half_open_probes = 1});
  auto slow = f.breaker.try_acquire();  // admitted while closed, answers late
  auto slow2 = f.breaker.try_acquire();
  f.fail();
  f.clock.advance(1s);
  auto probe = f.breaker.try_acquire();
  ASSERT_TRUE(probe);
  slow.failure();   // would reopen if it counted as a probe
  slow2.success();  // would close
  EXPECT_EQ(f.breaker.state(), State::half_open);
  EXPECT_FALSE(f.breaker.try_acquire()) << "the probe slot is still taken";
  probe.success();
  EXPECT_EQ(f.breaker.state(), State::closed);
  EXPECT_EQ(f.states(), "open half_open closed ");
}

TEST(CircuitBreakerTest, JittersTheCoolDownWithinItsBound) {
  ManualClock clock;
  std::vector<Clock::duration> cool_downs;
  CircuitBreaker breaker(CircuitBreakerOptions{.open_duration = 10s,
                                               .jitter = 0.5,
                                               .seed = 42,
                                               .on_transition =
                                                   [&](const BreakerTransition& t) {
                                                     if (t.to == State::open)
                                                       cool_downs.push_back(t.cool_down);
                                                   }},
                         clock);
  for (int i = 0; i < 50; ++i) {
    breaker.force_open();
    breaker.reset();
  }
  ASSERT_EQ(cool_downs.size(), 50u);
  Clock::duration lo = 15s, hi = 0s;
  for (const auto d : cool_downs) {
    EXPECT_GE(d, 10s);
    EXPECT_LE(d, 15s);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GT(hi - lo, 2s) << "the jitter spreads";
  // The breaker stays open for exactly its drawn cool-down.
  breaker.force_open();
  clock.advance(cool_downs.back() - 1ns);
  EXPECT_FALSE(breaker.try_acquire());
  clock.advance(1ns);
  EXPECT_TRUE(breaker.try_acquire());
}

TEST(CircuitBreakerTest, RejectsInvalidOptions) {
  ManualClock clock;
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{.window_buckets = 0}, clock),
               std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{.failure_rate_threshold = 0}, clock),
               std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{.half_open_probes = 0}, clock),
               std::invalid_argument);
}

// Racing threads never get more than half_open_probes permits in one half-open round.
TEST(CircuitBreakerTest, GrantsNoMoreProbesThanAllowedUnderContention) {
  ManualClock clock;
  CircuitBreaker breaker(CircuitBreakerOptions{.jitter = 0, .half_open_probes = 3}, clock);
  breaker.force_open();
  clock.advance(5s);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<CircuitBreaker::Permit>> held(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (auto p = breaker.try_acquire()) {
          granted.fetch_add(1);
          held[static_cast<std::size_t>(t)].push_back(std::move(p));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 3);
  EXPECT_EQ(breaker.stats().rejected, 4u * 1000u - 3u);
  for (auto& h : held) {
    for (auto& p : h) p.success();
  }
  EXPECT_EQ(breaker.state(), State::closed);
}

// Threads call through the breaker while time moves in alternating healthy and failing phases
// of 500 ms (longer than the 100 ms window and the longest cool-down, so each phase opens or
// closes it): every permit gets one outcome, the counters balance, and the transitions form one
// valid chain.
TEST(CircuitBreakerTest, CountsBalanceUnderConcurrentUse) {
  ManualClock clock;
  std::vector<BreakerTransition> log;
  CircuitBreaker breaker(
      CircuitBreakerOptions{.window = 100ms,
                            .minimum_calls = 20,
                            .open_duration = 50ms,
                            .max_open_duration = 200ms,
                            .half_open_probes = 2,
                            .seed = 7,
                            .on_transition = [&](const BreakerTransition& t) { log.push_back(t); }},
      clock);
  constexpr int kThreads = 4;
  constexpr int kCalls = 20'000;  // 4 x 20'000 / 50 ms-steps = 1.6 s of clock: 3 phases
  const auto start = clock.now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&breaker, &clock, start, t] {
      for (int i = 0; i < kCalls; ++i) {
        if (i % 50 == 0) clock.advance(1ms);
        auto p = breaker.try_acquire();
        if (!p) continue;
        const bool failing = (clock.now() - start) / 500ms % 2 == 1;
        const int r = (i * 7 + t) % 10;
        if (failing) {
          p.failure(r % 2 == 0 ? Failure::timeout : Failure::error);
        } else if (r == 9) {
          p.ignore();
        } else {
          p.success();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto s = breaker.stats();
  EXPECT_EQ(s.allowed + s.rejected, std::uint64_t{kThreads} * kCalls);
  EXPECT_EQ(s.successes + s.errors + s.timeouts + s.ignored, s.allowed);
  EXPECT_GT(s.opened, 0u);
  EXPECT_GT(s.closed, 0u);
  ASSERT_EQ(log.size(), s.opened + s.half_opened + s.closed);
  State state = State::closed;
  for (const auto& t : log) {
    EXPECT_EQ(t.from, state);
    const bool valid = (t.from == State::closed && t.to == State::open) ||
                       (t.from == State::open && t.to == State::half_open) ||
                       (t.from == State::half_open && t.to != State::half_open);
    EXPECT_TRUE(valid) << to_string(t.from) << " -> " << to_string(t.to);
    state = t.to;
  }
  EXPECT_EQ(state, breaker.state());
}

}  // namespace
}  // namespace tiercache::resilience
