// Connection against a real redis-server: command paths, binary safety, large values,
// cancellation, stop, the link events, and sockets a child process does not inherit.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;

asio::awaitable<void> ping_into(Connection& conn, std::promise<Result<resp::Reply>>& done) {
  done.set_value(co_await conn.exec(command("PING")));
}

// This process's descriptors that are sockets connected to `server` (its TCP port, or its unix
// socket).
std::set<int> sockets_to(const test::RedisServer& server) {
  std::set<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.ss_family == AF_INET && server.port() != 0) {
      sockaddr_in in{};
      std::memcpy(&in, &peer, sizeof in);
      if (ntohs(in.sin_port) == server.port()) out.insert(fd);
    } else if (peer.ss_family == AF_UNIX && server.port() == 0) {
      sockaddr_un un{};
      std::memcpy(&un, &peer, sizeof un);
      if (server.unix_socket_path() == un.sun_path) out.insert(fd);
    }
  }
  return out;
}

// The sockets a Connection opened to `server` (those that were not there before it started),
// once it answers: each must be close-on-exec.
void expect_links_close_on_exec(const test::RedisServer& server, test::IoThreads& io) {
  const std::set<int> before = sockets_to(server);
  Config cfg = server.config();
  cfg.request_timeout = 5000ms;
  Connection conn(io.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_TRUE(r) << r.error().message();
  int links = 0;
  for (const int fd : sockets_to(server)) {
    if (before.contains(fd)) continue;
    ++links;
    const int flags = ::fcntl(fd, F_GETFD);
    ASSERT_NE(flags, -1);
    EXPECT_NE(flags & FD_CLOEXEC, 0) << "fd " << fd << " would leak into an exec'd child";
  }
  EXPECT_EQ(links, 1);
}

class ConnectionTest : public ::testing::Test {
 protected:
  static Config config_for(const test::RedisServer& server) {
    Config cfg = server.config();
    cfg.request_timeout = 5000ms;
    return cfg;
  }

  test::RedisServer server_{test::RedisServer::Options{.extra = {"enable-debug-command yes"}}};
  test::IoThreads io_;
};

TEST_F(ConnectionTest, SetsAndGetsAValue) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  auto set = exec_sync(conn, command("SET", "k", "v"));
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(set->str(), "OK");
  auto get = exec_sync(conn, command("GET", "k"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->str(), "v");
  auto missing = exec_sync(conn, command("GET", "missing"));
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_null());
}

TEST_F(ConnectionTest, WaitsForTheFirstConnectionWhenCalledBeforeStart) {
  Connection conn(io_.executor(), config_for(server_));
  auto future = test::exec_async(conn, command("PING"));
  conn.start();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  auto [ec, reply] = future.get();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(reply.str(), "PONG");
}

TEST_F(ConnectionTest, WorksOverAUnixSocket) {
  test::RedisServer unix_server(test::RedisServer::Options{.unix_socket = true});
  Connection conn(io_.executor(), config_for(unix_server));
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "PONG");
}

TEST_F(ConnectionTest, ItsSocketIsNotInheritedByAChildProcess) {
  expect_links_close_on_exec(server_, io_);
  test::RedisServer unix_server(test::RedisServer::Options{.unix_socket = true});
  expect_links_close_on_exec(unix_server, io_);
}

TEST_F(ConnectionTest, KeysAndValuesAreBinarySafe) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  const std::string key("k\0ey\r\n", 6);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += std::string("\0\0\r\n$3\r\n", 9);
  ASSERT_TRUE(exec_sync(conn, command("SET", key, value)));
  auto r = exec_sync(conn, command("GET", key));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), value);
  auto len = exec_sync(conn, command("STRLEN", key));
  ASSERT_TRUE(len);
  EXPECT_EQ(len->integer(), static_cast<std::int64_t>(value.size()));
}

