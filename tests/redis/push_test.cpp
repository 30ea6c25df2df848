// RESP3 from a real server (every type DEBUG PROTOCOL can produce, HELLO's map) and push
// messages: CLIENT TRACKING invalidations, and pushes between replies, which must reach the
// push handler and never a caller.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/fake_server.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;

// The pushes a connection delivered, as text, readable from the test thread.
class PushLog {
 public:
  void attach(Connection& conn) {
    conn.set_push_handler([this](LinkId, resp::ReplyView v) {
      std::lock_guard lock(mu_);
      pushes_.push_back(resp::to_display(v));
    });
  }
  std::vector<std::string> pushes() {
    std::lock_guard lock(mu_);
    return pushes_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> pushes_;
};

class PushTest : public ::testing::Test {
 protected:
  test::RedisServer server_{test::RedisServer::Options{.extra = {"enable-debug-command yes"}}};
  test::IoThreads io_;
};

TEST_F(PushTest, HelloAnswersWithAMap) {
  Connection conn(io_.executor(), server_.config());
  conn.start();
  auto r = exec_sync(conn, command("HELLO", "3"));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->type(), resp::Type::map);
  bool saw_proto = false;
  for (std::size_t i = 0; i + 1 < r->size(); i += 2) {
    if (r->at(i).str() == "proto") {
      saw_proto = true;
      EXPECT_EQ(r->at(i + 1).integer(), 3);
    }
  }
  EXPECT_TRUE(saw_proto);
}

TEST_F(PushTest, DecodesEveryTypeDebugProtocolProduces) {
  Connection conn(io_.executor(), server_.config());
  PushLog log;
  log.attach(conn);
  conn.start();
  auto get = [&](const char* type) {
    auto r = exec_sync(conn, command("DEBUG", "PROTOCOL", type));
    EXPECT_TRUE(r) << type;
    return r ? std::move(*r) : resp::Reply();
  };
  auto s = get("string");
  EXPECT_EQ(s.type(), resp::Type::blob_string);
  EXPECT_EQ(s.str(), "Hello World");
  auto i = get("integer");
  EXPECT_EQ(i.type(), resp::Type::integer);
  EXPECT_EQ(i.integer(), 12345);
  auto d = get("double");
  EXPECT_EQ(d.type(), resp::Type::double_);
  EXPECT_DOUBLE_EQ(d.view().number(), 3.141);
  auto big = get("bignum");
  EXPECT_EQ(big.type(), resp::Type::big_number);
  EXPECT_EQ(big.str(), "1234567999999999999999999999999999999");
  EXPECT_TRUE(get("null").is_null());
  auto arr = get("array");
  EXPECT_EQ(arr.type(), resp::Type::array);
  EXPECT_EQ(arr.size(), 3u);
  auto set = get("set");
  EXPECT_EQ(set.type(), resp::Type::set);
  EXPECT_EQ(set.size(), 3u);
  auto map = get("map");
  EXPECT_EQ(map.type(), resp::Type::map);
  EXPECT_EQ(map.size(), 6u);  // 3 entries, keys and values
  auto attrib = get("attrib");
  EXPECT_EQ(attrib.type(), resp::Type::blob_string);
  EXPECT_EQ(attrib.str(), "Some real reply following the attribute");
  EXPECT_EQ(attrib.view().attribute().type(), resp::Type::attribute);
  auto verbatim = get("verbatim");
  EXPECT_EQ(verbatim.type(), resp::Type::verbatim_string);
  EXPECT_EQ(verbatim.str(), "This is a verbatim\nstring");
  auto t = get("true");
  EXPECT_EQ(t.type(), resp::Type::boolean);
  EXPECT_TRUE(t.view().boolean());
  auto f = get("false");
  EXPECT_EQ(f.type(), resp::Type::boolean);
  EXPECT_FALSE(f.view().boolean());
  // DEBUG PROTOCOL push sends a push message, then its reply.
  auto push = get("push");
  EXPECT_EQ(push.str(), "Some real reply following the push reply");
  const auto pushes = log.pushes();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_NE(pushes[0].find("server-cpu-usage"), std::string::npos) << pushes[0];
}

