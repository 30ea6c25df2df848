// The test harness itself: RedisServer (a private redis-server) and FakeServer (a scripted
// loopback server), checked with hiredis's sync client and redis-cli, never with our client.

#include "tests/support/fake_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tiercache::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{.tv_sec = static_cast<time_t>(ms.count() / 1000),
                 .tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Context connect_tcp(std::uint16_t port, std::chrono::milliseconds timeout = 1000ms) {
  Context c(redisConnectWithTimeout("127.0.0.1", port, to_timeval(timeout)));
  if (c && c->err == 0) redisSetTimeout(c.get(), to_timeval(timeout));
  return c;
}

Context connect_unix(const std::filesystem::path& path) {
  Context c(redisConnectUnixWithTimeout(path.c_str(), to_timeval(1000ms)));
  if (c && c->err == 0) redisSetTimeout(c.get(), to_timeval(1000ms));
  return c;
}

Reply run(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lengths.data())));
}

// "PONG", "ERR ...", "(nil)", "(no reply: <hiredis error>)": one string to compare.
std::string text(redisContext* c, const Reply& reply) {
  if (!reply) return "(no reply: " + std::string(c->errstr) + ")";
  switch (reply->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STRING:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    default:
      return "(other)";
  }
}

std::string command(redisContext* c, const std::vector<std::string>& args) {
  if (c == nullptr) return "(no connection)";
  return text(c, run(c, args));
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST(RedisServerTest, AnswersPingOnTcp) {
  RedisServer server;
  ASSERT_TRUE(server.running());
  EXPECT_NE(server.port(), 0);
  EXPECT_TRUE(std::filesystem::is_directory(server.dir()));
  const Context c = connect_tcp(server.port());
  ASSERT_TRUE(c && c->err == 0) << (c ? c->errstr : "null context");
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_EQ(command(c.get(), {"SET", "k", std::string("a\0b", 3)}), "OK");
  EXPECT_EQ(server.cli({"STRLEN", "k"}), "3");
}

TEST(RedisServerTest, AnswersPingOnUnixSocket) {
  RedisServer server(RedisServer::Options{.unix_socket = true});
  EXPECT_EQ(server.port(), 0);
  EXPECT_TRUE(std::filesystem::exists(server.unix_socket_path()));
  const Context c = connect_unix(server.unix_socket_path());
  ASSERT_TRUE(c && c->err == 0) << (c ? c->errstr : "null context");
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_EQ(server.config().unix_socket, server.unix_socket_path().string());
  EXPECT_EQ(server.url(), "unix://" + server.unix_socket_path().string());
}

TEST(RedisServerTest, RequirepassRequiresAuth) {
  RedisServer server(RedisServer::Options{.requirepass = "s3cret \"pw\""});
  const Context c = connect_tcp(server.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"GET", "k"}).rfind("NOAUTH", 0), 0u);
  EXPECT_EQ(command(c.get(), {"AUTH", "wrong"}).rfind("WRONGPASS", 0), 0u);
  EXPECT_EQ(command(c.get(), {"AUTH", "s3cret \"pw\""}), "OK");
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_EQ(server.config().password, "s3cret \"pw\"");
  EXPECT_EQ(server.url(), "redis://:s3cret%20%22pw%22@127.0.0.1:" + std::to_string(server.port()));
}

TEST(RedisServerTest, AclUserWithRestrictedRulesGetsNoperm) {
  RedisServer server(RedisServer::Options{
      .users = {{.name = "reader", .password = "rpw", .rules = "~* &* +@read +@connection"}}});
  const Context c = connect_tcp(server.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"AUTH", "reader", "nope"}).rfind("WRONGPASS", 0), 0u);
  EXPECT_EQ(command(c.get(), {"AUTH", "reader", "rpw"}), "OK");
  EXPECT_EQ(command(c.get(), {"GET", "k"}), "(nil)");
  EXPECT_EQ(command(c.get(), {"SET", "k", "v"}).rfind("NOPERM", 0), 0u);
  EXPECT_EQ(server.cli({"SET", "k", "v"}), "OK");  // the default user is untouched
  EXPECT_NE(server.cli({"--user", "reader", "--pass", "rpw", "SET", "k", "v"}).find("NOPERM"),
            std::string::npos);
  const redis::Config config = server.config_as("reader");
  EXPECT_EQ(config.username, "reader");
  EXPECT_EQ(config.password, "rpw");
}

