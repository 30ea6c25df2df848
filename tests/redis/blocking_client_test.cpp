// BlockingClient against a real redis-server: plain calls, calls from several threads, errors as
// values, and a destructor that returns with requests outstanding or Redis gone.
#include "tiercache/redis/blocking_client.hpp"

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/error.hpp"

#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::redis {
namespace {

using namespace std::chrono_literals;

TEST(BlockingClientTest, RunsCommandsAndReturnsTheirReplies) {
  test::RedisServer server;
  BlockingClient redis(server.config());
  auto set = redis.command("SET", "greeting", "hello", "PX", 60000);
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->str(), "OK");
  auto get = redis.command("GET", "greeting");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->str(), "hello");
  auto missing = redis.command("GET", "nothing");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_null());

  resp::Request batch;
  batch.push("INCR", "n");
  batch.push("INCRBY", "n", 10);
  auto both = redis.exec(std::move(batch));
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ(both->at(1).integer(), 11);
}

TEST(BlockingClientTest, ReturnsAnErrorReplyAsAValue) {
  test::RedisServer server;
  BlockingClient redis(server.config());
  auto reply = redis.command("INCR", "greeting", "extra");
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->is_error());
  EXPECT_NE(reply->str().find("wrong number of arguments"), std::string_view::npos) << *reply;
}

TEST(BlockingClientTest, IsSafeFromManyThreads) {
  test::RedisServer server;
  BlockingClient redis(server.config());
  constexpr int kThreads = 4;
  constexpr int kCalls = 200;
  std::vector<std::thread> threads;
  std::vector<int> wrong(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string key = "k" + std::to_string(t) + ":" + std::to_string(i);
        auto set = redis.command("SET", key, i);
        auto get = redis.command("GET", key);
        if (!set || !get || get->str() != std::to_string(i)) ++wrong[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, std::vector<int>(kThreads, 0));
  auto size = redis.command("DBSIZE");
  ASSERT_TRUE(size);
  EXPECT_EQ(size->integer(), kThreads * kCalls);
}

TEST(BlockingClientTest, FailsWithinTheTimeoutWhenRedisIsGone) {
  test::RedisServer server;
  Config config = server.config();
  config.connect_timeout = 200ms;
  config.request_timeout = 300ms;
  BlockingClient redis(config);
  ASSERT_TRUE(redis.command("PING"));
  server.stop();
  const auto start = std::chrono::steady_clock::now();
  auto reply = redis.command("PING");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), category()) << reply.error().message();
  EXPECT_LT(took, 2s);
}

TEST(BlockingClientTest, DestructorCompletesWhatIsInFlightAndReturnsPromptly) {
  test::RedisServer server;
  std::promise<error_code> completed;
  const auto start = std::chrono::steady_clock::now();
  {
    Config config = server.config();
    config.request_timeout = 60s;  // so that only the destructor can end the request
    BlockingClient redis(config);
    ASSERT_TRUE(redis.command("PING"));
    server.pause();
    resp::Request ping;
    ping.push("PING");
    redis.client().async_exec(std::move(ping),
                              [&](error_code ec, resp::Reply) { completed.set_value(ec); });
  }
  server.resume();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  auto ec = completed.get_future();
  ASSERT_EQ(ec.wait_for(0s), std::future_status::ready) << "the request was never completed";
  EXPECT_EQ(ec.get(), Errc::stopped);
}

TEST(BlockingClientTest, ThrowsWhenCalledFromItsOwnThread) {
  test::RedisServer server;
  BlockingClient redis(server.config());
  std::promise<bool> threw;
  resp::Request ping;
  ping.push("PING");
  redis.client().async_exec(std::move(ping), [&](error_code, resp::Reply) {
    try {
      (void)redis.command("PING");
      threw.set_value(false);
    } catch (const std::logic_error&) {
      threw.set_value(true);
    }
  });
  auto done = threw.get_future();
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(done.get());
}

}  // namespace
}  // namespace tiercache::redis
