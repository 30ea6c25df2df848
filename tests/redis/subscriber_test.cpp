// Subscriber against a real redis-server: delivery, patterns, unsubscribe, many channels, and
// resubscription after the server restarts. A Client publishes; every wait has a deadline.
#include "tiercache/redis/subscriber.hpp"

#include "tiercache/redis/client.hpp"
#include "tiercache/redis/error.hpp"

#include "tests/support/fake_server.hpp"
#include "tests/support/redis_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
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

struct Message {
  std::string pattern;  // empty for SUBSCRIBE
  std::string channel;
  std::string text;
  friend bool operator==(const Message&, const Message&) = default;
};

std::ostream& operator<<(std::ostream& os, const Message& m) {
  return os << "{" << m.pattern << " " << m.channel << ": " << m.text << "}";
}

// What handlers received, filled on the subscriber's strand, read by the test thread.
class Inbox {
 public:
  Subscriber::MessageHandler handler() {
    return [this](std::string_view channel, std::string_view text) {
      add(Message{"", std::string(channel), std::string(text)});
    };
  }
  Subscriber::PatternHandler pattern_handler() {
    return [this](std::string_view pattern, std::string_view channel, std::string_view text) {
      add(Message{std::string(pattern), std::string(channel), std::string(text)});
    };
  }
  // Waits until n messages have arrived; false on timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return messages_.size() >= n; });
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  void add(Message m) {
    {
      std::lock_guard lock(mu_);
      messages_.push_back(std::move(m));
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> messages_;
};

class SubscriberTest : public testing::Test {
 protected:
  SubscriberTest()
      : subscriber_(io_.io().get_executor(), server_.config()),
        publisher_(io_.io().get_executor(), server_.config()) {
    subscriber_.start();
    publisher_.start();
  }
  ~SubscriberTest() override {
    subscriber_.stop();
    publisher_.stop();
  }

  // PUBLISH; the number of subscribers that received it, or -1 on an error.
  std::int64_t publish(const std::string& channel, const std::string& text) {
    resp::Request request;
    request.push("PUBLISH", channel, text);
    auto reply = io_.run(publisher_.exec(std::move(request)));
    if (!reply || reply->type() != resp::Type::integer) return -1;
    return reply->integer();
  }
  void expect_ok(Result<void> r) { EXPECT_TRUE(r) << r.error().message(); }

  test::RedisServer server_;
  IoThread io_;
  Subscriber subscriber_;
  Client publisher_;
  Inbox inbox_;
};

TEST_F(SubscriberTest, DeliversMessagesOfASubscribedChannel) {
  expect_ok(io_.run(subscriber_.subscribe({"news"}, inbox_.handler())));
  EXPECT_TRUE(subscriber_.connected());
  EXPECT_EQ(subscriber_.subscriptions(), 1u);
  EXPECT_EQ(publish("news", "one"), 1);
  EXPECT_EQ(publish("other", "not for us"), 0);
  EXPECT_EQ(publish("news", std::string("two\0\r\n", 6)), 1);
  ASSERT_TRUE(inbox_.wait_for(2));
  EXPECT_EQ(inbox_.messages(),
            (std::vector<Message>{{"", "news", "one"}, {"", "news", std::string("two\0\r\n", 6)}}));
}

TEST_F(SubscriberTest, DeliversMessagesMatchingAPattern) {
  expect_ok(io_.run(subscriber_.psubscribe({"news.*"}, inbox_.pattern_handler())));
  EXPECT_EQ(publish("news.sport", "goal"), 1);
  EXPECT_EQ(publish("weather", "rain"), 0);
  EXPECT_EQ(publish("news.art", "paint"), 1);
  ASSERT_TRUE(inbox_.wait_for(2));
  EXPECT_EQ(inbox_.messages(), (std::vector<Message>{{"news.*", "news.sport", "goal"},
                                                     {"news.*", "news.art", "paint"}}));
}

TEST_F(SubscriberTest, DeliversShardChannelMessages) {
  expect_ok(io_.run(subscriber_.ssubscribe({"shard"}, inbox_.handler())));
  resp::Request request;
  request.push("SPUBLISH", "shard", "hello");
  auto reply = io_.run(publisher_.exec(std::move(request)));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->integer(), 1) << *reply;
  ASSERT_TRUE(inbox_.wait_for(1));
  EXPECT_EQ(inbox_.messages().at(0), (Message{"", "shard", "hello"}));
}

TEST_F(SubscriberTest, StopsDeliveringAfterUnsubscribe) {
  expect_ok(io_.run(subscriber_.subscribe({"a", "b"}, inbox_.handler())));
  expect_ok(io_.run(subscriber_.psubscribe({"p.*"}, inbox_.pattern_handler())));
  expect_ok(io_.run(subscriber_.unsubscribe({"a"})));
  expect_ok(io_.run(subscriber_.punsubscribe({"p.*"})));
  EXPECT_EQ(subscriber_.subscriptions(), 1u);
  EXPECT_EQ(publish("a", "dropped"), 0);  // Redis no longer counts us
  EXPECT_EQ(publish("p.x", "dropped"), 0);
  EXPECT_EQ(publish("b", "kept"), 1);
  // Messages on one connection arrive in order: "kept" came after anything for "a" would have.
  ASSERT_TRUE(inbox_.wait_for(1));
  EXPECT_EQ(inbox_.messages(), (std::vector<Message>{{"", "b", "kept"}}));
}

TEST_F(SubscriberTest, ReplacesTheHandlerOfAChannelSubscribedAgain) {
  Inbox second;
  expect_ok(io_.run(subscriber_.subscribe({"c"}, inbox_.handler())));
  expect_ok(io_.run(subscriber_.subscribe({"c"}, second.handler())));
  EXPECT_EQ(publish("c", "x"), 1);
  ASSERT_TRUE(second.wait_for(1));
  EXPECT_TRUE(inbox_.messages().empty());
}

TEST_F(SubscriberTest, HandlesManyChannels) {
  constexpr int kChannels = 500;
  std::vector<std::string> first, second;
  for (int i = 0; i < kChannels; ++i) (i % 2 ? first : second).push_back("ch:" + std::to_string(i));
  expect_ok(io_.run(subscriber_.subscribe(first, inbox_.handler())));
  expect_ok(io_.run(subscriber_.subscribe(second, inbox_.handler())));
  EXPECT_EQ(subscriber_.subscriptions(), static_cast<std::size_t>(kChannels));

  resp::Request request;  // one pipelined batch
  for (int i = 0; i < kChannels; ++i) {
    request.push("PUBLISH", "ch:" + std::to_string(i), "m" + std::to_string(i));
  }
  auto replies = io_.run(publisher_.exec(std::move(request)));
  ASSERT_TRUE(replies) << replies.error().message();
  ASSERT_TRUE(inbox_.wait_for(kChannels));
  std::map<std::string, std::string> got;
  for (const auto& m : inbox_.messages()) got[m.channel] = m.text;
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kChannels));
  for (int i = 0; i < kChannels; ++i)
    EXPECT_EQ(got["ch:" + std::to_string(i)], "m" + std::to_string(i));
}

