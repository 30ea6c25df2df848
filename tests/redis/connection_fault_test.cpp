// Connection when things go wrong: a killed server, a paused one, garbage on the wire, a server
// without HELLO, nobody listening, a handshake that never answers. Nothing may hang.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/fake_server.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Config fast_config(Config cfg) {
  cfg.request_timeout = 500ms;
  cfg.connect_timeout = 500ms;
  cfg.link_timeout = 1500ms;
  cfg.reconnect_min = 20ms;
  cfg.reconnect_max = 200ms;
  return cfg;
}

TEST(ConnectionFaultTest, FailsPendingRequestsWhenTheServerDiesAndRecoversAfterRestart) {
  test::RedisServer server;
  test::IoThreads io;
  Config cfg = fast_config(server.config());
  cfg.request_timeout = 2000ms;
  Connection conn(io.executor(), cfg);
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));

  std::vector<std::future<test::Outcome>> pending;
  std::vector<Clock::time_point> started;
  for (int i = 0; i < 2000; ++i) {
    pending.push_back(test::exec_async(conn, command("INCR", "n")));
    started.push_back(Clock::now());
    if (i == 1000) server.stop();  // SIGKILL mid-load
  }
  std::size_t failed = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    // Every request completes within its own timeout (plus scheduling slack).
    const auto limit = started[i] + cfg.request_timeout + 500ms;
    ASSERT_EQ(pending[i].wait_until(limit), std::future_status::ready) << "request " << i;
    auto [ec, reply] = pending[i].get();
    if (ec) {
      ++failed;
      EXPECT_TRUE(ec == Errc::connection_lost || ec == Errc::not_connected ||
                  ec == Errc::connect_failed || ec == Errc::reply_timeout)
          << ec.message();
    }
  }
  EXPECT_GT(failed, 0u);

  server.restart();
  auto r = test::exec_until_ok(conn, command("PING"), 10s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "PONG");
  EXPECT_GE(conn.stats().reconnects, 1u);
}

TEST(ConnectionFaultTest, TimesOutOnTimeWhenTheServerIsPausedAndRecoversWhenResumed) {
  test::RedisServer server;
  test::IoThreads io;
  Config cfg = fast_config(server.config());
  cfg.request_timeout = 300ms;
  Connection conn(io.executor(), cfg);
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));

  server.pause();
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    auto r = exec_sync(conn, command("GET", "k"), 5s);
    const auto took = Clock::now() - t0;
    ASSERT_FALSE(r);
    // Later ones may meet the link torn down by link_timeout, or the reconnect attempt.
    EXPECT_TRUE(r.error() == Errc::reply_timeout || r.error() == Errc::not_connected ||
                r.error() == Errc::connect_timeout || r.error() == Errc::connection_lost)
        << r.error().message();
    if (i == 0) {
      EXPECT_EQ(r.error(), Errc::reply_timeout);
    }
    EXPECT_LE(took, cfg.request_timeout + 500ms);
  }
  EXPECT_GE(conn.stats().timeouts, 1u);
  server.resume();
  auto r = test::exec_until_ok(conn, command("PING"), 10s);
  ASSERT_TRUE(r) << r.error().message();
}

