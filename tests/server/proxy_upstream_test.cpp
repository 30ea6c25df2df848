// proxy::Upstream against a real in-test server on 127.0.0.1
// (tests/server/test_upstream_server.hpp): target joining, keep-alive reuse, the connection limit,
// the retry after an idle close, each failure mode (unreachable, timeout, too large, garbage,
// saturated), close() at shutdown, plain and over TLS.
#include "server/proxy/upstream.hpp"
#include "tests/server/test_upstream_server.hpp"
#include "tests/support/eventually.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tiercache::server::proxy {
namespace {

using test::eventually;
using test::TestUpstreamServer;
using test::UpstreamBehaviour;

Request get(const std::string& target, http::verb method = http::verb::get) {
  return Request{method, target, 11};
}

// Runs one send() to completion on `io`, within `limit`.
Result<Response> send(asio::io_context& io, Upstream& up, Request req,
                      std::chrono::seconds limit = std::chrono::seconds(10)) {
  std::optional<Result<Response>> out;
  asio::co_spawn(io, up.send(std::move(req)), [&](std::exception_ptr e, Result<Response> r) {
    if (e) std::rethrow_exception(e);
    out.emplace(std::move(r));
  });
  io.restart();
  io.run_for(limit);
  if (!out) throw std::runtime_error("send() did not complete within the limit");
  return std::move(*out);
}

UpstreamBehaviour::Response text(http::status status, std::string body) {
  UpstreamBehaviour::Response res{status, 11};
  res.body() = std::move(body);
  return res;
}

TEST(UpstreamTest, JoinsTargetOntoBasePathAndSetsHost) {
  TestUpstreamServer server({.handler = [](const UpstreamBehaviour::Request&) {
    auto res = text(http::status::ok, "sunny");
    res.set("X-Upstream", "yes");
    return res;
  }});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url("/api/")});
  auto req = get("/forecast?city=paris");
  req.set("X-Trace", "7");
  auto r = send(io, up, std::move(req));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->result(), http::status::ok);
  EXPECT_EQ(r->body(), "sunny");
  EXPECT_EQ((*r)["X-Upstream"], "yes");
  auto seen = server.last_request();
  EXPECT_EQ(seen.target(), "/api/forecast?city=paris");
  EXPECT_EQ(seen[http::field::host], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen["X-Trace"], "7");
  EXPECT_EQ(up.base().path(), "/api/");

  struct Case {
    std::string base, target, expected;
  };
  const std::vector<Case> cases = {
      {"", "/x", "/x"},          {"", "", "/"},
      {"/", "/x?a=1", "/x?a=1"}, {"/api", "?q=1", "/api?q=1"},
      {"/api", "", "/api"},      {"/api/v1", "x/y", "/api/v1/x/y"},
  };
  for (const auto& c : cases) {
    Upstream other(io.get_executor(), {.base_url = server.url(c.base)});
    ASSERT_TRUE(send(io, other, get(c.target))) << c.base << " + " << c.target;
    EXPECT_EQ(server.last_request().target(), c.expected) << c.base << " + " << c.target;
  }
}