TEST_F(PushTest, ClientTrackingInvalidationsReachThePushHandler) {
  Connection conn(io_.executor(), server_.config());
  std::mutex mu;
  std::vector<std::string> pushes;
  std::vector<LinkId> links;
  conn.set_push_handler([&](LinkId link, resp::ReplyView v) {
    std::lock_guard lock(mu);
    pushes.push_back(resp::to_display(v));
    links.push_back(link);
  });
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("SET", "tracked", "1")));
  auto on = exec_sync(conn, command("CLIENT", "TRACKING", "on"));
  ASSERT_TRUE(on);
  ASSERT_EQ(on->str(), "OK");
  ASSERT_TRUE(exec_sync(conn, command("GET", "tracked")));
  server_.cli({"SET", "tracked", "2"});  // a write from another client
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mu);
        return !pushes.empty();
      },
      5s));
  // Replies stay right while the invalidation arrived in between.
  auto r = exec_sync(conn, command("GET", "tracked"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->str(), "2");
  std::lock_guard lock(mu);
  EXPECT_NE(pushes[0].find("invalidate"), std::string::npos) << pushes[0];
  EXPECT_NE(pushes[0].find("tracked"), std::string::npos) << pushes[0];
  EXPECT_EQ(links[0], (LinkId{0, 1}));
}

// Config::tracking_optin: the handshake turns tracking on in OPTIN mode, so only a read right
// after CLIENT CACHING YES (in the same request) is tracked.
TEST_F(PushTest, OptinTrackingTracksOnlyReadsAfterClientCachingYes) {
  auto config = server_.config();
  config.client_tracking = true;
  config.tracking_optin = true;
  Connection conn(io_.executor(), config);
  PushLog log;
  log.attach(conn);
  conn.start();
  ASSERT_TRUE(exec_sync(conn, command("GET", "plain")));
  resp::Request tracked;
  tracked.push("CLIENT", "CACHING", "YES");
  tracked.push("GET", "cached");
  auto both = exec_sync(conn, std::move(tracked));
  ASSERT_TRUE(both);
  ASSERT_EQ(both->size(), 2U);
  EXPECT_EQ(both->at(0).str(), "OK");
  server_.cli({"SET", "plain", "1"});
  server_.cli({"SET", "cached", "1"});
  ASSERT_TRUE(test::wait_until([&] { return !log.pushes().empty(); }, 5s));
  // Both writes were made before this round trip: any push for "plain" arrived before its reply.
  ASSERT_TRUE(exec_sync(conn, command("PING")));
  const auto pushes = log.pushes();
  ASSERT_EQ(pushes.size(), 1U);
  EXPECT_NE(pushes[0].find("cached"), std::string::npos) << pushes[0];
}

TEST(PushFakeTest, APushBetweenRepliesNeverReachesACaller) {
  // Every GET is answered by a push first, then its reply; the push names the key.
  test::FakeServer fake([](std::string_view in) {
    std::string out;
    for (const auto& cmd : test::FakeServer::parse_commands(in)) {
      if (cmd[0] == "HELLO") {
        out += test::FakeServer::hello_reply();
      } else if (cmd[0] == "GET") {
        out += ">2\r\n$10\r\ninvalidate\r\n*1\r\n$" + std::to_string(cmd[1].size()) + "\r\n" +
               cmd[1] + "\r\n";
        out += "$" + std::to_string(cmd[1].size() + 4) + "\r\nval-" + cmd[1] + "\r\n";
      } else {
        out += "+OK\r\n";
      }
    }
    return out;
  });
  test::IoThreads io;
  Connection conn(io.executor(), fake.config());
  std::atomic<int> pushes{0};
  conn.set_push_handler([&](LinkId, resp::ReplyView v) {
    if (v.type() == resp::Type::push && v.at(0).str() == "invalidate") ++pushes;
  });
  conn.start();
  std::vector<std::future<test::Outcome>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(test::exec_async(conn, command("GET", "k" + std::to_string(i))));
  }
  for (int i = 0; i < 200; ++i) {
    auto& f = futures[static_cast<std::size_t>(i)];
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    auto [ec, reply] = f.get();
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(reply.str(), "val-k" + std::to_string(i));
  }
  EXPECT_TRUE(test::wait_until([&] { return pushes.load() == 200; }, 5s));
}

}  // namespace
}  // namespace tiercache::redis
