// Graceful shutdown: a request in flight when stop() begins is answered; idle keep-alive
// connections are closed; no new connection is accepted; a proxy refresh still waiting for its
// upstream when the drain ends is abandoned, not waited for.

#include "tests/server/demo_upstream.hpp"
#include "tests/server/server_fixture.hpp"
#include "tests/support/eventually.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace tiercache::test {
namespace {

using V = http::verb;

TEST(ShutdownTest, StopDrainsARequestInFlight) {
  RedisServer redis;
  Config config = with_redis(redis);
  config.redis->request_timeout = std::chrono::seconds(10);
  server::Daemon daemon(config);
  daemon.start();
  HttpClient writer(daemon.port());
  ASSERT_EQ(writer.request(V::put, "/v1/cache/nol1/k", "value").result(), http::status::no_content);

  HttpClient idle(daemon.port());
  ASSERT_EQ(idle.request(V::get, "/healthz").result(), http::status::ok);
  // The server counts a request until its answer is written, which may be after the client read
  // it: wait, so the count below is the paused read's and not this one's.
  ASSERT_TRUE(eventually([&] { return daemon.http().in_flight() == 0; }));

  // Redis stopped: a read of a namespace without L1 waits in the handler.
  redis.pause();
  auto in_flight = std::async(std::launch::async, [&] {
    HttpClient c(daemon.port());
    return c.request(V::get, "/v1/cache/nol1/k");
  });
  ASSERT_TRUE(eventually([&] { return daemon.http().in_flight() == 1; }));

  auto stopped = std::async(std::launch::async, [&] { daemon.stop(); });
  ASSERT_TRUE(eventually([&] { return daemon.http().stopping(); }));
  // The idle keep-alive connection is closed at once, while the request is still in flight.
  EXPECT_TRUE(idle.server_closed());
  EXPECT_EQ(daemon.http().in_flight(), 1u);
  // New connections are refused.
  EXPECT_TRUE(eventually([&] {
    try {
      HttpClient late(daemon.port(), std::chrono::milliseconds(500));
      late.request(V::get, "/healthz");
      return false;
    } catch (const boost::system::system_error&) {
      return true;
    }
  }));

  redis.resume();
  auto res = in_flight.get();
  EXPECT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(res.body(), "value");
  EXPECT_FALSE(res.keep_alive());
  stopped.get();
}

TEST(ShutdownTest, StopEndsAProxyRefreshStillWaitingForItsUpstream) {
  // A stale answer starts a refresh that the cache runs in the background on the connection's
  // thread; the upstream then takes a minute to answer it. stop() ends the refresh (its upstream
  // call is abandoned) instead of waiting out the route's 60 s timeout, and destroys what it
  // leaves before the services it holds (ASan watches that part).
  using namespace std::chrono_literals;
  RedisServer redis;
  DemoUpstream upstream(0ms);
  Config config = with_redis(redis);
  config.proxy.routes.push_back({.name = "weather",
                                 .prefix = "/weather",
                                 .upstream = upstream.url("/weather"),
                                 .ns = "proxy.weather",
                                 .data_type = "weather",
                                 .ttl = 1s,
                                 .stale_while_revalidate = 1h,
                                 .timeout = 60s});
  server::Daemon daemon(config);
  daemon.start();
  {
    HttpClient client(daemon.port());
    auto miss = client.request(V::get, "/weather?city=Oslo");
    ASSERT_EQ(miss.result(), http::status::ok) << miss.body();
    ASSERT_EQ(miss["X-Cache"], "MISS");
    std::this_thread::sleep_for(1200ms);  // past the TTL, inside the SWR window
    upstream.set_delay(60s);
    ASSERT_EQ(client.request(V::get, "/weather?city=Oslo")["X-Cache"], "STALE");
  }
  ASSERT_TRUE(eventually([&] { return upstream.requests("/weather") == 2; }));  // it waits
  const auto start = std::chrono::steady_clock::now();
  daemon.stop();
  // Bounded by the drain and the 5 s bounds, not by the upstream: a refresh left running would
  // hold the connection thread for the route's 60 s timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
}

TEST(ShutdownTest, StopWithNoConnectionsIsQuick) {
  server::Daemon daemon(test_config());
  daemon.start();
  const auto start = std::chrono::steady_clock::now();
  daemon.stop();
  daemon.stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tiercache::test
