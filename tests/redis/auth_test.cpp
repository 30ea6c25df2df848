// Authentication and ACLs on the handshake: HELLO 3 AUTH, and the errors a person can act on.
// A NOPERM on the handshake (a user who may not SELECT) is permission_denied; a NOPERM reply to
// an ordinary command stays a Redis error reply, a value for the layer that acts on it.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;

class AuthTest : public ::testing::Test {
 protected:
  test::RedisServer server_{test::RedisServer::Options{
      .requirepass = "s3cret",
      .users = {test::AclUser{.name = "reader", .password = "rpw", .rules = "~* &* +@all -set"},
                test::AclUser{.name = "noselect", .password = "npw", .rules = "~* +@all -select"}},
  }};
  test::IoThreads io_;
};

TEST_F(AuthTest, TheRightPasswordWorks) {
  Connection conn(io_.executor(), server_.config());
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "PONG");
}

TEST_F(AuthTest, AWrongPasswordIsAuthFailed) {
  Config cfg = server_.config();
  cfg.password = "wrong";
  Connection conn(io_.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::auth_failed);
}

// Between attempts the link backs off, and a request then fails at once; after a refusal it
// fails with the refusal, not with a "not connected" that would hide the wrong password.
TEST_F(AuthTest, RequestsWhileTheLinkBacksOffAfterARefusalAreAuthFailedToo) {
  Config cfg = server_.config();
  cfg.password = "wrong";
  cfg.reconnect_min = 2s;  // the requests below all land in the first backoff
  cfg.reconnect_max = 2s;
  Connection conn(io_.executor(), cfg);
  conn.start();
  for (int i = 0; i < 5; ++i) {
    auto r = exec_sync(conn, command("PING"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::auth_failed) << "request " << i << ": " << r.error().message();
  }
}

TEST_F(AuthTest, NoPasswordIsAuthFailed) {
  Config cfg = server_.config();
  cfg.password.clear();
  cfg.protocol = 2;  // plain commands get NOAUTH
  Connection conn(io_.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::auth_failed);
}

TEST_F(AuthTest, AnAclUserLogsInAndGetsNopermAsAReplyValue) {
  Connection conn(io_.executor(), server_.config_as("reader"));
  conn.start();
  auto get = exec_sync(conn, command("GET", "k"));
  ASSERT_TRUE(get) << get.error().message();
  EXPECT_TRUE(get->is_null());
  auto set = exec_sync(conn, command("SET", "k", "v"));
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->is_error());
  EXPECT_EQ(set->str().substr(0, 6), "NOPERM");
}

TEST_F(AuthTest, AnAclUserWhoMayNotSelectIsPermissionDenied) {
  Config cfg = server_.config_as("noselect");
  cfg.database = 2;
  Connection conn(io_.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::permission_denied);
}

TEST_F(AuthTest, AWrongUserPasswordOnResp2IsAuthFailed) {
  Config cfg = server_.config_as("reader");
  cfg.password = "nope";
  cfg.protocol = 2;
  Connection conn(io_.executor(), cfg);
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::auth_failed);
}

}  // namespace
}  // namespace tiercache::redis
