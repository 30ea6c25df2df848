// hello_redis: a tour of tiercache's Redis client, printing what it does.
//
//   hello_redis [redis://host:port/db]      (else REDIS_URL, else REDIS_HOST/REDIS_PORT/...,
//                                            else 127.0.0.1:6379)
//
// It connects, then: SET and GET a key, INCR a counter, 100 GETs at once (auto-pipelined into
// a few writes), a Lua script by EVALSHA, and a pub/sub round trip. Exit status 0 when all
// went well, 1 when Redis could not be reached or a step failed, 2 for a bad URL.
#include "tiercache/redis/client.hpp"
#include "tiercache/redis/script.hpp"
#include "tiercache/redis/subscriber.hpp"
#include "tiercache/redis/url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
namespace redis = tiercache::redis;
namespace resp = tiercache::resp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// One Redis command: its name (for messages) and the request that carries it.
struct Command {
  std::string name;
  resp::Request request;
};

template <class... Args>
Command command(std::string_view name, const Args&... args) {
  Command c{std::string(name), {}};
  c.request.push(name, args...);
  return c;
}

// Runs a command: its reply, or nothing after printing why it failed.
asio::awaitable<std::optional<resp::Reply>> run(redis::Client& redis, Command c) {
  tiercache::Result<resp::Reply> reply = co_await redis.exec(std::move(c.request));
  if (!reply) {
    std::printf("%s failed: %s\n", c.name.c_str(), reply.error().message().c_str());
    co_return std::nullopt;
  }
  if (reply->is_error()) {
    std::printf("%s: Redis said %s\n", c.name.c_str(), std::string(reply->str()).c_str());
    co_return std::nullopt;
  }
  co_return std::move(*reply);
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Redis may still be starting: PING until it answers, for up to five seconds.
asio::awaitable<bool> wait_until_reachable(redis::Client& redis) {
  const auto deadline = Clock::now() + 5s;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    resp::Request ping;
    ping.push("PING");
    auto reply = co_await redis.exec(std::move(ping));
    if (reply && !reply->is_error()) co_return true;
    if (Clock::now() >= deadline) {
      std::fprintf(stderr, "error: cannot reach Redis at %s within 5 s: %s\n",
                   redis.config().describe().c_str(),
                   reply ? std::string(reply->str()).c_str() : reply.error().message().c_str());
      co_return false;
    }
    pause.expires_after(100ms);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<int> tour(redis::Client& redis, redis::Subscriber& subscriber) {
  if (!co_await wait_until_reachable(redis)) co_return 1;
  std::printf("connected to %s\n", redis.config().describe().c_str());

  // 1. A key and a counter.
  if (!co_await run(redis, command("SET", "hello:greeting", "Hello from tiercache", "EX", 60)))
    co_return 1;
  auto greeting = co_await run(redis, command("GET", "hello:greeting"));
  if (!greeting) co_return 1;
  std::printf("SET/GET hello:greeting -> \"%s\"\n", std::string(greeting->str()).c_str());
  auto count = co_await run(redis, command("INCR", "hello:counter"));
  if (!count) co_return 1;
  std::printf("INCR hello:counter -> %lld\n", static_cast<long long>(count->integer()));

  // 2. 100 GETs at once. Each is its own request; the connection sends all that are waiting
  //    in one write, and Redis answers them in order.
  const auto writes_before = redis.stats().at(0).writes;
  std::vector<decltype(redis.async_exec(resp::Request(), asio::deferred))> gets;
  for (int i = 0; i < 100; ++i) {
    resp::Request get;
    get.push("GET", "hello:greeting");
    gets.push_back(redis.async_exec(std::move(get), asio::deferred));
  }
  const auto start = Clock::now();
  auto [order, errors, replies] =
      co_await asio::experimental::make_parallel_group(std::move(gets))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  const double elapsed = ms_since(start);
  int good = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!errors[i] && replies[i].str() == greeting->str()) ++good;
  }
  std::printf("100 concurrent GETs: %d right replies in %.2f ms, sent in %llu write(s)\n", good,
              elapsed, static_cast<unsigned long long>(redis.stats().at(0).writes - writes_before));
  if (good != 100) co_return 1;

  // 3. A Lua script, by its SHA1; loaded by EVAL the first time the server lacks it.
  static const redis::Script hits(
      "local n = redis.call('INCR', KEYS[1]) "
      "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
      "return n");
  // (Named vectors: g++ 12 cannot keep a braced list of strings alive across a co_await.)
  std::vector<std::string> keys{"hello:hits"}, args{"60000"};
  auto scripted = co_await hits.exec(redis, keys, args);
  if (!scripted || scripted->is_error()) {
    std::printf("script failed: %s\n", scripted ? std::string(scripted->str()).c_str()
                                                : scripted.error().message().c_str());
    co_return 1;
  }
  std::printf("Lua script %.12s... -> %lld hits\n", hits.sha1().c_str(),
              static_cast<long long>(scripted->integer()));

  // 4. Pub/sub: subscribe, publish, and wait (at most 2 s) for the message to come back.
  asio::steady_timer arrived(co_await asio::this_coro::executor, 2s);
  const std::vector<std::string> channels{"hello:news"};
  std::string received;
  auto subscribed = co_await subscriber.subscribe(
      channels, [&](std::string_view channel, std::string_view message) {
        received = std::string(channel) + ": " + std::string(message);
        arrived.cancel();
      });
  if (!subscribed) {
    std::printf("SUBSCRIBE failed: %s\n", subscribed.error().message().c_str());
    co_return 1;
  }
  const auto sent = Clock::now();
  const bool published =
      (co_await run(redis, command("PUBLISH", "hello:news", "tiercache says hi"))).has_value();
  if (published) co_await arrived.async_wait(asio::as_tuple(asio::use_awaitable));
  // The handler refers to this frame's variables: unsubscribe before they go.
  (void)co_await subscriber.unsubscribe(channels);
  if (!published) co_return 1;
  if (received.empty()) {
    std::printf("pub/sub: no message within 2 s\n");
    co_return 1;
  }
  std::printf("pub/sub round trip: \"%s\" in %.2f ms\n", received.c_str(), ms_since(sent));

  if (!co_await run(redis, command("DEL", "hello:greeting", "hello:counter", "hello:hits")))
    co_return 1;
  std::printf("cleaned up; all done\n");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  auto config = argc > 1 ? redis::parse_url(argv[1], &why) : redis::config_from_env(&why);
  if (!config) {
    std::fprintf(stderr, "error: %s\n", why.c_str());
    return 2;
  }

  // The client logs each failed reconnect at warn level; this tour says what went wrong itself.
  spdlog::set_level(spdlog::level::err);

  asio::io_context io;
  redis::Client client(io.get_executor(), *config);
  redis::Subscriber subscriber(io.get_executor(), *config);
  client.start();
  subscriber.start();

  int status = 1;
  asio::co_spawn(io, tour(client, subscriber), [&](std::exception_ptr error, int result) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
      }
    } else {
      status = result;
    }
    subscriber.stop();
    client.stop();
  });
  io.run();
  return status;
}
