#pragma once
// McpServer: the MCP protocol above JSON-RPC and below the transports: the lifecycle
// (initialize with version negotiation, notifications/initialized, ping), tools/list and
// tools/call over a ToolRegistry, progress (notifications/progress for a request that carries a
// progressToken) and cancellation (notifications/cancelled stops a running tools/call, which
// then owes no reply). One SessionState per client: stdio has one, Streamable HTTP one per
// Mcp-Session-Id. The transports only move payloads.
// Use: McpServer server(std::move(tools), {}); auto session = std::make_shared<SessionState>();
//      auto out = co_await server.handle(session, line, send);  // out.reply: serialized, or empty
// Thread-safety: handle() is safe from any thread, concurrently on one session too; the registry
// and options are read-only once constructed.

#include "server/mcp/json_rpc.hpp"
#include "server/mcp/tool.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tiercache::server::mcp {

// The protocol revisions spoken, newest first. A client asking for another gets the newest.
inline constexpr std::array<std::string_view, 3> kProtocolVersions = {"2025-11-25", "2025-06-18",
                                                                      "2025-03-26"};
bool supported_version(std::string_view version) noexcept;

struct ServerOptions {
  std::string name = "tiercached";
  std::string version = "0.0.0";
  // Told to the client at initialize (InitializeResult.instructions), for the model.
  std::string instructions{};
  // A payload larger than this is refused (-32600) before it is parsed. Default: 4 MiB.
  std::size_t max_message_bytes = std::size_t{4} << 20;
  // Messages in one batch (protocol 2025-03-26 only). Default: 64.
  std::size_t max_batch = 64;
};

// One client's place in the lifecycle.
class SessionState {
 public:
  enum class Phase { new_, initialized, ready };  // ready: notifications/initialized came

  Phase phase() const;
  // The negotiated protocol version; empty before initialize.
  std::string version() const;

 private:
  friend class McpServer;
  mutable std::mutex mu_;
  Phase phase_ = Phase::new_;  // guarded by mu_
  std::string version_{};      // guarded by mu_
  // The tools/call requests running now, by their id serialized (notifications/cancelled finds
  // them here). Guarded by mu_.
  std::map<std::string, std::shared_ptr<CallContext>> running_{};
};

struct Outcome {
  // The reply to send, serialized (an object, or an array for a batch); empty when nothing is
  // owed (only notifications and responses came, or the request was cancelled).
  std::string reply{};
  // Whether the payload held at least one request.
  bool had_requests = false;
};

class McpServer {
 public:
  McpServer(ToolRegistry tools, ServerOptions options);

  // Answers one payload for `session`. Never throws for bad input: JSON-RPC errors for protocol
  // faults, error results for tools that fail. `send` carries the notifications a running tool
  // sends before its reply (progress); none are sent without it. It may be called from any
  // thread running the tool, until handle() completes.
  [[nodiscard]] asio::awaitable<Outcome> handle(std::shared_ptr<SessionState> session,
                                                std::string payload,
                                                CallContext::Sender send = {}) const;

  const ToolRegistry& tools() const noexcept { return tools_; }
  const ServerOptions& options() const noexcept { return options_; }

 private:
  // The serialized reply to one request; empty when none is owed (it was cancelled).
  asio::awaitable<std::string> answer(std::shared_ptr<SessionState> session, Message message,
                                      CallContext::Sender send) const;
  boost::json::value initialize(SessionState& session, const Message& m) const;
  boost::json::value list_tools(const SessionState& session, const Message& m) const;
  asio::awaitable<std::string> call_tool(std::shared_ptr<SessionState> session, Message m,
                                         CallContext::Sender send) const;
  void notify(SessionState& session, const Message& m) const;

  ToolRegistry tools_;
  ServerOptions options_;
};

}  // namespace tiercache::server::mcp
