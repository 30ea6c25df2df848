// The MCP protocol core without a transport: JSON-RPC parse errors and shapes, batches per
// protocol version, unknown methods, the lifecycle's order, version negotiation, and tools/call
// argument checks and results, over a registry of test tools.

#include "server/mcp/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <stdexcept>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;

asio::awaitable<ToolResult> echo(json::object args) {
  co_return ToolResult::ok({{"said", args.at("text")}});
}

asio::awaitable<ToolResult> fail(json::object) { co_return ToolResult::error("it broke: retry"); }

asio::awaitable<ToolResult> throws(json::object) {
  throw std::runtime_error("boom");
  co_return ToolResult{};
}

ToolRegistry test_tools() {
  ToolRegistry tools;
  tools.add(Tool{
      .name = "echo",
      .title = "Echo",
      .description = "Says text back.",
      .input_schema = json::parse(R"({"type": "object", "properties": {
                     "text": {"type": "string", "minLength": 1, "maxLength": 8},
                     "times": {"type": "integer", "minimum": 1, "maximum": 3},
                     "mode": {"type": "string", "enum": ["loud", "soft"]},
                     "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}},
                     "required": ["text"], "additionalProperties": false})")
                          .as_object(),
      .output_schema = json::parse(R"({"type": "object"})").as_object(),
      .handler = [](json::object a, std::shared_ptr<CallContext>) { return echo(std::move(a)); }});
  tools.add(Tool{
      .name = "fail",
      .description = "Fails.",
      .input_schema = json::object{{"type", "object"}},
      .handler = [](json::object a, std::shared_ptr<CallContext>) { return fail(std::move(a)); }});
  tools.add(Tool{.name = "throws",
                 .description = "Throws.",
                 .input_schema = json::object{{"type", "object"}},
                 .handler = [](json::object a, std::shared_ptr<CallContext>) {
                   return throws(std::move(a));
                 }});
  return tools;
}

class McpProtocolTest : public ::testing::Test {
 protected:
  McpProtocolTest() : server_(test_tools(), ServerOptions{.max_message_bytes = 4096}) {}

  // The reply to one payload (null when none is owed).
  json::value send(const std::string& payload) {
    auto f = asio::co_spawn(io_, server_.handle(session_, payload), asio::use_future);
    io_.restart();
    io_.run();
    const Outcome out = f.get();
    return out.reply.empty() ? json::value() : json::parse(out.reply);
  }
  json::value call(const std::string& method, const std::string& params = "{}", int id = 1) {
    return send(R"({"jsonrpc": "2.0", "id": )" + std::to_string(id) + R"(, "method": ")" + method +
                R"(", "params": )" + params + "}");
  }
  json::value initialize(const std::string& version = "2025-06-18") {
    return call("initialize",
                R"({"protocolVersion": ")" + version +
                    R"(", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})");
  }
  static std::int64_t code(const json::value& reply) {
    return reply.at("error").at("code").to_number<std::int64_t>();
  }
  json::value tool(const std::string& name, const std::string& args) {
    return call("tools/call", R"({"name": ")" + name + R"(", "arguments": )" + args + "}")
        .at("result");
  }

  asio::io_context io_;
  McpServer server_;
  std::shared_ptr<SessionState> session_ = std::make_shared<SessionState>();
};

TEST_F(McpProtocolTest, NotJsonIsAParseErrorWithNullId) {
  const auto r = send("{\"jsonrpc\": \"2.0\", \"id\": 1, ");
  EXPECT_EQ(code(r), -32700);
  EXPECT_TRUE(r.at("id").is_null());
}

TEST_F(McpProtocolTest, MalformedMessagesAreInvalidRequests) {
  EXPECT_EQ(code(send("42")), -32600);
  EXPECT_EQ(code(send(R"({"id": 1, "method": "ping"})")), -32600);                    // no jsonrpc
  EXPECT_EQ(code(send(R"({"jsonrpc": "1.0", "id": 1, "method": "ping"})")), -32600);  // version
  EXPECT_EQ(code(send(R"({"jsonrpc": "2.0", "id": null, "method": "ping"})")), -32600);
  EXPECT_EQ(code(send(R"({"jsonrpc": "2.0", "id": 1.5, "method": "ping"})")), -32600);
  EXPECT_EQ(code(send(R"({"jsonrpc": "2.0", "id": 1, "method": 7})")), -32600);
  const auto r = send(R"({"jsonrpc": "2.0", "id": "a", "method": "ping", "params": [1]})");
  EXPECT_EQ(code(r), -32602);
  EXPECT_EQ(r.at("id"), json::value("a"));  // a usable id comes back
}