TEST(UpstreamTest, ReusesOneKeepAliveConnection) {
  TestUpstreamServer server({});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  for (int i = 0; i < 20; ++i) {
    auto r = send(io, up, get("/n"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "ok");
  }
  const auto s = up.stats();
  EXPECT_EQ(s.requests, 20u);
  EXPECT_EQ(s.connects, 1u);
  EXPECT_EQ(s.reuses, 19u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(s.idle, 1u);
  EXPECT_EQ(s.open, 1u);
  EXPECT_EQ(server.accepted(), 1u);
}

asio::awaitable<void> send_counted(Upstream* up, std::atomic<int>* ok,
                                   std::atomic<int>* saturated) {
  auto r = co_await up->send(get("/slow"));
  if (r && r->result() == http::status::ok) ++*ok;
  if (!r && r.error() == Errc::upstream_saturated) ++*saturated;
}

// Runs `n` concurrent sends on two threads; returns {ok, saturated}.
std::pair<int, int> send_concurrently(Upstream& up, asio::io_context& io, int n) {
  std::atomic<int> ok{0}, saturated{0};
  for (int i = 0; i < n; ++i)
    asio::co_spawn(io, send_counted(&up, &ok, &saturated), asio::detached);
  std::thread helper([&io] { io.run_for(std::chrono::seconds(20)); });
  io.run_for(std::chrono::seconds(20));
  helper.join();
  return {ok.load(), saturated.load()};
}

TEST(UpstreamTest, ConcurrentRequestsShareAtMostMaxConnections) {
  TestUpstreamServer server({.delay = std::chrono::milliseconds(10)});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url(), .max_connections = 4});
  auto [ok, saturated] = send_concurrently(up, io, 50);
  EXPECT_EQ(ok, 50);
  EXPECT_EQ(saturated, 0);
  EXPECT_LE(server.max_open(), 4u);
  const auto s = up.stats();
  EXPECT_EQ(s.connects, 4u);
  EXPECT_EQ(s.reuses, 46u);
  EXPECT_EQ(s.open, 4u);
  EXPECT_EQ(s.idle, 4u);
}

TEST(UpstreamTest, WaitersBeyondTheTimeoutFailSaturated) {
  // One connection, 100 ms a request, 450 ms to wait: the first ~4 are served, the rest give up.
  TestUpstreamServer server({.delay = std::chrono::milliseconds(100)});
  asio::io_context io;
  Upstream up(
      io.get_executor(),
      {.base_url = server.url(), .max_connections = 1, .timeout = std::chrono::milliseconds(450)});
  auto [ok, saturated] = send_concurrently(up, io, 10);
  EXPECT_EQ(ok + saturated, 10);
  EXPECT_GE(ok, 2);
  EXPECT_GE(saturated, 2);
  EXPECT_EQ(up.stats().failures, static_cast<std::uint64_t>(saturated));
  EXPECT_EQ(up.stats().open, 1u);
  // The pool is usable afterwards.
  EXPECT_TRUE(send(io, up, get("/after")));
}

