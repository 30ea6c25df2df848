// Limiter's batches on a real redis-server, for each algorithm: decisions that arrive while a
// script call is in flight leave together in the next one (fewer EVALSHAs than decisions), and a
// batch decides exactly as the same calls one after another would: one key several times, peek
// and allow mixed, cost > 1, a key of the wrong type failing alone. Also: a queued call that is
// cancelled counts nothing, completions run on each caller's executor, callers on several
// threads share batches and still get exactly the limit, max_batch 1 turns batching off, and with
// two calls in flight (the default) the decisions still come out in order.
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/ratelimit/limiter.hpp"

#include "tests/ratelimit/concurrent_requests.hpp"
#include "tests/ratelimit/ratelimit_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::ratelimit {
namespace {

using namespace std::chrono_literals;

// One call of a batch: allow or peek, on a key, of a cost.
struct Call {
  std::string key;
  std::uint32_t cost = 1;
  bool peek = false;
};

class LimiterBatchTest : public testing::TestWithParam<Algorithm> {
 protected:
  LimiterBatchTest() : client_(test::make_client(io_.executor(), server_.config())) {}
  ~LimiterBatchTest() override { client_->stop(); }

  // One call in flight unless said otherwise, so that a batch's composition is known: the first
  // call leaves alone, the others together in the next (TwoCallsInFlight... covers the default).
  Limiter make(Policy policy, std::uint32_t in_flight = 1) {
    policy.algorithm = GetParam();
    policy.max_in_flight = in_flight;
    return Limiter(client_, std::move(policy));
  }

  // Starts every call from one handler on the io_context's only thread, so none completes
  // before all are queued: the first leaves alone, the others together in the next batch (as
  // long as max_batch allows). Waits for all; their outcomes in order.
  std::vector<Result<Decision>> together(Limiter& limiter, const std::vector<Call>& calls) {
    std::vector<std::future<Result<Decision>>> futures;
    std::promise<void> started;
    asio::post(io_.io(), [&] {
      for (const Call& c : calls) {
        futures.push_back(asio::co_spawn(
            io_.io(), c.peek ? limiter.peek(c.key, c.cost) : limiter.allow(c.key, c.cost),
            asio::use_future));
      }
      started.set_value();
    });
    started.get_future().wait();
    std::vector<Result<Decision>> out;
    for (auto& f : futures) {
      if (f.wait_for(10s) != std::future_status::ready) {
        ADD_FAILURE() << "a decision did not complete";
        out.emplace_back(make_error_code(Errc::redis_unavailable));
        continue;
      }
      out.push_back(f.get());
    }
    return out;
  }

  tiercache::test::RedisServer server_;
  test::IoThreads io_;
  std::shared_ptr<redis::Client> client_;
};

INSTANTIATE_TEST_SUITE_P(Algorithms, LimiterBatchTest,
                         testing::Values(Algorithm::sliding_log, Algorithm::sliding_window,
                                         Algorithm::token_bucket),
                         [](const auto& param) { return std::string(to_string(param.param)); });

TEST_P(LimiterBatchTest, DecisionsThatWaitLeaveTogether) {
  Limiter limiter = make({.limit = 1000, .window = 60s});
  std::vector<Call> calls;
  for (int i = 0; i < 200; ++i) calls.push_back({.key = "k" + std::to_string(i % 10)});
  const std::uint64_t before = server_.calls("evalsha");
  const std::vector<Result<Decision>> decisions = together(limiter, calls);
  for (const auto& d : decisions) {
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_TRUE(d->allowed);
    EXPECT_EQ(d->source, Source::redis);
  }
  // One alone, then batches of at most 64 (the default max_batch): 1 + 64 + 64 + 64 + 7.
  const Limiter::Stats stats = limiter.stats();
  EXPECT_EQ(stats.batched_decisions, 200u);
  EXPECT_EQ(stats.batches, 5u);
  EXPECT_EQ(stats.allowed, 200u);
  // The server agrees: far fewer script calls than decisions (+1: the first EVALSHA of a batch
  // script the server did not know yet answers NOSCRIPT, then EVAL runs it).
  EXPECT_LE(server_.calls("evalsha") - before, 6U);
  for (int i = 0; i < 10; ++i) {
    const Result<Decision> d = io_.run(limiter.peek("k" + std::to_string(i)));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->remaining, 980u) << i;
  }
}

