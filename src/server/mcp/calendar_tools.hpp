#pragma once
// The calendar tools: calendar_store_events, calendar_get_events, calendar_top_events,
// calendar_invalidate, calendar_history, calendar_daily_summary, calendar_stats and
// calendar_warm, over the daemon's CalendarCache (docs/decisions/0014-calendar-cache.md). The
// calendar needs Redis: without it (or with [calendar] enabled = false) every tool answers a
// tool error saying so. Dates are "YYYY-MM-DD" (UTC days), instants ISO-8601.
// Use: ToolRegistry tools; add_calendar_tools(tools, services);
// Thread-safety: the handlers are safe from any thread; `services` must outlive the registry.

#include "server/mcp/tool.hpp"
#include "server/services.hpp"

namespace tiercache::server::mcp {

void add_calendar_tools(ToolRegistry& tools, Services& services);

}  // namespace tiercache::server::mcp