TEST(RedisServerTest, TlsServerAnswersRedisCliAndRejectsPlainConnections) {
  RedisServer server(RedisServer::Options{.tls = true});
  const auto& files = server.tls_files();
  for (const auto& file :
       {files.ca_cert, files.server_cert, files.server_key, files.client_cert, files.client_key,
        files.untrusted_ca_cert, files.untrusted_cert, files.untrusted_key}) {
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }
  EXPECT_EQ(server.cli({"PING"}), "PONG");

  const Context c = connect_tcp(server.port(), 500ms);
  ASSERT_TRUE(c && c->err == 0);  // TCP is accepted; the plain command is not
  EXPECT_NE(command(c.get(), {"PING"}), "PONG");

  const RunResult untrusted =
      run_process({find_program("redis-cli").string(), "-p", std::to_string(server.port()), "--tls",
                   "--cacert", files.untrusted_ca_cert.string(), "PING"},
                  5s);
  EXPECT_EQ(untrusted.output.find("PONG"), std::string::npos) << untrusted.output;

  const redis::Config config = server.config();
  EXPECT_TRUE(config.tls.enabled);
  EXPECT_EQ(config.tls.ca_file, files.ca_cert.string());
  EXPECT_EQ(config.tls.server_name, "localhost");
  EXPECT_TRUE(config.tls.cert_file.empty());
  EXPECT_EQ(server.url().rfind("rediss://127.0.0.1:" + std::to_string(server.port()) + "?", 0), 0u);
}

TEST(RedisServerTest, TlsClientAuthRequiresAClientCertificate) {
  RedisServer server(RedisServer::Options{.tls_client_auth = true});
  EXPECT_EQ(server.cli({"PING"}), "PONG");  // cli() presents the client certificate
  const auto& files = server.tls_files();
  const std::string cli = find_program("redis-cli").string();
  const std::string port = std::to_string(server.port());
  const RunResult anonymous =
      run_process({cli, "-p", port, "--tls", "--cacert", files.ca_cert.string(), "PING"}, 5s);
  EXPECT_EQ(anonymous.output.find("PONG"), std::string::npos) << anonymous.output;
  const RunResult stranger =
      run_process({cli, "-p", port, "--tls", "--cacert", files.ca_cert.string(), "--cert",
                   files.untrusted_cert.string(), "--key", files.untrusted_key.string(), "PING"},
                  5s);
  EXPECT_EQ(stranger.output.find("PONG"), std::string::npos) << stranger.output;
  EXPECT_EQ(server.config().tls.cert_file, files.client_cert.string());
  EXPECT_NE(server.url().find("&cert_file="), std::string::npos);
}

TEST(RedisServerTest, RestartKeepsThePortAndAnswers) {
  RedisServer server;
  const std::uint16_t port = server.port();
  const pid_t first = server.pid();
  ASSERT_EQ(server.cli({"SET", "k", "v"}), "OK");
  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(process_exists(first));
  EXPECT_EQ(connect_tcp(port)->err, REDIS_ERR_IO);  // refused

  server.restart();
  EXPECT_TRUE(server.running());
  EXPECT_EQ(server.port(), port);
  EXPECT_NE(server.pid(), first);
  const Context c = connect_tcp(port);
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_EQ(command(c.get(), {"GET", "k"}), "(nil)");  // persistence is off

  server.restart();  // while running: a crash and a restart
  EXPECT_EQ(server.cli({"PING"}), "PONG");
}

