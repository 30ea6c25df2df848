// MCP's Streamable HTTP transport on a running daemon (L1 alone, no Redis needed): sessions
// (issued at initialize, required after, ended by DELETE, bounded), the Origin check, the
// MCP-Protocol-Version header, media types, GET, 202 for notifications, and the [mcp] config.

#include "server/config.hpp"
#include "server/mcp/http_transport.hpp"
#include "tests/server/mcp_client.hpp"
#include "tests/server/server_fixture.hpp"

#include <gtest/gtest.h>

namespace tiercache::test {
namespace {

namespace json = boost::json;

constexpr const char* kPing = R"({"jsonrpc": "2.0", "id": 7, "method": "ping"})";

json::value body_json(const HttpResponse& res) { return json::parse(res.body()); }

TEST(McpHttpTest, InitializeIssuesASessionIdThatLaterRequestsNeed) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  const auto init = mcp.initialize();
  EXPECT_EQ(init.at("result").at("protocolVersion"), json::value("2025-06-18"));
  ASSERT_EQ(mcp.session().size(), 32u);
  EXPECT_EQ(mcp.request("ping", {}).at("id"), json::value(1));

  const auto session = mcp.session();
  mcp.set_session("");
  auto res = mcp.post(kPing);
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_NE(res.body().find("Mcp-Session-Id"), std::string::npos);
  mcp.set_session("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(mcp.post(kPing).result(), http::status::not_found);
  mcp.set_session(session);
  EXPECT_EQ(mcp.post(kPing).result(), http::status::ok);
}

TEST(McpHttpTest, EachInitializeOpensItsOwnSession) {
  DaemonUnderTest d(test_config());
  McpHttpClient a(d.port()), b(d.port());
  a.initialize();
  b.initialize("2025-11-25");
  EXPECT_NE(a.session(), b.session());
  // A second initialize on an open session is refused by the lifecycle, not a new session.
  const auto again = a.post(
      R"({"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x"}}})");
  EXPECT_EQ(body_json(again).at("error").at("code"), json::value(-32600));
  EXPECT_TRUE(again["Mcp-Session-Id"].empty());
}

TEST(McpHttpTest, NotificationsAloneGet202WithoutBody) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize();
  const auto res = mcp.post(R"({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                "params": {"requestId": 1}})");
  EXPECT_EQ(res.result(), http::status::accepted);
  EXPECT_TRUE(res.body().empty());
}

TEST(McpHttpTest, DeleteEndsTheSession) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize();
  auto h = mcp.headers();
  EXPECT_EQ(mcp.http().request(http::verb::delete_, "/mcp", "", h).result(),
            http::status::no_content);
  EXPECT_EQ(mcp.post(kPing).result(), http::status::not_found);
  EXPECT_EQ(mcp.http().request(http::verb::delete_, "/mcp", "", h).result(),
            http::status::not_found);
  EXPECT_EQ(mcp.http().request(http::verb::delete_, "/mcp").result(), http::status::bad_request);
}

TEST(McpHttpTest, ForeignOriginIsRefusedAndLoopbackAllowed) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  const std::string init =
      R"({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x"}}})";
  for (const std::string origin : {"https://evil.example", "null", "http://localhost.evil.com",
                                   "http://127.0.0.1.evil.com", "http://10.0.0.1"}) {
    const auto res = mcp.post(init, {{"Origin", origin}});
    EXPECT_EQ(res.result(), http::status::forbidden) << origin;
    EXPECT_TRUE(res["Mcp-Session-Id"].empty());
  }
  EXPECT_EQ(d.daemon().mcp_server().tools().all().size(), 12u);  // 4 cache, 8 calendar tools
  for (const std::string origin :
       {"http://localhost:3000", "https://127.0.0.1", "http://[::1]:8080", "http://LOCALHOST"}) {
    EXPECT_EQ(mcp.post(init, {{"Origin", origin}}).result(), http::status::ok) << origin;
  }
}

TEST(McpHttpTest, ConfiguredOriginIsAllowed) {
  auto config = test_config();
  config.mcp.allowed_origins = {"https://app.example.com"};
  DaemonUnderTest d(config);
  McpHttpClient mcp(d.port());
  const std::string init =
      R"({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x"}}})";
  EXPECT_EQ(mcp.post(init, {{"Origin", "https://app.example.com"}}).result(), http::status::ok);
  EXPECT_EQ(mcp.post(init, {{"Origin", "https://app.example.com:444"}}).result(),
            http::status::forbidden);
}

TEST(McpHttpTest, ProtocolVersionHeaderIsChecked) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize("2025-06-18");
  EXPECT_EQ(mcp.post(kPing, {{"MCP-Protocol-Version", "1999-01-01"}}).result(),
            http::status::bad_request);
  EXPECT_EQ(mcp.post(kPing, {{"MCP-Protocol-Version", "2025-11-25"}}).result(),
            http::status::bad_request);  // supported, but not this session's
  EXPECT_EQ(mcp.post(kPing, {{"MCP-Protocol-Version", "2025-06-18"}}).result(), http::status::ok);
}

