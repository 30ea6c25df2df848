// GuardedClient over a real redis-server (issue #5): passes requests while closed, opens on
// timeouts and lost servers and then refuses without reaching Redis, closes by itself once a
// probe is answered, bounds requests in flight, takes error replies as answers, and completes on
// the caller's executor with the caller's cancellation slot.

#include "tiercache/resilience/guarded_client.hpp"

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/error.hpp"
#include "tiercache/resilience/error.hpp"
#include "tiercache/resp/reader.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tiercache::resilience {
namespace {

using namespace std::chrono_literals;
using test::command;
using test::exec_async;
using test::exec_sync;
using SteadyClock = std::chrono::steady_clock;

// A breaker that opens after 2 timeouts in a row or 4 calls at >= 50% failures, stays open 1 s
// (of the test's clock), and closes after one answered probe.
CircuitBreakerOptions quick_breaker() {
  return CircuitBreakerOptions{.minimum_calls = 4,
                               .failure_rate_threshold = 0.5,
                               .consecutive_timeouts = 2,
                               .open_duration = 1s,
                               .max_open_duration = 4s,
                               .jitter = 0,
                               .half_open_probes = 1};
}

// A Client on the test server wrapped in a GuardedClient whose breaker reads `clock` and records
// every transition.
class Guarded {
 public:
  Guarded(const test::RedisServer& server, const Clock& clock, CircuitBreakerOptions breaker,
          std::size_t max_in_flight = 64, std::chrono::milliseconds request_timeout = 300ms,
          int threads = 2)
      : io_(threads) {
    redis::Config cfg = server.config();
    cfg.request_timeout = request_timeout;
    cfg.connect_timeout = 300ms;
    cfg.link_timeout = 0ms;  // a paused server keeps its link: no fence, no reconnect
    cfg.reconnect_min = 10ms;
    cfg.reconnect_max = 100ms;
    breaker.on_transition = [this](const BreakerTransition& t) {
      std::lock_guard lock(mu_);
      log_.push_back(t);
    };
    inner_ = std::make_shared<redis::Client>(io_.executor(), cfg);
    client_ =
        std::make_shared<GuardedClient>(inner_, GuardedClientOptions{.breaker = std::move(breaker),
                                                                     .max_in_flight = max_in_flight,
                                                                     .clock = &clock});
    client_->start();
  }