TEST(RedisServerTest, RestartKeepsTheUnixSocket) {
  RedisServer server(RedisServer::Options{.unix_socket = true});
  server.restart();
  const Context c = connect_unix(server.unix_socket_path());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
}

TEST(RedisServerTest, StopWithSigtermShutsDownCleanly) {
  RedisServer server;
  server.stop(SIGTERM);
  EXPECT_FALSE(server.running());
  EXPECT_NE(server.log().find("ready to exit"), std::string::npos) << server.log();
}

TEST(RedisServerTest, PauseMakesPingTimeOutAndResumeAnswersAgain) {
  RedisServer server;
  server.pause();
  server.pause();  // idempotent
  EXPECT_TRUE(server.paused());
  {
    const Context c = connect_tcp(server.port(), 150ms);  // the kernel still accepts
    ASSERT_TRUE(c && c->err == 0);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_FALSE(run(c.get(), {"PING"}));
    EXPECT_EQ(c->err, REDIS_ERR_IO);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  }
  server.resume();
  EXPECT_FALSE(server.paused());
  const Context c = connect_tcp(server.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
}

TEST(RedisServerTest, TwoServersRunSideBySideOnDifferentPorts) {
  RedisServer a;
  RedisServer b;
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  ASSERT_EQ(a.cli({"SET", "who", "a"}), "OK");
  ASSERT_EQ(b.cli({"SET", "who", "b"}), "OK");
  EXPECT_EQ(a.cli({"GET", "who"}), "a");
  EXPECT_EQ(b.cli({"GET", "who"}), "b");
}

TEST(RedisServerTest, DestructionEndsTheProcessAndRemovesTheDir) {
  std::filesystem::path dir;
  pid_t pid = -1;
  {
    RedisServer server;
    dir = server.dir();
    pid = server.pid();
    ASSERT_TRUE(process_exists(pid));
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(process_exists(pid));
  {
    RedisServer paused;  // a stopped process dies too
    dir = paused.dir();
    pid = paused.pid();
    paused.pause();
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(process_exists(pid));
}

TEST(RedisServerTest, ExtraLinesReachTheConfig) {
  RedisServer server(RedisServer::Options{.extra = {"maxmemory 12mb", "databases 4"}});
  EXPECT_EQ(server.cli({"CONFIG", "GET", "maxmemory"}), "maxmemory\n12582912");
  EXPECT_NE(server.cli({"SELECT", "4"}).find("out of range"), std::string::npos);
}

TEST(RedisServerTest, DebugCommandIsEnabled) {  // DEBUG PROTOCOL tests need it
  RedisServer server;
  EXPECT_EQ(server.cli({"DEBUG", "SLEEP", "0"}), "OK");
  EXPECT_EQ(server.cli({"DEBUG", "PROTOCOL", "integer"}), "12345");
}

TEST(RedisServerTest, FailsWithTheServerLogWhenItCannotStart) {
  try {
    RedisServer server(RedisServer::Options{.extra = {"no-such-directive 1"}});
    FAIL() << "a bad config started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-directive"), std::string::npos) << e.what();
  }
}

TEST(RedisServerTest, ConfigAndUrlReachThePlainServer) {
  RedisServer server;
  const redis::Config config = server.config();
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, server.port());
  EXPECT_TRUE(config.unix_socket.empty());
  EXPECT_FALSE(config.tls.enabled);
  EXPECT_EQ(server.url(), "redis://127.0.0.1:" + std::to_string(server.port()));
}

TEST(FakeServerTest, ScriptedReplyReachesAHiredisClient) {
  FakeServer fake(
      [](std::string_view in) { return FakeServer::reply_each(in, "$5\r\nhello\r\n"); });
  const Context c = connect_tcp(fake.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"GET", "k"}), "hello");
  EXPECT_EQ(command(c.get(), {"GET", "other"}), "hello");
  EXPECT_TRUE(fake.wait_for_received("other", 1s));
  EXPECT_EQ(fake.connections_accepted(), 1u);
  EXPECT_EQ(fake.config().port, fake.port());
}