TEST_F(ConnectionTest, CarriesOneMegabyteAndSixtyFourMegabyteValues) {
  Config cfg = config_for(server_);
  cfg.request_timeout = 20s;
  cfg.link_timeout = 30s;
  Connection conn(io_.executor(), cfg);
  conn.start();
  for (std::size_t size : {std::size_t{1} << 20, std::size_t{64} << 20}) {
    std::string value(size, 'x');
    for (std::size_t i = 0; i < size; i += 4099) value[i] = static_cast<char>(i % 251);
    ASSERT_TRUE(exec_sync(conn, command("SET", "big", value), 30s));
    auto r = exec_sync(conn, command("GET", "big"), 30s);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->str().size(), size);
    EXPECT_TRUE(r->str() == value);
  }
}

TEST_F(ConnectionTest, AnErrorReplyIsAValueNotAFailure) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("SET", "s", "text")));
  auto r = exec_sync(conn, command("INCR", "s"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_error());
  EXPECT_NE(r->str().find("not an integer"), std::string_view::npos);
  EXPECT_TRUE(exec_sync(conn, command("PING")));  // the link is fine
}

TEST_F(ConnectionTest, ARequestOfSeveralCommandsYieldsAnArray) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  resp::Request req;
  req.push("SET", "a", "1").push("INCR", "a").push("GET", "a");
  auto r = exec_sync(conn, std::move(req));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(r->at(0).str(), "OK");
  EXPECT_EQ(r->at(1).integer(), 2);
  EXPECT_EQ(r->at(2).str(), "2");
}

TEST_F(ConnectionTest, SelectsTheConfiguredDatabase) {
  Config cfg = config_for(server_);
  cfg.database = 3;
  Connection conn(io_.executor(), cfg);
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("SET", "in3", "yes")));
  EXPECT_EQ(server_.cli({"-n", "3", "GET", "in3"}), "yes");
  EXPECT_EQ(server_.cli({"-n", "0", "EXISTS", "in3"}), "0");
}

TEST_F(ConnectionTest, ReportsTheLinkUpWithResp3AndDownOnStop) {
  Connection conn(io_.executor(), config_for(server_));
  std::mutex mu;
  std::vector<LinkEvent> events;
  conn.set_link_handler([&](const LinkEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  });
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));
  EXPECT_TRUE(conn.stats().connected);
  EXPECT_EQ(conn.stats().protocol, 3);
  conn.stop();
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        return events.size() == 2;
      },
      5s));
  std::lock_guard lock(mu);
  EXPECT_EQ(events[0].kind, LinkEvent::Kind::up);
  EXPECT_EQ(events[0].protocol, 3);
  EXPECT_EQ(events[0].link, (LinkId{0, 1}));
  EXPECT_EQ(events[1].kind, LinkEvent::Kind::down);
  EXPECT_EQ(events[1].error, Errc::stopped);
}

TEST_F(ConnectionTest, ACancelledRequestLeavesLaterRepliesRight) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("SET", "after", "mine")));
  asio::cancellation_signal signal;
  std::promise<error_code> cancelled;
  // Written and at the server for 300 ms, then cancelled: its slot must swallow its reply.
  conn.async_exec(command("DEBUG", "SLEEP", "0.3"),
                  asio::bind_cancellation_slot(
                      signal.slot(), [&](error_code ec, resp::Reply) { cancelled.set_value(ec); }));
  auto next = test::exec_async(conn, command("GET", "after"));
  ASSERT_TRUE(test::wait_until([&] { return conn.stats().writes >= 2; }, 5s));
  asio::post(conn.get_executor(), [&] { signal.emit(asio::cancellation_type::terminal); });
  auto f = cancelled.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), asio::error::operation_aborted);
  ASSERT_EQ(next.wait_for(5s), std::future_status::ready);
  auto [ec, reply] = next.get();
  EXPECT_FALSE(ec);
  EXPECT_EQ(reply.str(), "mine");
  EXPECT_TRUE(exec_sync(conn, command("PING")));  // still usable
}