  GuardedClient& client() { return *client_; }
  redis::Client& inner() { return *inner_; }
  test::IoThreads& io() { return io_; }
  std::vector<BreakerTransition> transitions() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  test::IoThreads io_;
  std::mutex mu_;
  std::vector<BreakerTransition> log_;
  std::shared_ptr<redis::Client> inner_;
  std::shared_ptr<GuardedClient> client_;
};

error_code error_of(std::future<test::Outcome>& f, std::chrono::milliseconds limit = 5s) {
  if (f.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "request did not complete within " << limit.count() << " ms";
    return boost::asio::error::timed_out;
  }
  return std::get<0>(f.get());
}

TEST(GuardedClientVerdictTest, ErrorRepliesAreAnswersUnlessTheServerIsNotServing) {
  auto error_reply = [](std::string_view text) {
    resp::Reader reader;
    reader.feed("-" + std::string(text) + "\r\n");
    auto r = reader.next();
    EXPECT_TRUE(r && *r) << text;
    return r && *r ? resp::Reply(**r) : resp::Reply();
  };
  const resp::Reply ok;
  EXPECT_EQ(verdict_of({}, ok, 1), Verdict::success);
  EXPECT_EQ(verdict_of({}, error_reply("WRONGTYPE Operation against a key"), 1), Verdict::success);
  EXPECT_EQ(verdict_of({}, error_reply("ERR value is not an integer"), 1), Verdict::success);
  EXPECT_EQ(verdict_of({}, error_reply("OOM command not allowed"), 1), Verdict::success);
  EXPECT_EQ(verdict_of({}, error_reply("LOADING Redis is loading"), 1), Verdict::failure);
  EXPECT_EQ(verdict_of({}, error_reply("BUSY Redis is busy running a script"), 1),
            Verdict::failure);
  EXPECT_EQ(verdict_of({}, error_reply("BUSYKEY Target key name already exists"), 1),
            Verdict::success);
  const std::vector<resp::Reply> pair{ok, error_reply("MASTERDOWN Link with MASTER is down")};
  EXPECT_EQ(verdict_of({}, resp::Reply::array_of(pair), 2), Verdict::failure);

  EXPECT_EQ(verdict_of(redis::Errc::reply_timeout, ok, 1), Verdict::timeout);
  EXPECT_EQ(verdict_of(redis::Errc::connect_timeout, ok, 1), Verdict::timeout);
  EXPECT_EQ(verdict_of(redis::Errc::connection_lost, ok, 1), Verdict::failure);
  EXPECT_EQ(verdict_of(redis::Errc::not_connected, ok, 1), Verdict::failure);
  EXPECT_EQ(verdict_of(redis::Errc::connect_failed, ok, 1), Verdict::failure);
  EXPECT_EQ(verdict_of(redis::Errc::stopped, ok, 1), Verdict::ignore);
  EXPECT_EQ(verdict_of(redis::Errc::queue_full, ok, 1), Verdict::ignore);
  EXPECT_EQ(verdict_of(boost::asio::error::operation_aborted, ok, 1), Verdict::ignore);
  EXPECT_EQ(verdict_of(Errc::circuit_open, ok, 1), Verdict::ignore);
  EXPECT_EQ(verdict_of(redis::ClusterErrc::cross_slot, ok, 1), Verdict::ignore);
  EXPECT_EQ(verdict_of(redis::ClusterErrc::cluster_down, ok, 1), Verdict::failure);
}

TEST(GuardedClientTest, PassesRequestsWhileClosed) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker());
  ASSERT_TRUE(exec_sync(g.client(), command("SET", "k", "v")));
  auto r = exec_sync(g.client(), command("GET", "k"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "v");
  const auto s = g.client().stats();
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_FALSE(g.client().degraded());
  EXPECT_EQ(s.breaker.successes, 2u);
  EXPECT_EQ(s.rejected_open + s.rejected_saturated, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(g.client().config().port, server.port());
}

// A stalled Redis (SIGSTOP): two reply timeouts open the breaker; then requests are refused
// without being sent, so Redis never runs them.
TEST(GuardedClientTest, OpensOnTimeoutsThenRefusesWithoutReachingRedis) {
  test::RedisServer server;
  ManualClock clock;  // never advanced here: the breaker stays open
  Guarded g(server, clock, quick_breaker(), 64, 500ms);
  ASSERT_TRUE(exec_sync(g.client(), command("PING")));
  server.pause();
  for (int i = 0; i < 2; ++i) {
    auto r = exec_sync(g.client(), command("GET", "k"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), redis::Errc::reply_timeout);
  }
  EXPECT_EQ(g.client().state(), BreakerState::open);
  EXPECT_TRUE(g.client().degraded());
  auto log = g.transitions();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].reason, TransitionReason::consecutive_timeouts);

  server.resume();
  // The two timed-out GETs are still in the link's pipe; once a PING sent after them (through
  // the inner client, unguarded) is answered, Redis has run them.
  ASSERT_TRUE(test::exec_until_ok(g.inner(), command("PING"), 5s));
  const std::uint64_t gets_before = server.calls("get");

  constexpr int kRefused = 20;
  const auto start = SteadyClock::now();
  for (int i = 0; i < kRefused; ++i) {
    auto r = exec_sync(g.client(), command("GET", "k"), 2s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::circuit_open);
  }
  // Behaviour, not speed: refusals do not wait for a timeout (500 ms each); the bound is loose.
  EXPECT_LT(SteadyClock::now() - start, 500ms);
  EXPECT_EQ(server.calls("get"), gets_before);
  const auto s = g.client().stats();
  EXPECT_EQ(s.rejected_open, static_cast<std::uint64_t>(kRefused));
  EXPECT_EQ(s.breaker.timeouts, 2u);
  EXPECT_EQ(s.breaker.opened, 1u);
}