TEST_F(SubscriberTest, ResubscribesAfterTheServerRestartsAndReportsTheGap) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Subscriber::Resubscribed> report;
  subscriber_.on_resubscribed([&](const Subscriber::Resubscribed& r) {
    {
      std::lock_guard lock(mu);
      report = r;
    }
    cv.notify_all();
  });
  expect_ok(io_.run(subscriber_.subscribe({"news"}, inbox_.handler())));
  expect_ok(io_.run(subscriber_.psubscribe({"n*"}, inbox_.pattern_handler())));
  ASSERT_EQ(publish("news", "before"), 2);
  ASSERT_TRUE(inbox_.wait_for(2));

  const auto restarted_at = std::chrono::steady_clock::now();
  server_.restart();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 15s, [&] { return report.has_value(); }))
        << "no resubscription after the restart";
  }
  EXPECT_EQ(report->subscriptions, 2u);
  EXPECT_TRUE(report->cause) << "the cause of the gap is reported";
  EXPECT_GT(report->gap, 0ns);
  EXPECT_LE(report->gap, std::chrono::steady_clock::now() - restarted_at + 1s);

  // The publisher reconnects on its own; a publish may fail until it has.
  std::int64_t receivers = -1;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       receivers < 0 && std::chrono::steady_clock::now() < until;) {
    receivers = publish("news", "after");
    if (receivers < 0) std::this_thread::sleep_for(20ms);  // polls a condition, with a deadline
  }
  EXPECT_EQ(receivers, 2);
  ASSERT_TRUE(inbox_.wait_for(4));
  const auto messages = inbox_.messages();
  EXPECT_EQ(messages[2].text, "after");
  EXPECT_EQ(messages[3].text, "after");
}