TEST(ConnectionFaultTest, GarbageFromTheServerIsAProtocolErrorAndTheLinkIsRebuilt) {
  test::FakeServer fake([](std::string_view in) {
    if (in.find("HELLO") != std::string_view::npos) return test::FakeServer::hello_reply();
    return std::string("?this is not RESP\r\n");
  });
  test::IoThreads io;
  Connection conn(io.executor(), fast_config(fake.config()));
  std::mutex mu;
  std::vector<error_code> downs;
  conn.set_link_handler([&](const LinkEvent& e) {
    std::lock_guard lock(mu);
    if (e.kind == LinkEvent::Kind::down) downs.push_back(e.error);
  });
  conn.start();
  auto r = exec_sync(conn, command("GET", "k"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::connection_lost);  // sent, then the link fell
  ASSERT_TRUE(fake.wait_for_connections(2, 5s)) << "the link was not rebuilt";
  std::lock_guard lock(mu);
  ASSERT_FALSE(downs.empty());
  EXPECT_EQ(downs.front(), Errc::protocol_error);
}

TEST(ConnectionFaultTest, AServerWithoutHelloGetsResp2AndSaysSo) {
  test::FakeServer fake([](std::string_view in) {
    std::string out;
    for (const auto& cmd : test::FakeServer::parse_commands(in)) {
      if (cmd[0] == "HELLO") {
        out += "-ERR unknown command 'HELLO'\r\n";
      } else if (cmd[0] == "GET") {
        out += "$5\r\nresp2\r\n";
      } else {
        out += "+OK\r\n";
      }
    }
    return out;
  });
  test::IoThreads io;
  Connection conn(io.executor(), fast_config(fake.config()));
  std::atomic<int> protocol{0};
  conn.set_link_handler([&](const LinkEvent& e) {
    if (e.kind == LinkEvent::Kind::up) protocol = e.protocol;
  });
  conn.start();
  auto r = exec_sync(conn, command("GET", "k"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "resp2");
  EXPECT_EQ(protocol.load(), 2);
  EXPECT_EQ(conn.stats().protocol, 2);
  EXPECT_TRUE(fake.received().find("CLIENT") != std::string::npos);  // SETNAME on RESP2
}

TEST(ConnectionFaultTest, NobodyListeningFailsFastThenNotConnectedWhileBackingOff) {
  Config cfg = fast_config(Config{});
  cfg.port = test::free_port();
  cfg.reconnect_min = 2000ms;
  cfg.reconnect_max = 4000ms;
  test::IoThreads io;
  Connection conn(io.executor(), cfg);
  // Asked before start(), the first request waits for the first attempt and fails with its
  // error; asked after, it could come too late, when the link is already backing off.
  auto first = test::exec_async(conn, command("PING"));
  conn.start();
  ASSERT_EQ(first.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(std::get<0>(first.get()), Errc::connect_failed);
  const auto t0 = Clock::now();
  auto second = exec_sync(conn, command("PING"), 5s);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), Errc::not_connected);
  EXPECT_LT(Clock::now() - t0, 100ms);
}

TEST(ConnectionFaultTest, AHandshakeThatNeverAnswersIsAConnectTimeout) {
  test::FakeServer fake(test::FakeServer::Options{.never_answer = true});
  test::IoThreads io;
  Config cfg = fast_config(fake.config());
  cfg.request_timeout = 3000ms;
  cfg.connect_timeout = 300ms;
  Connection conn(io.executor(), cfg);
  conn.start();
  const auto t0 = Clock::now();
  auto r = exec_sync(conn, command("PING"), 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::connect_timeout);
  EXPECT_LT(Clock::now() - t0, 1000ms);
}

TEST(ConnectionFaultTest, RetriesIdempotentRequestsOnceWhenConfigured) {
  // The first link dies after reading the GET; the second answers it.
  std::atomic<int> gets{0};
  test::FakeServer fake([&](std::string_view in) {
    std::string out;
    for (const auto& cmd : test::FakeServer::parse_commands(in)) {
      if (cmd[0] == "HELLO") {
        out += test::FakeServer::hello_reply();
      } else if (cmd[0] == "GET" && gets++ == 0) {
        return std::string("?garbage\r\n");  // not RESP: the link drops
      } else {
        out += "$2\r\nok\r\n";
      }
    }
    return out;
  });
  test::IoThreads io;
  Config cfg = fast_config(fake.config());
  cfg.retry_idempotent = true;
  Connection conn(io.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("GET", "k"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "ok");
  EXPECT_EQ(gets.load(), 2);
}

TEST(ConnectionFaultTest, RejectsRequestsBeyondMaxPending) {
  test::FakeServer fake(test::FakeServer::Options{.never_answer = true});
  test::IoThreads io;
  Config cfg = fast_config(fake.config());
  cfg.max_pending = 4;
  Connection conn(io.executor(), cfg);
  std::vector<std::future<test::Outcome>> queued;
  for (int i = 0; i < 4; ++i) queued.push_back(test::exec_async(conn, command("PING")));
  auto over = exec_sync(conn, command("PING"), 2s);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), Errc::queue_full);
  for (auto& f : queued) {
    ASSERT_EQ(f.wait_for(2s), std::future_status::ready);  // their own timeout, not started
    EXPECT_EQ(std::get<0>(f.get()), Errc::reply_timeout);
  }
}

}  // namespace
}  // namespace tiercache::redis
