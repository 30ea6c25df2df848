#pragma once
// Every tool tiercached's MCP server offers, and the server built on them: the one place that
// lists the tool families (cache_tools.hpp, calendar_tools.hpp), so stdio and
// Streamable HTTP offer the same tools.
// Use: auto server = make_mcp_server(services);
// Thread-safety: call before serving; `services` must outlive the server.

#include "server/mcp/server.hpp"
#include "server/services.hpp"

#include <memory>

namespace tiercache::server::mcp {

ToolRegistry make_tool_registry(Services& services);
std::unique_ptr<McpServer> make_mcp_server(Services& services);

}  // namespace tiercache::server::mcp