// Open -> a probe while Redis still stalls fails and reopens it (longer) -> Redis answers again
// -> the next probe closes it, and requests flow.
TEST(GuardedClientTest, AProbeThatRedisAnswersClosesTheBreaker) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker());
  ASSERT_TRUE(exec_sync(g.client(), command("PING")));
  server.pause();
  for (int i = 0; i < 2; ++i) EXPECT_FALSE(exec_sync(g.client(), command("GET", "k")));
  ASSERT_EQ(g.client().state(), BreakerState::open);

  clock.advance(1100ms);  // past the 1 s cool-down
  auto probe = exec_sync(g.client(), command("GET", "k"));
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error(), redis::Errc::reply_timeout);
  EXPECT_EQ(g.client().state(), BreakerState::open);

  server.resume();
  clock.advance(1100ms);  // the second cool-down is 2 s: still open
  auto early = exec_sync(g.client(), command("GET", "k"));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error(), Errc::circuit_open);

  clock.advance(1s);
  auto answered = exec_sync(g.client(), command("SET", "k", "back"));
  ASSERT_TRUE(answered) << answered.error().message();
  EXPECT_EQ(g.client().state(), BreakerState::closed);
  auto r = exec_sync(g.client(), command("GET", "k"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "back");

  const auto log = g.transitions();
  std::vector<TransitionReason> reasons;
  for (const auto& t : log) reasons.push_back(t.reason);
  EXPECT_EQ(reasons, (std::vector<TransitionReason>{
                         TransitionReason::consecutive_timeouts,
                         TransitionReason::cool_down_elapsed, TransitionReason::probe_failed,
                         TransitionReason::cool_down_elapsed, TransitionReason::probes_succeeded}));
}

// A killed server: lost links and refused connections open the breaker by failure rate; once
// the server is back (same port), the breaker closes by itself on the real clock.
TEST(GuardedClientTest, ClosesByItselfAfterRedisComesBack) {
  test::RedisServer server;
  auto breaker = quick_breaker();
  breaker.open_duration = 50ms;
  breaker.max_open_duration = 200ms;
  Guarded g(server, Clock::real(), breaker);
  ASSERT_TRUE(exec_sync(g.client(), command("PING")));
  server.stop();
  ASSERT_TRUE(test::wait_until(
      [&] {
        (void)exec_sync(g.client(), command("PING"), 2s);
        return g.client().state() != BreakerState::closed;
      },
      10s));
  const auto opened = g.transitions();
  ASSERT_FALSE(opened.empty());
  EXPECT_EQ(opened[0].to, BreakerState::open);

  server.restart();
  ASSERT_TRUE(test::wait_until(
      [&] {
        auto r = exec_sync(g.client(), command("PING"), 2s);
        return r.has_value() && g.client().state() == BreakerState::closed;
      },
      10s))
      << "breaker still " << to_string(g.client().state());
  EXPECT_GE(g.client().stats().breaker.closed, 1u);
}

TEST(GuardedClientTest, RefusesBeyondItsBoundInFlightAndRecovers) {
  test::RedisServer server;
  ManualClock clock;
  auto breaker = quick_breaker();
  breaker.consecutive_timeouts = 0;  // this test is about the bulkhead alone
  breaker.minimum_calls = 1000;
  Guarded g(server, clock, breaker, /*max_in_flight=*/4, /*request_timeout=*/2s);
  ASSERT_TRUE(exec_sync(g.client(), command("PING")));
  server.pause();
  std::vector<std::future<test::Outcome>> stuck;
  for (int i = 0; i < 4; ++i) stuck.push_back(exec_async(g.client(), command("GET", "k")));
  EXPECT_EQ(g.client().stats().in_flight, 4u);

  auto fifth = exec_async(g.client(), command("GET", "k"));
  EXPECT_EQ(error_of(fifth, 1s), Errc::saturated);
  EXPECT_EQ(g.client().stats().rejected_saturated, 1u);
  EXPECT_EQ(g.client().state(), BreakerState::closed);

  server.resume();
  for (auto& f : stuck) EXPECT_FALSE(error_of(f));  // answered once Redis runs again
  EXPECT_EQ(g.client().stats().in_flight, 0u);
  EXPECT_TRUE(exec_sync(g.client(), command("GET", "k")));
  EXPECT_EQ(g.client().stats().rejected_saturated, 1u);
}

