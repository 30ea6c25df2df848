// Script against a real redis-server: EVALSHA, the NOSCRIPT fallback, binary-safe KEYS/ARGV and
// how a script's own error reaches the caller.
#include "tiercache/redis/script.hpp"

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/error.hpp"

#include "tests/support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
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

// An io_context running on its own thread while the test body waits on futures with deadlines.
class IoThread {
 public:
  IoThread() : thread_([this] { io_.run(); }) {}
  ~IoThread() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

  template <class T>
  T run(asio::awaitable<T> body, std::chrono::seconds limit = 10s) {
    auto done = asio::co_spawn(io_, std::move(body), asio::use_future);
    if (done.wait_for(limit) != std::future_status::ready) {
      throw std::runtime_error("the test's coroutine did not finish in time");
    }
    return done.get();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io_.get_executor()};
  std::thread thread_;
};

class ScriptTest : public testing::Test {
 protected:
  ScriptTest() : client_(io_.io().get_executor(), server_.config()) { client_.start(); }
  ~ScriptTest() override { client_.stop(); }

  Result<resp::Reply> run(const Script& script, std::vector<std::string> keys,
                          std::vector<std::string> args) {
    return io_.run(script.exec(client_, std::move(keys), std::move(args)));
  }
  Result<resp::Reply> command(std::vector<std::string> argv) {
    resp::Request request;
    request.push_range(argv.front(), "", std::vector<std::string>(argv.begin() + 1, argv.end()));
    return io_.run(client_.exec(std::move(request)));
  }
  bool server_has(const Script& script) {
    auto reply = command({"SCRIPT", "EXISTS", script.sha1()});
    return reply && reply->size() == 1 && reply->at(0).integer() == 1;
  }

  test::RedisServer server_;
  IoThread io_;
  Client client_;
};

TEST(ScriptSha1Test, IsTheLowercaseHexSha1OfTheSource) {
  // The SHA1 the Redis documentation shows for this script.
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST_F(ScriptTest, RunsAndLoadsItselfOnFirstUse) {
  const Script script("return {KEYS[1], ARGV[1], redis.call('INCRBY', KEYS[1], ARGV[2])}");
  EXPECT_FALSE(server_has(script));
  auto reply = run(script, {"counter"}, {"hello", "5"});
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->size(), 3u) << *reply;
  EXPECT_EQ(reply->at(0).str(), "counter");
  EXPECT_EQ(reply->at(1).str(), "hello");
  EXPECT_EQ(reply->at(2).integer(), 5);
  EXPECT_TRUE(server_has(script));

  reply = run(script, {"counter"}, {"again", "2"});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->at(2).integer(), 7);
}

TEST_F(ScriptTest, SendsTheSameSha1AsScriptLoad) {
  const Script script("return redis.call('PING')");
  auto loaded = command({"SCRIPT", "LOAD", script.source()});
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->str(), script.sha1());
}

TEST_F(ScriptTest, StillWorksAfterScriptFlush) {
  const Script script("return redis.call('INCR', KEYS[1])");
  ASSERT_TRUE(run(script, {"n"}, {}));
  ASSERT_TRUE(server_has(script));
  ASSERT_TRUE(command({"SCRIPT", "FLUSH"}));
  ASSERT_FALSE(server_has(script));

  auto reply = run(script, {"n"}, {});
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_FALSE(reply->is_error()) << *reply;
  EXPECT_EQ(reply->integer(), 2);  // ran once more, not twice
  EXPECT_TRUE(server_has(script));
}

TEST_F(ScriptTest, StillWorksAfterTheServerRestarts) {
  const Script script("return ARGV[1]");
  ASSERT_TRUE(run(script, {}, {"before"}));
  server_.restart();  // a new process knows no scripts
  Result<resp::Reply> reply = make_error_code(Errc::not_connected);
  for (auto until = std::chrono::steady_clock::now() + 10s;
       !reply && std::chrono::steady_clock::now() < until;) {
    reply = run(script, {}, {"after"});             // fails while the client reconnects
    if (!reply) std::this_thread::sleep_for(20ms);  // polls a condition, with a deadline
  }
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->str(), "after");
}

TEST_F(ScriptTest, PassesKeysAndArgumentsBinarySafe) {
  const std::string key("k\0\xff\r\n ", 6);
  const std::string value("v\0\0\x01\r\n$3\r\n", 10);
  const Script script(
      "redis.call('SET', KEYS[1], ARGV[1]) "
      "return {redis.call('GET', KEYS[1]), string.len(KEYS[1]), string.len(ARGV[1])}");
  auto reply = run(script, {key}, {value});
  ASSERT_TRUE(reply) << reply.error().message();
  ASSERT_EQ(reply->size(), 3u) << *reply;
  EXPECT_EQ(reply->at(0).str(), value);
  EXPECT_EQ(reply->at(1).integer(), 6);
  EXPECT_EQ(reply->at(2).integer(), 10);
  auto got = command({"GET", key});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->str(), value);
}

TEST_F(ScriptTest, ReportsAnErrorTheScriptRaisesWithItsText) {
  const Script script("return redis.error_reply('MYERR the quota is spent')");
  auto reply = run(script, {}, {});
  ASSERT_TRUE(reply) << "a script's error is a reply, not a failed request";
  EXPECT_TRUE(reply->is_error());
  EXPECT_EQ(reply->str(), "MYERR the quota is spent");
}

TEST_F(ScriptTest, ReportsARuntimeErrorWithRedisText) {
  ASSERT_TRUE(command({"SET", "s", "not a number"}));
  const Script script("return redis.call('INCR', KEYS[1])");
  auto reply = run(script, {"s"}, {});
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->is_error()) << *reply;
  EXPECT_NE(reply->str().find("value is not an integer"), std::string_view::npos) << *reply;
  EXPECT_FALSE(Script::is_noscript(*reply));

  const Script broken("return +");
  reply = run(broken, {}, {});
  ASSERT_TRUE(reply);
  ASSERT_TRUE(reply->is_error()) << *reply;
  EXPECT_NE(reply->str().find("Error compiling script"), std::string_view::npos) << *reply;
}

TEST_F(ScriptTest, CompletesACallbackToken) {
  const Script script("return tonumber(ARGV[1]) * 2");
  std::promise<std::pair<error_code, resp::Reply>> promise;
  script.async_exec(client_, {}, {"21"}, [&](error_code ec, resp::Reply reply) {
    promise.set_value({ec, std::move(reply)});
  });
  auto done = promise.get_future();
  ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
  auto [ec, reply] = done.get();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(reply.integer(), 42);
}

TEST(ScriptFailureTest, ReportsATransportFailureAsAnErrorCode) {
  const std::uint16_t port = test::free_port();  // nothing listens there
  Config config;
  config.port = port;
  config.connect_timeout = 200ms;
  config.request_timeout = 300ms;
  IoThread io;
  Client client(io.io().get_executor(), config);
  client.start();
  auto reply = io.run(Script("return 1").exec(client, {}, {}));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), category()) << reply.error().message();
  client.stop();
}

}  // namespace
}  // namespace tiercache::redis
