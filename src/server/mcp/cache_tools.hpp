#pragma once
// The generic cache tools: cache_get, cache_set, cache_invalidate and cache_stats, over the
// daemon's namespaces with the REST API's semantics (docs/openapi.json): a namespace must be
// configured (or unlisted ones allowed), keys, tags, TTLs and priorities are read by the same
// checks, and a refused argument stores nothing.
// Use: ToolRegistry tools; add_cache_tools(tools, services);
// Thread-safety: the handlers are safe from any thread; `services` must outlive the registry.

#include "server/mcp/tool.hpp"
#include "server/services.hpp"

namespace tiercache::server::mcp {

void add_cache_tools(ToolRegistry& tools, Services& services);

}  // namespace tiercache::server::mcp