TEST_F(McpProtocolTest, OversizedMessageIsRefusedUnparsed) {
  const auto r = send(R"({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": ")" +
                      std::string(5000, 'a') + "\"}}");
  EXPECT_EQ(code(r), -32600);
  EXPECT_NE(r.at("error").at("message").as_string().find("4096"), json::string::npos);
}

TEST_F(McpProtocolTest, PingIsAnsweredBeforeInitialize) {
  const auto r = call("ping");
  EXPECT_TRUE(r.at("result").as_object().empty());
  EXPECT_EQ(r.at("id"), json::value(1));
}

TEST_F(McpProtocolTest, ToolsBeforeInitializeAreRefused) {
  EXPECT_EQ(code(call("tools/list")), -32600);
  EXPECT_EQ(session_->phase(), SessionState::Phase::new_);
}

TEST_F(McpProtocolTest, InitializeNegotiatesASupportedVersion) {
  for (const std::string v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    session_ = std::make_shared<SessionState>();
    const auto r = initialize(v);
    EXPECT_EQ(r.at("result").at("protocolVersion"), json::value(v));
    EXPECT_EQ(session_->version(), v);
    EXPECT_TRUE(r.at("result").at("capabilities").at("tools").is_object());
    EXPECT_EQ(r.at("result").at("serverInfo").at("name"), json::value("tiercached"));
  }
}

TEST_F(McpProtocolTest, UnknownVersionGetsTheNewest) {
  const auto r = initialize("2024-01-01");
  EXPECT_EQ(r.at("result").at("protocolVersion"), json::value(kProtocolVersions.front()));
}

TEST_F(McpProtocolTest, InitializeWithoutItsParamsIsInvalidParams) {
  EXPECT_EQ(code(call("initialize", R"({"capabilities": {}})")), -32602);
  EXPECT_EQ(code(call("initialize", R"({"protocolVersion": "2025-06-18", "capabilities": {}})")),
            -32602);
  EXPECT_EQ(session_->phase(), SessionState::Phase::new_);
}

TEST_F(McpProtocolTest, SecondInitializeIsRefused) {
  initialize();
  EXPECT_EQ(code(initialize("2025-03-26")), -32600);
  EXPECT_EQ(session_->version(), "2025-06-18");
}

TEST_F(McpProtocolTest, InitializedNotificationMakesTheSessionReadyAndGetsNoReply) {
  initialize();
  EXPECT_EQ(session_->phase(), SessionState::Phase::initialized);
  EXPECT_TRUE(send(R"({"jsonrpc": "2.0", "method": "notifications/initialized"})").is_null());
  EXPECT_EQ(session_->phase(), SessionState::Phase::ready);
  EXPECT_TRUE(send(R"({"jsonrpc": "2.0", "method": "notifications/whatever"})").is_null());
}

TEST_F(McpProtocolTest, UnknownMethodIsMethodNotFound) {
  initialize();
  const auto r = call("resources/list", "{}", 9);
  EXPECT_EQ(code(r), -32601);
  EXPECT_EQ(r.at("id"), json::value(9));
}

TEST_F(McpProtocolTest, BatchesOnlyUnder20250326) {
  const std::string batch =
      R"([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}])";
  EXPECT_EQ(code(send(batch)), -32600);  // before initialize
  initialize("2025-06-18");
  EXPECT_EQ(code(send(batch)), -32600);

  session_ = std::make_shared<SessionState>();
  initialize("2025-03-26");
  const auto r = send(batch);
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.as_array().size(), 2u);
  EXPECT_EQ(r.as_array()[1].at("id"), json::value(2));
  // Each element stands alone: a bad one is its own error, notifications get no entry.
  const auto mixed = send(
      R"([{"jsonrpc": "2.0", "id": 3, "method": "ping"}, 5, {"jsonrpc": "2.0", "method": "notifications/x"}])");
  ASSERT_EQ(mixed.as_array().size(), 2u);
  EXPECT_EQ(code(mixed.as_array()[1]), -32600);
  EXPECT_EQ(code(send("[]")), -32600);
}

