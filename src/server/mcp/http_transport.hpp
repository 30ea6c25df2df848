#pragma once
// HttpTransport: MCP's Streamable HTTP transport at /mcp (basic/transports, 2025-06-18 and
// 2025-11-25). POST carries one JSON-RPC payload and is answered with application/json, or
// with a one-event text/event-stream when the client accepts only that; a payload of
// notifications alone gets 202. GET is 405 (this server sends no unsolicited messages), DELETE
// ends a session. initialize opens a session (Mcp-Session-Id, 128 random bits); every later
// request must carry it (400 without, 404 when unknown or expired). An Origin header that is
// neither loopback nor listed gets 403 (DNS rebinding), and a MCP-Protocol-Version header that
// is unsupported or differs from the session's gets 400.
// Use: HttpTransport mcp(server, {}); ... co_return co_await mcp.handle(std::move(req));
// Thread-safety: safe from any thread; the McpServer must outlive it.

#include "server/http_types.hpp"
#include "server/mcp/server.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tiercache::server::mcp {

struct HttpOptions {
  // Origins allowed besides loopback ones, exactly as browsers send them
  // ("https://app.example.com"). Default: none.
  std::vector<std::string> allowed_origins{};
  // Open sessions; initialize past it gets 503 until one ends or expires. Default: 1000.
  std::size_t max_sessions = 1000;
  // A session unused this long is gone (404: the client initializes again). Default: 30 min.
  std::chrono::milliseconds session_idle_timeout = std::chrono::minutes(30);
};

// Whether an Origin is a loopback one: http(s)://localhost, 127.0.0.0/8 or [::1], any port.
bool loopback_origin(std::string_view origin);

class HttpTransport {
 public:
  HttpTransport(const McpServer& server, HttpOptions options);

  // Answers one request to /mcp. Never throws for bad input.
  [[nodiscard]] asio::awaitable<Response> handle(Request req);

  // Open sessions (expired ones included until swept).
  std::size_t sessions() const;

 private:
  struct Entry {
    std::shared_ptr<SessionState> state;
    std::chrono::steady_clock::time_point last_used;
  };

  asio::awaitable<Response> post(Request req);
  Response end_session(const Request& req);
  // The session named by the request's Mcp-Session-Id, touched; null when unknown or expired.
  std::shared_ptr<SessionState> find_session(std::string_view id);
  // A new session's id, or empty when the table is full of live sessions.
  std::string open_session(std::shared_ptr<SessionState> state);
  bool origin_allowed(std::string_view origin) const;

  const McpServer& server_;
  const HttpOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;  // guarded by mu_
};

}  // namespace tiercache::server::mcp