TEST(McpHttpTest, MediaTypesAreChecked) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize();
  EXPECT_EQ(mcp.post(kPing, {{"Content-Type", "text/plain"}}).result(),
            http::status::unsupported_media_type);
  EXPECT_EQ(mcp.post(kPing, {{"Accept", "text/html"}}).result(), http::status::not_acceptable);
  const auto sse = mcp.post(kPing, {{"Accept", "text/event-stream"}});
  EXPECT_EQ(sse.result(), http::status::ok);
  EXPECT_EQ(sse[http::field::content_type], "text/event-stream");
  EXPECT_EQ(sse.body().rfind("event: message\ndata: {", 0), 0u) << sse.body();
  EXPECT_NE(sse.body().find("\"id\":7"), std::string::npos);
}

TEST(McpHttpTest, GetOpensNoStream) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize();
  const auto res = mcp.http().request(http::verb::get, "/mcp", "", mcp.headers());
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST, DELETE");
}

TEST(McpHttpTest, ParseErrorsComeBackAsJsonRpc) {
  DaemonUnderTest d(test_config());
  McpHttpClient mcp(d.port());
  mcp.initialize();
  auto res = mcp.post("{nope");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res).at("error").at("code"), json::value(-32700));
  res = mcp.post(R"({"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage"})");
  EXPECT_EQ(body_json(res).at("error").at("code"), json::value(-32601));
  // Without a session, only initialize is heard.
  mcp.set_session("");
  EXPECT_EQ(mcp.post("{nope").result(), http::status::bad_request);
}

TEST(McpHttpTest, SessionsAreBounded) {
  auto config = test_config();
  config.mcp.max_sessions = 2;
  DaemonUnderTest d(config);
  McpHttpClient a(d.port()), b(d.port()), c(d.port());
  a.initialize();
  b.initialize();
  EXPECT_THROW(c.initialize(), std::runtime_error);
  auto h = a.headers();
  ASSERT_EQ(a.http().request(http::verb::delete_, "/mcp", "", h).result(),
            http::status::no_content);
  EXPECT_NO_THROW(c.initialize());
}

TEST(McpHttpTest, IdleSessionsExpire) {
  auto config = test_config();
  config.mcp.session_idle_timeout = std::chrono::milliseconds(1);
  DaemonUnderTest d(config);
  McpHttpClient mcp(d.port());
  mcp.initialize();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // past a 1 ms bound, not a race
  EXPECT_EQ(mcp.post(kPing).result(), http::status::not_found);
}

TEST(McpHttpTest, DisabledMcpIsNotFound) {
  auto config = test_config();
  config.mcp.enabled = false;
  DaemonUnderTest d(config);
  McpHttpClient mcp(d.port());
  EXPECT_THROW(mcp.initialize(), std::runtime_error);
  EXPECT_EQ(mcp.post(kPing).result(), http::status::not_found);
}

TEST(McpHttpTest, LoopbackOriginParsing) {
  using server::mcp::loopback_origin;
  EXPECT_TRUE(loopback_origin("http://localhost"));
  EXPECT_TRUE(loopback_origin("http://127.0.0.2:9"));
  EXPECT_TRUE(loopback_origin("https://[::1]"));
  EXPECT_FALSE(loopback_origin("http://localhost/path"));
  EXPECT_FALSE(loopback_origin("http://localhost:"));
  EXPECT_FALSE(loopback_origin("ftp://localhost"));
  EXPECT_FALSE(loopback_origin("http://[::2]"));
  EXPECT_FALSE(loopback_origin("http://192.168.1.1"));
}

TEST(McpHttpTest, McpTableIsReadAndCheckedInTheConfig) {
  const auto c = server::load_config(R"([mcp]
enabled = false
allowed_origins = ["https://app.example.com"]
max_sessions = 5
session_idle_timeout = "10m"
)",
                                     "t.toml");
  EXPECT_FALSE(c.mcp.enabled);
  EXPECT_EQ(c.mcp.allowed_origins, std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(c.mcp.max_sessions, 5u);
  EXPECT_EQ(c.mcp.session_idle_timeout, std::chrono::minutes(10));
  EXPECT_THROW(server::load_config("[mcp]\nallowed_origins = [\"app.example.com\"]\n", "t.toml"),
               server::ConfigError);
  EXPECT_THROW(server::load_config("[mcp]\nallowed_origins = [\"https://a.com/x\"]\n", "t.toml"),
               server::ConfigError);
  EXPECT_THROW(server::load_config("[mcp]\nmax_sesions = 5\n", "t.toml"), server::ConfigError);
}

}  // namespace
}  // namespace tiercache::test