TEST_F(McpProtocolTest, ToolsListCarriesSchemasPerVersion) {
  initialize("2025-06-18");
  auto tools = call("tools/list").at("result").at("tools").as_array();
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0].at("name"), json::value("echo"));
  EXPECT_TRUE(tools[0].at("inputSchema").is_object());
  EXPECT_TRUE(tools[0].at("outputSchema").is_object());
  EXPECT_EQ(tools[0].at("title"), json::value("Echo"));
  EXPECT_EQ(code(call("tools/list", R"({"cursor": "x"})")), -32602);

  session_ = std::make_shared<SessionState>();
  initialize("2025-03-26");
  tools = call("tools/list").at("result").at("tools").as_array();
  EXPECT_FALSE(tools[0].as_object().contains("outputSchema"));
}

TEST_F(McpProtocolTest, ToolCallReturnsStructuredAndTextContent) {
  initialize();
  const auto r = tool("echo", R"({"text": "hi"})");
  EXPECT_EQ(r.at("isError"), json::value(false));
  EXPECT_EQ(r.at("structuredContent").at("said"), json::value("hi"));
  EXPECT_EQ(r.at("content").at(0).at("type"), json::value("text"));
  EXPECT_EQ(json::parse(r.at("content").at(0).at("text").as_string()), r.at("structuredContent"));
}

TEST_F(McpProtocolTest, BadArgumentsAreToolErrorsThatSayWhatIsExpected) {
  initialize();
  const auto text = [&](const std::string& args) {
    const auto r = tool("echo", args);
    EXPECT_EQ(r.at("isError"), json::value(true)) << args;
    EXPECT_FALSE(r.as_object().contains("structuredContent"));
    return std::string(r.at("content").at(0).at("text").as_string());
  };
  EXPECT_NE(text("{}").find("missing required argument 'text'"), std::string::npos);
  EXPECT_NE(text(R"({"text": 3})").find("text must be a string, not integer"), std::string::npos);
  EXPECT_NE(text(R"({"text": ""})").find("at least 1"), std::string::npos);
  EXPECT_NE(text(R"({"text": "123456789"})").find("at most 8"), std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "times": 4})").find("times must be <= 3"), std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "times": 1.5})").find("integer"), std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "mode": "x"})").find(R"(["loud","soft"])"), std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "tags": [1]})").find("tags[0] must be a string"),
            std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "tags": ["a", "b", "c"]})").find("at most 2"), std::string::npos);
  EXPECT_NE(text(R"({"text": "a", "color": 1})").find("unknown argument 'color'"),
            std::string::npos);
}

TEST_F(McpProtocolTest, ToolFailuresAreErrorResultsNotProtocolErrors) {
  initialize();
  auto r = tool("fail", "{}");
  EXPECT_EQ(r.at("isError"), json::value(true));
  EXPECT_EQ(r.at("content").at(0).at("text"), json::value("it broke: retry"));
  r = tool("throws", "{}");
  EXPECT_EQ(r.at("isError"), json::value(true));
  EXPECT_NE(r.at("content").at(0).at("text").as_string().find("internal error"),
            json::string::npos);
}

TEST_F(McpProtocolTest, ToolCallProtocolFaultsAreInvalidParams) {
  initialize();
  EXPECT_EQ(code(call("tools/call", R"({"arguments": {}})")), -32602);
  const auto unknown = call("tools/call", R"({"name": "nope"})");
  EXPECT_EQ(code(unknown), -32602);
  EXPECT_NE(unknown.at("error").at("message").as_string().find("echo"), json::string::npos);
  EXPECT_EQ(code(call("tools/call", R"({"name": "echo", "arguments": [1]})")), -32602);
}

TEST_F(McpProtocolTest, ClientResponsesAreAcceptedSilently) {
  EXPECT_TRUE(send(R"({"jsonrpc": "2.0", "id": 5, "result": {}})").is_null());
}

}  // namespace
}  // namespace tiercache::server::mcp