TEST_F(SubscriberTest, FailsChangesAfterStop) {
  subscriber_.stop();
  auto r = io_.run(subscriber_.subscribe({"x"}, inbox_.handler()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::stopped);
}

TEST(SubscriberUnreachableTest, KeepsTheSubscriptionWhenRedisIsDown) {
  test::RedisServer server;
  IoThread io;
  Config config = server.config();
  config.connect_timeout = 200ms;
  config.request_timeout = 300ms;
  server.stop();
  Subscriber subscriber(io.io().get_executor(), config);
  Inbox inbox;
  subscriber.start();
  auto r = io.run(subscriber.subscribe({"late"}, inbox.handler()));
  EXPECT_FALSE(r) << "not confirmed while Redis is down";
  EXPECT_EQ(subscriber.subscriptions(), 1u) << "but recorded";

  server.restart();
  // Once the Subscriber has connected, "late" is subscribed without another call.
  Client publisher(io.io().get_executor(), server.config());
  publisher.start();
  std::int64_t receivers = 0;
  for (auto until = std::chrono::steady_clock::now() + 10s;
       receivers < 1 && std::chrono::steady_clock::now() < until;) {
    resp::Request request;
    request.push("PUBLISH", "late", "hello");
    auto reply = io.run(publisher.exec(std::move(request)));
    receivers = reply && reply->type() == resp::Type::integer ? reply->integer() : 0;
    if (receivers < 1) std::this_thread::sleep_for(20ms);  // polls a condition, with a deadline
  }
  EXPECT_EQ(receivers, 1);
  EXPECT_TRUE(inbox.wait_for(1));
  subscriber.stop();
  publisher.stop();
}

// A server without HELLO (Redis 5) speaks RESP2, where messages cannot be told from replies.
TEST(SubscriberResp2Test, RefusesAServerThatOnlySpeaksResp2) {
  test::FakeServer redis5([](std::string_view bytes) {
    std::string out;
    for (const auto& command : test::FakeServer::parse_commands(bytes)) {
      if (command.at(0) == "HELLO") {
        out += "-ERR unknown command 'HELLO'\r\n";
      } else if (command.at(0) == "SUBSCRIBE") {
        out += "*3\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n:1\r\n";
      } else if (command.at(0) == "PING") {
        out += "+PONG\r\n";
      } else {
        out += "+OK\r\n";
      }
    }
    return out;
  });
  IoThread io;
  Subscriber subscriber(io.io().get_executor(), redis5.config());
  Inbox inbox;
  subscriber.start();
  auto r = io.run(subscriber.subscribe({"x"}, inbox.handler()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::handshake_failed) << r.error().message();
  EXPECT_FALSE(subscriber.connected());
  subscriber.stop();
}

}  // namespace
}  // namespace tiercache::redis
