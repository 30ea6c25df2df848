// TLS: a server certificate signed by the configured CA works (with SNI and host name check);
// one from a CA we do not trust is tls_failed; client certificates for tls-auth-clients.

#include "tiercache/redis/connection.hpp"

#include "tests/redis/client_test_util.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>

#include <future>

namespace tiercache::redis {
namespace {

using test::command;
using test::exec_sync;
using namespace std::chrono_literals;

// The outcome of the first connect attempt for a request queued before the connection starts.
// (A request that arrives once that attempt has failed, while the link backs off, fails at once
// with not_connected instead: starting first would race the attempt.)
Result<resp::Reply> first_attempt(Connection& conn) {
  auto pending = test::exec_async(conn, command("PING"));
  conn.start();
  if (pending.wait_for(10s) != std::future_status::ready) {
    ADD_FAILURE() << "the request did not complete within 10 s";
    return asio::error::timed_out;
  }
  auto [ec, reply] = pending.get();
  if (ec) return ec;
  return std::move(reply);
}

TEST(TlsTest, AValidCertificateWorks) {
  test::RedisServer server(test::RedisServer::Options{.tls = true});
  test::IoThreads io;
  Connection conn(io.executor(), server.config());
  conn.start();
  auto r = exec_sync(conn, command("SET", "k", std::string(100000, 'v')));
  ASSERT_TRUE(r) << r.error().message();
  auto g = exec_sync(conn, command("GET", "k"));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->str().size(), 100000u);
  EXPECT_EQ(conn.stats().protocol, 3);
}

TEST(TlsTest, AnUntrustedCertificateIsTlsFailed) {
  test::RedisServer server(test::RedisServer::Options{.tls = true});
  test::IoThreads io;
  Config cfg = server.config();
  cfg.tls.ca_file = server.tls_files().untrusted_ca_cert.string();
  Connection conn(io.executor(), cfg);
  auto r = first_attempt(conn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::tls_failed);
  // And again while the link backs off (or tries again): still the certificate, not "not
  // connected".
  auto again = test::exec_sync(conn, command("PING"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Errc::tls_failed) << again.error().message();
}

TEST(TlsTest, AWrongHostNameIsTlsFailed) {
  test::RedisServer server(test::RedisServer::Options{.tls = true});
  test::IoThreads io;
  Config cfg = server.config();
  cfg.tls.server_name = "not-this-host.example";
  Connection conn(io.executor(), cfg);
  auto r = first_attempt(conn);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::tls_failed);
}

TEST(TlsTest, AClientCertificateIsPresentedWhenTheServerAsks) {
  test::RedisServer server(test::RedisServer::Options{.tls_client_auth = true});
  test::IoThreads io;
  Connection conn(io.executor(), server.config());
  conn.start();
  auto r = exec_sync(conn, command("PING"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->str(), "PONG");

  Config without = server.config();
  without.tls.cert_file.clear();
  without.tls.key_file.clear();
  Connection refused(io.executor(), without);
  auto e = first_attempt(refused);
  ASSERT_FALSE(e);
  // TLS 1.3 reports a rejected client certificate after the handshake, on the first read.
  EXPECT_TRUE(e.error() == Errc::tls_failed || e.error() == Errc::handshake_failed)
      << e.error().message();
}

}  // namespace
}  // namespace tiercache::redis