TEST(GuardedClientTest, ErrorRepliesDoNotOpenTheBreaker) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker());
  ASSERT_TRUE(exec_sync(g.client(), command("SET", "word", "not a number")));
  for (int i = 0; i < 50; ++i) {
    auto r = exec_sync(g.client(), command("INCR", "word"));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->is_error());
  }
  const auto s = g.client().stats();
  EXPECT_EQ(s.state, BreakerState::closed);
  EXPECT_EQ(s.breaker.errors, 0u);
  EXPECT_EQ(s.breaker.successes, 51u);
}

TEST(GuardedClientTest, CompletesOnTheCallersExecutorWhetherSentOrRefused) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker());
  auto strand = boost::asio::make_strand(g.io().io());
  auto on_strand = [&](resp::Request req) {
    auto promise = std::make_shared<std::promise<std::pair<error_code, bool>>>();
    auto future = promise->get_future();
    g.client().async_exec(
        std::move(req),
        boost::asio::bind_executor(strand, [promise, strand](error_code ec, resp::Reply) {
          promise->set_value({ec, strand.running_in_this_thread()});
        }));
    EXPECT_EQ(future.wait_for(5s), std::future_status::ready);
    return future.get();
  };
  auto sent = on_strand(command("PING"));
  EXPECT_FALSE(sent.first);
  EXPECT_TRUE(sent.second);

  g.client().breaker().force_open();
  auto refused = on_strand(command("PING"));
  EXPECT_EQ(refused.first, Errc::circuit_open);
  EXPECT_TRUE(refused.second);
}

TEST(GuardedClientTest, ARefusalIsPostedNeverInline) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker(), 64, 300ms, /*threads=*/1);
  g.client().breaker().force_open();
  std::promise<bool> completed_inline;
  boost::asio::post(g.io().executor(), [&] {
    auto done = std::make_shared<bool>(false);
    g.client().async_exec(command("PING"), [done](error_code, resp::Reply) { *done = true; });
    completed_inline.set_value(*done);  // one io thread: a posted handler cannot have run yet
  });
  auto f = completed_inline.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_FALSE(f.get());
}

TEST(GuardedClientTest, TheCallersCancellationReachesTheInnerClientAndCountsNothing) {
  test::RedisServer server;
  ManualClock clock;
  Guarded g(server, clock, quick_breaker(), 64, 5s, /*threads=*/1);
  ASSERT_TRUE(exec_sync(g.client(), command("PING")));
  boost::asio::cancellation_signal signal;
  auto cancelled = std::make_shared<std::promise<error_code>>();
  g.client().async_exec(
      command("DEBUG", "SLEEP", "0.5"),
      boost::asio::bind_cancellation_slot(
          signal.slot(), [cancelled](error_code ec, resp::Reply) { cancelled->set_value(ec); }));
  ASSERT_EQ(g.client().stats().in_flight, 1u);
  // The request reaches its link (which installs its handler in our slot) on the link's strand.
  ASSERT_TRUE(test::wait_until([&] { return g.inner().stats().at(0).pending == 1; }, 5s));
  boost::asio::post(g.io().executor(),
                    [&] { signal.emit(boost::asio::cancellation_type::terminal); });
  auto f = cancelled->get_future();
  ASSERT_EQ(f.wait_for(400ms), std::future_status::ready);  // before DEBUG SLEEP answers
  EXPECT_EQ(f.get(), boost::asio::error::operation_aborted);
  const auto s = g.client().stats();
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.breaker.ignored, 1u);
  EXPECT_EQ(s.breaker.errors + s.breaker.timeouts, 0u);
  EXPECT_TRUE(exec_sync(g.client(), command("PING")));
}

}  // namespace
}  // namespace tiercache::resilience