TEST(UpstreamTest, RetriesOnceWhenTheServerClosedTheIdleConnection) {
  TestUpstreamServer server({.close_after_response = true});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  ASSERT_TRUE(send(io, up, get("/1")));
  ASSERT_TRUE(eventually([&] { return server.closed() == 1; }));
  auto r = send(io, up, get("/2"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(server.last_request().target(), "/2");
  auto s = up.stats();
  EXPECT_EQ(s.connects, 2u);
  EXPECT_EQ(s.reuses, 1u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.failures, 0u);

  // POST is not idempotent: the same failure is reported, not retried.
  ASSERT_TRUE(eventually([&] { return server.closed() == 2; }));
  auto post = get("/3", http::verb::post);
  post.body() = "x";
  auto p = send(io, up, std::move(post));
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error(), Errc::upstream_bad_response);
  s = up.stats();
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_EQ(s.open, 0u);
}

TEST(UpstreamTest, IdleConnectionOlderThanIdleTimeoutIsNotReused) {
  TestUpstreamServer server({});
  asio::io_context io;
  Upstream up(io.get_executor(),
              {.base_url = server.url(), .idle_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(send(io, up, get("/1")));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // the behaviour under test
  ASSERT_TRUE(send(io, up, get("/2")));
  EXPECT_EQ(up.stats().connects, 2u);
  EXPECT_EQ(up.stats().reuses, 0u);
  EXPECT_EQ(up.stats().open, 1u);
}

TEST(UpstreamTest, ServerErrorStatusIsAResponse) {
  TestUpstreamServer server({.handler = [](const UpstreamBehaviour::Request&) {
    return text(http::status::service_unavailable, "busy");
  }});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  auto r = send(io, up, get("/"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->result(), http::status::service_unavailable);
  EXPECT_EQ(r->body(), "busy");
  EXPECT_EQ(up.stats().failures, 0u);
}

TEST(UpstreamTest, ConnectionCloseAndHttp10ResponsesAreNotPooled) {
  TestUpstreamServer server({.handler = [](const UpstreamBehaviour::Request&) {
    auto res = text(http::status::ok, "bye");
    res.keep_alive(false);
    return res;
  }});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  ASSERT_TRUE(send(io, up, get("/1")));
  ASSERT_TRUE(send(io, up, get("/2")));
  EXPECT_EQ(up.stats().connects, 2u);
  EXPECT_EQ(up.stats().idle, 0u);
  EXPECT_EQ(up.stats().open, 0u);

  // HTTP/1.0, the body delimited by the end of the stream.
  TestUpstreamServer old({.raw_reply = "HTTP/1.0 200 OK\r\nX-Old: 1\r\n\r\nuntil the end"});
  Upstream up10(io.get_executor(), {.base_url = old.url()});
  auto r = send(io, up10, get("/"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "until the end");
  EXPECT_EQ(up10.stats().idle, 0u);
}

TEST(UpstreamTest, ReadsChunkedBodiesAndHeadResponses) {
  TestUpstreamServer server({.handler = [](const UpstreamBehaviour::Request& req) {
    auto res = text(http::status::ok, "");
    if (req.method() == http::verb::head) {
      res.content_length(11);  // what a GET would send; no body follows
    } else {
      res.body() = "hello world";
      res.chunked(true);
    }
    return res;
  }});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  auto head = send(io, up, get("/", http::verb::head));
  ASSERT_TRUE(head) << head.error().message();
  EXPECT_EQ(head->body(), "");
  EXPECT_EQ((*head)[http::field::content_length], "11");
  auto r = send(io, up, get("/"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->body(), "hello world");
  EXPECT_EQ(up.stats().connects, 1u);
  EXPECT_EQ(up.stats().reuses, 1u);
}

TEST(UpstreamTest, NothingListeningIsUnreachable) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = probe.local_endpoint().port();
  }
  Upstream up(io.get_executor(), {.base_url = "http://127.0.0.1:" + std::to_string(port)});
  auto r = send(io, up, get("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::upstream_unreachable);
  EXPECT_EQ(up.stats().failures, 1u);
  EXPECT_EQ(up.stats().open, 0u);
}

TEST(UpstreamTest, ServerThatNeverAnswersTimesOut) {
  TestUpstreamServer server({.never_answer = true});
  asio::io_context io;
  Upstream up(io.get_executor(),
              {.base_url = server.url(), .timeout = std::chrono::milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  auto r = send(io, up, get("/"));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::upstream_timeout);
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(up.stats().open, 0u);
}

TEST(UpstreamTest, CloseEndsSendsInFlightAndWaitingAndRefusesLaterOnes) {
  // The server never answers and the timeout is a minute: only close() can end these sends.
  // One connection: the first send is in flight on it, the second waits for it.
  TestUpstreamServer server({.never_answer = true});
  asio::io_context io;
  Upstream up(
      io.get_executor(),
      {.base_url = server.url(), .max_connections = 1, .timeout = std::chrono::seconds(60)});
  std::mutex mu;
  std::vector<Result<Response>> results;
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(io, up.send(get("/slow")), [&](std::exception_ptr e, Result<Response> r) {
      if (e) std::rethrow_exception(e);
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    });
  }
  std::thread runner([&io] { io.run_for(std::chrono::seconds(30)); });
  ASSERT_TRUE(eventually([&] { return server.requests() == 1; }));
  up.close();  // from another thread than the one running the sends, as at shutdown
  const bool both = eventually([&] {
    std::lock_guard lock(mu);
    return results.size() == 2;
  });
  if (!both) io.stop();
  runner.join();
  ASSERT_TRUE(both) << "close() left a send running";
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), Errc::upstream_closed) << r.error().message();
  }
  auto later = send(io, up, get("/later"));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), Errc::upstream_closed);
  EXPECT_EQ(server.requests(), 1u);  // nothing went out after close()
  EXPECT_EQ(up.stats().open, 0u);
  EXPECT_EQ(up.stats().idle, 0u);
}

TEST(UpstreamTest, BodyLargerThanTheLimitFails) {
  TestUpstreamServer server({.handler = [](const UpstreamBehaviour::Request& req) {
    auto res = text(http::status::ok, std::string(2000, 'x'));
    res.chunked(req.target() == "/chunked");
    return res;
  }});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url(), .max_body_bytes = 1000});
  for (const char* target : {"/sized", "/chunked"}) {
    auto r = send(io, up, get(target));
    ASSERT_FALSE(r) << target;
    EXPECT_EQ(r.error(), Errc::upstream_body_too_large) << target;
  }
  EXPECT_EQ(up.stats().open, 0u);
}