// The default: while one call is in flight a second leaves at once, alone, and what comes after
// waits for either to return. The calls share the client's one link, so Redis runs them in the
// order they were sent, and the decisions come out as calls in a row.
TEST_P(LimiterBatchTest, TwoCallsInFlightDecideInOrder) {
  Limiter limiter = make({.limit = 5, .window = 60s}, 2);
  const std::vector<Result<Decision>> d = together(limiter, std::vector<Call>(10, {.key = "k"}));
  EXPECT_EQ(limiter.stats().batches, 3u);  // the first two alone, then the other eight together
  EXPECT_EQ(limiter.stats().batched_decisions, 10u);
  for (std::uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(d[i]) << i;
    EXPECT_EQ(d[i]->allowed, i < 5) << i;
    EXPECT_EQ(d[i]->remaining, i < 5 ? 4 - i : 0) << i;
  }
  EXPECT_EQ(io_.run(limiter.peek("k"))->remaining, 0u);
}

TEST_P(LimiterBatchTest, OneKeySeveralTimesInABatchDecidesAsCallsInARow) {
  Limiter limiter = make({.limit = 5, .window = 60s});
  std::vector<Call> calls{{.key = "first"}};
  for (int i = 0; i < 8; ++i) calls.push_back({.key = "k"});
  const std::vector<Result<Decision>> d = together(limiter, calls);
  ASSERT_EQ(limiter.stats().batches, 2u);  // "first" alone, then the eight together
  for (std::uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(d[1 + i]);
    EXPECT_TRUE(d[1 + i]->allowed) << i;
    EXPECT_EQ(d[1 + i]->remaining, 4 - i);
    EXPECT_EQ(d[1 + i]->retry_after, 0us);
  }
  for (std::size_t i = 6; i < 9; ++i) {
    ASSERT_TRUE(d[i]);
    EXPECT_FALSE(d[i]->allowed) << i;
    EXPECT_EQ(d[i]->remaining, 0u);
    EXPECT_GT(d[i]->retry_after, 10s);  // 12 s for GCRA, about the window for the others
    EXPECT_LE(d[i]->retry_after, GetParam() == Algorithm::sliding_window ? 72s : 60s);
  }
  EXPECT_EQ(limiter.stats().allowed, 6u);
  EXPECT_EQ(limiter.stats().denied, 3u);
  // What was written is what five calls would have written.
  const Result<Decision> after = io_.run(limiter.peek("k"));
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->allowed);
  EXPECT_EQ(after->remaining, 0u);
  const std::string key = limiter.redis_key("k");
  switch (GetParam()) {
    case Algorithm::sliding_log:
      EXPECT_EQ(server_.cli({"ZCARD", key}), "5");
      break;
    case Algorithm::sliding_window:
      EXPECT_EQ(server_.cli({"HGET", key, "c"}), "5");
      break;
    case Algorithm::token_bucket:
      break;  // the peek above: the bucket is empty
  }
  EXPECT_GT(std::stoi(server_.cli({"PTTL", key})), 0);
}

TEST_P(LimiterBatchTest, PeekAndAllowMixInOneBatch) {
  Limiter limiter = make({.limit = 3, .window = 60s});
  const std::vector<Result<Decision>> d = together(limiter, {{.key = "first"},
                                                             {.key = "k", .peek = true},
                                                             {.key = "k", .cost = 2},
                                                             {.key = "k", .cost = 2, .peek = true},
                                                             {.key = "k", .peek = true},
                                                             {.key = "k"},
                                                             {.key = "k", .peek = true}});
  ASSERT_EQ(limiter.stats().batches, 2u);
  for (const auto& r : d) ASSERT_TRUE(r);
  EXPECT_TRUE(d[1]->allowed);  // peek of a fresh key: all there
  EXPECT_EQ(d[1]->remaining, 3u);
  EXPECT_TRUE(d[2]->allowed);  // takes 2
  EXPECT_EQ(d[2]->remaining, 1u);
  EXPECT_FALSE(d[3]->allowed);  // 2 would not fit now
  EXPECT_EQ(d[3]->remaining, 1u);
  EXPECT_GT(d[3]->retry_after, 0us);
  EXPECT_TRUE(d[4]->allowed);  // 1 would
  EXPECT_EQ(d[4]->remaining, 1u);
  EXPECT_TRUE(d[5]->allowed);  // takes it
  EXPECT_EQ(d[5]->remaining, 0u);
  EXPECT_FALSE(d[6]->allowed);
  EXPECT_EQ(d[6]->remaining, 0u);
  // Peeks count nothing: two calls were counted, three units taken.
  EXPECT_EQ(limiter.stats().allowed, 3u);
  EXPECT_EQ(limiter.stats().denied, 0u);
  EXPECT_EQ(io_.run(limiter.peek("k"))->remaining, 0u);
}

