// Client: many threads on shared links, MULTI/EXEC on the shared pipeline, exclusive requests
// on dedicated links, handlers forwarded, stop.

#include "tiercache/redis/client.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class ClientTest : public ::testing::Test {
 protected:
  Config config(std::size_t connections = 2) const {
    Config cfg = server_.config();
    cfg.connections = connections;
    cfg.request_timeout = 5s;
    return cfg;
  }
  test::RedisServer server_;
};

TEST_F(ClientTest, TenThousandConcurrentRequestsFromEightThreadsEachGetTheirOwnReply) {
  test::IoThreads io(2);
  Client client(io.executor(), config(2));
  client.start();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1250;
  std::atomic<int> right{0}, wrong{0}, done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string expected = std::to_string(t) + ":" + std::to_string(i);
        client.async_exec(command("ECHO", expected),
                          [&, expected](error_code ec, resp::Reply reply) {
                            if (!ec && reply.str() == expected) {
                              ++right;
                            } else {
                              ++wrong;
                            }
                            ++done;
                          });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(test::wait_until([&] { return done.load() == kThreads * kPerThread; }, 30s))
      << done.load() << " of " << kThreads * kPerThread << " completed";
  EXPECT_EQ(right.load(), kThreads * kPerThread);
  EXPECT_EQ(wrong.load(), 0);
  const auto stats = client.stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_GT(stats[0].requests, 0u);
  EXPECT_GT(stats[1].requests, 0u);  // both links carried work
}

TEST_F(ClientTest, MultiExecInOneRequestIsAtomicOnTheSharedPipeline) {
  test::IoThreads io(2);
  Client client(io.executor(), config(1));
  client.start();
  std::atomic<bool> stop{false};
  std::thread noise([&] {
    while (!stop) (void)exec_sync(client, command("SET", "x", "noise"));
  });
  for (int i = 0; i < 50; ++i) {
    resp::Request tx;
    tx.push("MULTI").push("SET", "x", "a").push("GET", "x").push("SET", "x", "b").push("GET", "x");
    tx.push("EXEC");
    auto r = exec_sync(client, std::move(tx));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 6u);
    auto exec = r->at(5);
    ASSERT_EQ(exec.size(), 4u) << resp::to_display(*r);
    EXPECT_EQ(exec.at(1).str(), "a");
    EXPECT_EQ(exec.at(3).str(), "b");
  }
  stop = true;
  noise.join();
}

TEST_F(ClientTest, ABlockingPopDoesNotStallOtherCallers) {
  test::IoThreads io(1);
  Client client(io.executor(), config(1));
  client.start();
  ASSERT_TRUE(exec_sync(client, command("PING")));
  auto blpop = command("BLPOP", "queue", "3");
  ASSERT_TRUE(blpop.flags().exclusive);
  auto popped = test::exec_async(client, std::move(blpop));
  // While BLPOP blocks its own link, the shared link answers at once.
  for (int i = 0; i < 20; ++i) {
    const auto t0 = Clock::now();
    ASSERT_TRUE(exec_sync(client, command("SET", "k", i)));
    EXPECT_LT(Clock::now() - t0, 500ms);
  }
  EXPECT_EQ(popped.wait_for(0s), std::future_status::timeout);
  ASSERT_TRUE(exec_sync(client, command("LPUSH", "queue", "item")));
  ASSERT_EQ(popped.wait_for(5s), std::future_status::ready);
  auto [ec, reply] = popped.get();
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(reply.at(1).str(), "item");
  // The dedicated link went back to the pool and serves the next exclusive request.
  auto again = exec_sync(client, command("BLPOP", "queue", "0.1"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->is_null());
}

TEST_F(ClientTest, ForwardsLinkEventsOfEveryLink) {
  test::IoThreads io(1);
  Client client(io.executor(), config(3));
  std::mutex mu;
  std::set<std::size_t> up;
  client.set_link_handler([&](const LinkEvent& e) {
    std::lock_guard lock(mu);
    if (e.kind == LinkEvent::Kind::up) up.insert(e.link.index);
  });
  client.start();
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        return up.size() == 3;
      },
      5s));
  std::lock_guard lock(mu);
  EXPECT_EQ(up, (std::set<std::size_t>{0, 1, 2}));
}

TEST_F(ClientTest, StopCompletesEverythingWithStopped) {
  test::IoThreads io(1);
  Client client(io.executor(), config(2));
  client.start();
  ASSERT_TRUE(exec_sync(client, command("PING")));
  auto blocked = test::exec_async(client, command("BLPOP", "never", "0"));
  ASSERT_TRUE(exec_sync(client, command("PING")));
  client.stop();
  ASSERT_EQ(blocked.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(std::get<0>(blocked.get()), Errc::stopped);
  auto after = exec_sync(client, command("PING"));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), Errc::stopped);
}

}  // namespace
}  // namespace tiercache::redis