TEST(UpstreamTest, GarbageIsABadResponse) {
  TestUpstreamServer server({.raw_reply = "SSH-2.0-OpenSSH_9.2\r\n\r\n"});
  asio::io_context io;
  Upstream up(io.get_executor(), {.base_url = server.url()});
  auto r = send(io, up, get("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::upstream_bad_response);
  EXPECT_EQ(std::string(r.error().category().name()), "tiercache.proxy");
}

TEST(UpstreamTest, BadBaseUrlsThrow) {
  asio::io_context io;
  for (const char* url :
       {"", "not a url", "ftp://h/x", "http:///x", "http://h/x?q=1", "http://h/x#frag",
        "http://h:0/", "http://h:65536/", "http://h:/", "http://h:12ab/", "http://user:pw@h/"}) {
    EXPECT_THROW(Upstream(io.get_executor(), {.base_url = url}), std::invalid_argument) << url;
  }
  EXPECT_THROW(Upstream(io.get_executor(), {.base_url = "http://h/", .max_connections = 0}),
               std::invalid_argument);
  EXPECT_NO_THROW(Upstream(io.get_executor(), {.base_url = "http://h:65535/a/b/"}));
  EXPECT_NO_THROW(Upstream(io.get_executor(), {.base_url = "https://[::1]/"}));
}

// A self-signed certificate for 127.0.0.1, made once per run with the openssl command.
class Certificate {
 public:
  static const Certificate& get() {
    static const Certificate instance;
    return instance;
  }
  ~Certificate() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }

 private:
  Certificate()
      : dir_(std::filesystem::temp_directory_path() /
             ("tiercache_upstream_test_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
    const std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key() + " -out " + cert() + " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl req failed");
  }
  std::filesystem::path dir_;
};

TEST(UpstreamTest, HttpsVerifiesAgainstTheCaFile) {
  const auto& c = Certificate::get();
  TestUpstreamServer server({.cert_file = c.cert(), .key_file = c.key()});
  asio::io_context io;

  Upstream trusted(io.get_executor(), {.base_url = server.url("/api"), .ca_file = c.cert()});
  for (int i = 0; i < 3; ++i) {
    auto r = send(io, trusted, get("/x"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->body(), "ok");
  }
  EXPECT_EQ(server.last_request().target(), "/api/x");
  EXPECT_EQ(trusted.stats().connects, 1u);
  EXPECT_EQ(trusted.stats().reuses, 2u);

  Upstream untrusted(io.get_executor(), {.base_url = server.url()});
  auto r = send(io, untrusted, get("/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::upstream_unreachable);

  Upstream unverified(io.get_executor(), {.base_url = server.url(), .verify_tls = false});
  auto u = send(io, unverified, get("/"));
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->result(), http::status::ok);
}

}  // namespace
}  // namespace tiercache::server::proxy