TEST_P(LimiterBatchTest, PeeksAloneInABatchWriteNothing) {
  Limiter limiter = make({.limit = 3, .window = 60s});
  const std::vector<Result<Decision>> d =
      together(limiter, {{.key = "first", .peek = true},
                         {.key = "k", .peek = true},
                         {.key = "k", .cost = 3, .peek = true},
                         {.key = "other", .cost = 2, .peek = true}});
  for (const auto& r : d) {
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->allowed);
    EXPECT_EQ(r->remaining, 3u);
  }
  EXPECT_EQ(server_.cli({"DBSIZE"}), "0");
}

TEST_P(LimiterBatchTest, CostsAboveOneInABatch) {
  Limiter limiter = make({.limit = 10, .window = 60s});
  const std::vector<Result<Decision>> d = together(limiter, {{.key = "first"},
                                                             {.key = "k", .cost = 4},
                                                             {.key = "k", .cost = 4},
                                                             {.key = "k", .cost = 3},
                                                             {.key = "k", .cost = 2},
                                                             {.key = "k", .cost = 1}});
  ASSERT_EQ(limiter.stats().batches, 2u);
  for (const auto& r : d) ASSERT_TRUE(r);
  EXPECT_TRUE(d[1]->allowed);
  EXPECT_EQ(d[1]->remaining, 6u);
  EXPECT_TRUE(d[2]->allowed);
  EXPECT_EQ(d[2]->remaining, 2u);
  EXPECT_FALSE(d[3]->allowed);  // 3 > 2 left: refused, nothing taken
  EXPECT_EQ(d[3]->remaining, 2u);
  EXPECT_GT(d[3]->retry_after, 0us);
  EXPECT_TRUE(d[4]->allowed);
  EXPECT_EQ(d[4]->remaining, 0u);
  EXPECT_FALSE(d[5]->allowed);
  if (GetParam() == Algorithm::sliding_log) {
    EXPECT_EQ(server_.cli({"ZCARD", limiter.redis_key("k")}), "10");
  }
}

TEST_P(LimiterBatchTest, AKeyOfTheWrongTypeFailsAloneInItsBatch) {
  Limiter limiter = make({.limit = 3, .window = 60s, .on_redis_down = OnRedisDown::fail_closed});
  // A string: no sorted set, no hash, and no number for GCRA.
  ASSERT_EQ(server_.cli({"SET", limiter.redis_key("bad"), "x"}), "OK");
  const std::vector<Result<Decision>> d = together(
      limiter, {{.key = "first"}, {.key = "bad"}, {.key = "good"}, {.key = "bad", .peek = true}});
  ASSERT_EQ(limiter.stats().batches, 2u);
  ASSERT_TRUE(d[1]);
  EXPECT_EQ(d[1]->source, Source::fail_closed);
  ASSERT_TRUE(d[2]);
  EXPECT_EQ(d[2]->source, Source::redis);
  EXPECT_TRUE(d[2]->allowed);
  EXPECT_EQ(d[2]->remaining, 2u);
  ASSERT_FALSE(d[3]);
  EXPECT_EQ(d[3].error(), Errc::unexpected_reply);
  EXPECT_EQ(limiter.stats().redis_failures, 2u);
  EXPECT_EQ(limiter.stats().fail_closed, 1u);
}