TEST_F(ConnectionTest, StopCompletesPendingRequestsWithStopped) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));
  auto slow = test::exec_async(conn, command("DEBUG", "SLEEP", "0.5"));
  ASSERT_TRUE(test::wait_until([&] { return conn.stats().pending == 1; }, 5s));
  conn.stop();
  ASSERT_EQ(slow.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(std::get<0>(slow.get()), Errc::stopped);
  auto after = exec_sync(conn, command("PING"));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error(), Errc::stopped);
}

TEST_F(ConnectionTest, DestroyingTheConnectionCompletesItsRequests) {
  auto conn = std::make_unique<Connection>(io_.executor(), config_for(server_));
  auto never_started = test::exec_async(*conn, command("PING"));
  conn.reset();
  ASSERT_EQ(never_started.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(std::get<0>(never_started.get()), Errc::stopped);
}

TEST_F(ConnectionTest, DestroyingTheContextFreesAConnectionOwnedByItsPendingCaller) {
  std::weak_ptr<Connection> watch;
  {
    test::IoThreads io;
    auto conn = std::make_shared<Connection>(io.executor(), config_for(server_));
    watch = conn;
    conn->start();
    ASSERT_TRUE(exec_sync(*conn, command("PING")));
    // The handler owns the connection that holds it: only the context's shutdown can end that.
    conn->async_exec(command("DEBUG", "SLEEP", "1"), [conn](error_code, resp::Reply) {});
    ASSERT_TRUE(test::wait_until([&] { return conn->stats().pending == 1; }, 5s));
    conn.reset();
  }
  EXPECT_TRUE(watch.expired());
}

TEST_F(ConnectionTest, PipelinesConcurrentRequestsIntoFewWrites) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));
  std::vector<std::future<test::Outcome>> futures;
  for (int i = 0; i < 1000; ++i) {
    futures.push_back(test::exec_async(conn, command("ECHO", std::to_string(i))));
  }
  for (int i = 0; i < 1000; ++i) {
    auto& f = futures[static_cast<std::size_t>(i)];
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    auto [ec, reply] = f.get();
    ASSERT_FALSE(ec);
    ASSERT_EQ(reply.str(), std::to_string(i));
  }
  const auto stats = conn.stats();
  EXPECT_EQ(stats.requests, 1001u);
  EXPECT_LT(stats.writes, 500u) << "requests were not pipelined";
}

// A lone request on an idle link leaves at once (Impl::write_now); a no-reply one is then
// complete, yet its handler must still not run inside the exec call that started it: the caller
// may hold a lock its handler takes (Subscriber does).
TEST_F(ConnectionTest, ALoneRequestCompletesOutsideTheCallThatStartedIt) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("PING")));
  for (int i = 0; i < 20; ++i) {
    std::promise<bool> done;
    std::atomic<bool> inside{false};
    asio::post(conn.get_executor(), [&] {
      inside = true;
      resp::Request subscribe = command("SUBSCRIBE", "lone:" + std::to_string(i));
      subscribe.flags().no_reply = true;
      conn.async_exec(std::move(subscribe),
                      [&](error_code ec, resp::Reply) { done.set_value(!inside && !ec); });
      inside = false;
    });
    auto f = done.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(f.get()) << "request " << i;
  }
  // One write per lone request: none waited for another to fill a batch.
  const auto before = conn.stats();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(exec_sync(conn, command("PING")));
  EXPECT_EQ(conn.stats().writes - before.writes, 10u);
}

TEST_F(ConnectionTest, TheCoroutineApiReturnsAResult) {
  Connection conn(io_.executor(), config_for(server_));
  conn.start();
  std::promise<Result<resp::Reply>> done;
  asio::co_spawn(io_.executor(), ping_into(conn, done), asio::detached);
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto r = f.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "PONG");
}

}  // namespace
}  // namespace tiercache::redis
