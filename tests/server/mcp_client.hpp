#pragma once
// A bare MCP client over Streamable HTTP for the server tests: posts JSON-RPC to /mcp with the
// headers a conforming client sends, keeps the session id from initialize.
// Use: McpHttpClient mcp(port); mcp.initialize(); auto r = mcp.call_tool("cache_get", args);
// Thread-safety: not thread-safe; one per test thread.

#include "tests/server/http_client.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <map>
#include <stdexcept>
#include <string>

namespace tiercache::test {

class McpHttpClient {
 public:
  explicit McpHttpClient(std::uint16_t port) : http_(port) {}

  // The headers of every POST: JSON in, JSON or SSE accepted, the session and its version.
  std::map<std::string, std::string> headers() const {
    std::map<std::string, std::string> h{{"Content-Type", "application/json"},
                                         {"Accept", "application/json, text/event-stream"}};
    if (!session_.empty()) h["Mcp-Session-Id"] = session_;
    if (!version_.empty()) h["MCP-Protocol-Version"] = version_;
    return h;
  }
  HttpResponse post(const std::string& body, std::map<std::string, std::string> extra = {}) {
    auto h = headers();
    for (auto& [k, v] : extra) h[k] = v;
    return http_.request(http::verb::post, "/mcp", body, h);
  }
  // Opens a session: initialize, then notifications/initialized. Returns the initialize reply.
  boost::json::value initialize(const std::string& version = "2025-06-18") {
    const auto res = post(R"({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": ")" +
                          version + R"(", "capabilities": {},
        "clientInfo": {"name": "gtest", "version": "1"}}})");
    if (res.result() != http::status::ok) throw std::runtime_error("initialize: " + res.body());
    session_ = std::string(res["Mcp-Session-Id"]);
    auto reply = boost::json::parse(res.body());
    version_ = std::string(reply.at("result").at("protocolVersion").as_string());
    post(R"({"jsonrpc": "2.0", "method": "notifications/initialized"})");
    return reply;
  }
  // The JSON-RPC reply to one request.
  boost::json::value request(const std::string& method, const boost::json::object& params) {
    boost::json::object msg{
        {"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}};
    const auto res = post(boost::json::serialize(msg));
    return boost::json::parse(res.body());
  }
  // The result of tools/call (content, structuredContent, isError).
  boost::json::object call_tool(const std::string& name, const boost::json::object& arguments) {
    auto r = request("tools/call", {{"name", name}, {"arguments", arguments}});
    return r.at("result").as_object();
  }
  static std::string text_of(const boost::json::object& result) {
    return std::string(result.at("content").at(0).at("text").as_string());
  }

  const std::string& session() const { return session_; }
  void set_session(std::string id) { session_ = std::move(id); }
  HttpClient& http() { return http_; }

 private:
  HttpClient http_;
  std::string session_;
  std::string version_;
  std::int64_t id_ = 0;
};

}  // namespace tiercache::test
