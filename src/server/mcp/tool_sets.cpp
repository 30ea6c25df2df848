#include "server/mcp/tool_sets.hpp"

#include "server/mcp/cache_tools.hpp"
#include "server/mcp/calendar_tools.hpp"

#ifndef TIERCACHE_VERSION
#define TIERCACHE_VERSION "0.0.0"
#endif

namespace tiercache::server::mcp {

ToolRegistry make_tool_registry(Services& services) {
  ToolRegistry tools;
  add_cache_tools(tools, services);
  add_calendar_tools(tools, services);
  return tools;
}

std::unique_ptr<McpServer> make_mcp_server(Services& services) {
  ServerOptions options{
      .name = "tiercached",
      .version = TIERCACHE_VERSION,
      .instructions =
          "tiercached is a two-tier cache (in-process L1 + Redis L2). Values live in named "
          "namespaces; call cache_stats first to see which namespaces exist. cache_get reads a "
          "key (a miss is not an error), cache_set writes one with an optional ttl such as "
          "\"10m\" and tags, cache_invalidate drops keys, tags, a glob pattern or a whole "
          "namespace. For events, call calendar_get_events first; on a miss, fetch the "
          "missing_days "
          "from your events source and store them with calendar_store_events."};
  return std::make_unique<McpServer>(make_tool_registry(services), std::move(options));
}

}  // namespace tiercache::server::mcp