TEST(FakeServerTest, GarbageIsAProtocolErrorForHiredis) {
  FakeServer fake([](std::string_view) { return std::string("?garbage\r\n"); });
  const Context c = connect_tcp(fake.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_FALSE(run(c.get(), {"GET", "k"}));
  EXPECT_EQ(c->err, REDIS_ERR_PROTOCOL);
}

TEST(FakeServerTest, CountsAcceptedConnectionsAcrossReconnects) {
  FakeServer fake([](std::string_view in) { return FakeServer::reply_each(in, "+PONG\r\n"); });
  for (int i = 0; i < 3; ++i) {
    const Context c = connect_tcp(fake.port());
    ASSERT_TRUE(c && c->err == 0);
    EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  }
  EXPECT_TRUE(fake.wait_for_connections(3, 1s));
  EXPECT_EQ(fake.connections_accepted(), 3u);
}

TEST(FakeServerTest, WritesTheGreetingOnAccept) {
  FakeServer fake(FakeServer::Options{.greeting = "-ERR go away\r\n", .close_on_accept = true});
  const Context c = connect_tcp(fake.port());
  ASSERT_TRUE(c && c->err == 0);
  void* raw = nullptr;
  ASSERT_EQ(redisGetReply(c.get(), &raw), REDIS_OK);
  const Reply greeting(static_cast<redisReply*>(raw));
  EXPECT_EQ(text(c.get(), greeting), "ERR go away");
  EXPECT_NE(command(c.get(), {"PING"}), "PONG");  // closed
}

TEST(FakeServerTest, ClosesAfterReplyWhenAsked) {
  FakeServer fake(FakeServer::Options{
      .handler = [](std::string_view in) { return FakeServer::reply_each(in, "+PONG\r\n"); },
      .close_after_reply = true});
  const Context c = connect_tcp(fake.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_NE(command(c.get(), {"PING"}), "PONG");
  EXPECT_TRUE(c->err == REDIS_ERR_EOF || c->err == REDIS_ERR_IO) << c->err;  // EOF or reset
}

TEST(FakeServerTest, NeverAnsweringMakesTheClientTimeOut) {
  FakeServer fake(FakeServer::Options{
      .handler = [](std::string_view) { return std::string("+PONG\r\n"); }, .never_answer = true});
  const Context c = connect_tcp(fake.port(), 100ms);
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_FALSE(run(c.get(), {"PING"}));
  EXPECT_EQ(c->err, REDIS_ERR_IO);
  EXPECT_TRUE(fake.wait_for_received("PING", 1s));
}

TEST(FakeServerTest, CloseAllDropsOpenConnections) {
  FakeServer fake([](std::string_view in) { return FakeServer::reply_each(in, "+PONG\r\n"); });
  const Context c = connect_tcp(fake.port());
  ASSERT_TRUE(c && c->err == 0);
  EXPECT_EQ(command(c.get(), {"PING"}), "PONG");
  EXPECT_EQ(fake.connections_open(), 1u);
  fake.close_all();
  EXPECT_EQ(fake.connections_open(), 0u);
  EXPECT_NE(command(c.get(), {"PING"}), "PONG");
}

TEST(FakeServerTest, ParseCommandsSplitsPipelinedCommandsAndIgnoresATail) {
  const auto commands = FakeServer::parse_commands(
      "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$3\r\na\0b\r\n*2\r\n$3\r\nGE"sv);
  ASSERT_EQ(commands.size(), 2u);
  EXPECT_EQ(commands[0], (std::vector<std::string>{"HELLO", "3"}));
  EXPECT_EQ(commands[1], (std::vector<std::string>{"GET", std::string("a\0b", 3)}));
  const std::string replies =
      FakeServer::reply_each("*1\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
  EXPECT_EQ(replies, FakeServer::hello_reply() + "+PONG\r\n");
}

}  // namespace
}  // namespace tiercache::test