TEST_P(LimiterBatchTest, AQueuedCallThatIsCancelledCountsNothing) {
  Limiter limiter = make({.limit = 5, .window = 60s});
  asio::cancellation_signal cancel_queued, cancel_sent;
  std::future<Result<Decision>> sent, queued, after;
  std::promise<void> started;
  asio::post(io_.io(), [&] {
    // Leaves at once, alone: cancelled, it completes at once; Redis may still count it.
    sent = asio::co_spawn(io_.io(), limiter.allow("sent"),
                          asio::bind_cancellation_slot(cancel_sent.slot(), asio::use_future));
    // Waits for the next batch: cancelled, it leaves the queue.
    queued = asio::co_spawn(io_.io(), limiter.allow("k", 5),
                            asio::bind_cancellation_slot(cancel_queued.slot(), asio::use_future));
    after = asio::co_spawn(io_.io(), limiter.allow("k", 2), asio::use_future);
    cancel_sent.emit(asio::cancellation_type::terminal);
    cancel_queued.emit(asio::cancellation_type::terminal);
    started.set_value();
  });
  started.get_future().wait();
  ASSERT_EQ(queued.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(queued.get().error(), asio::error::operation_aborted);
  ASSERT_EQ(sent.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(sent.get().error(), asio::error::operation_aborted);
  ASSERT_EQ(after.wait_for(10s), std::future_status::ready);
  Result<Decision> d = after.get();
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allowed);  // the cancelled 5 did not take the whole limit
  EXPECT_EQ(d->remaining, 3u);
  // "sent" and "after" went to Redis; the cancelled one never did.
  EXPECT_EQ(limiter.stats().batched_decisions, 2u);
  EXPECT_EQ(io_.run(limiter.peek("k"))->remaining, 3u);
  EXPECT_TRUE(io_.run(limiter.allow("k", 3))->allowed);  // and the Limiter goes on
}

TEST_P(LimiterBatchTest, MaxBatchOneSendsEachDecisionAlone) {
  Limiter limiter = make({.limit = 100, .window = 60s, .max_batch = 1});
  std::vector<Call> calls(20, Call{.key = "k"});
  const std::vector<Result<Decision>> d = together(limiter, calls);
  for (const auto& r : d) {
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->allowed);
  }
  EXPECT_EQ(limiter.stats().batches, 20u);
  EXPECT_EQ(limiter.stats().batched_decisions, 20u);
  EXPECT_EQ(io_.run(limiter.peek("k"))->remaining, 80u);
}

TEST_P(LimiterBatchTest, ABatchIsCutAtMaxBatch) {
  Limiter limiter = make({.limit = 100, .window = 60s, .max_batch = 3});
  std::vector<Call> calls(10, Call{.key = "k"});
  const std::vector<Result<Decision>> d = together(limiter, calls);
  for (const auto& r : d) ASSERT_TRUE(r && r->allowed);
  EXPECT_EQ(limiter.stats().batches, 4u);  // 1, then 3, 3, 3
  EXPECT_EQ(limiter.stats().batched_decisions, 10u);
}

TEST(LimiterBatchPolicyTest, RejectsAMaxBatchOrMaxInFlightOutOfRange) {
  tiercache::test::RedisServer server;
  test::IoThreads io;
  auto client = test::make_client(io.executor(), server.config());
  EXPECT_THROW(Limiter(client, {.max_batch = 0}), std::invalid_argument);
  EXPECT_THROW(Limiter(client, {.max_batch = 1001}), std::invalid_argument);
  EXPECT_NO_THROW(Limiter(client, {.max_batch = 1000}));
  EXPECT_THROW(Limiter(client, {.max_in_flight = 0}), std::invalid_argument);
  EXPECT_THROW(Limiter(client, {.max_in_flight = 17}), std::invalid_argument);
  EXPECT_NO_THROW(Limiter(client, {.max_in_flight = 16}));
  client->stop();
}

struct Tally {
  std::atomic<int> admitted{0}, refused{0}, elsewhere{0};
};

// One call from the callers' io_context; counts where it resumed and what Redis said.
asio::awaitable<void> call_from(Limiter limiter, asio::io_context* callers, Tally* tally) {
  Result<Decision> d = co_await limiter.allow("k");
  if (!callers->get_executor().running_in_this_thread()) ++tally->elsewhere;
  if (d && d->source == Source::redis) ++(d->allowed ? tally->admitted : tally->refused);
}

// Callers on other threads and another io_context than the client's: each completes on its own
// executor, and together they still admit exactly the limit, in batches.
TEST(LimiterBatchThreadsTest, CallersOnManyThreadsShareBatchesAndCompleteOnTheirExecutors) {
  tiercache::test::RedisServer server;
  test::IoThreads client_io(1);
  test::IoThreads callers(4);
  auto client = test::make_client(client_io.executor(), server.config());
  Limiter limiter(client, {.algorithm = Algorithm::sliding_log, .limit = 100, .window = 10s});

  Tally tally;
  std::vector<std::thread> threads;
  std::vector<std::future<void>> done;
  std::mutex mu;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto f = asio::co_spawn(callers.io(), call_from(limiter, &callers.io(), &tally),
                                asio::use_future);
        std::lock_guard lock(mu);
        done.push_back(std::move(f));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& f : done) ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(tally.admitted.load(), 100);
  EXPECT_EQ(tally.refused.load(), 300);
  EXPECT_EQ(tally.elsewhere.load(), 0);
  EXPECT_EQ(limiter.stats().batched_decisions, 400u);
  EXPECT_LT(limiter.stats().batches, 400u);
  EXPECT_EQ(server.cli({"ZCARD", limiter.redis_key("k")}), "100");
  client->stop();
}

}  // namespace
}  // namespace tiercache::ratelimit
