#pragma once
// Services: what the REST handlers work with, owned by the Daemon and alive until its threads
// have stopped: the config, the namespaces, the proxy, the metrics registry, the control Redis
// client (readiness pings, rate limits) and the mode the daemon runs in.
// Thread-safety: the members are themselves safe from any thread; fields are set before start.

#include "tiercache/metrics/registry.hpp"
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/redis/any_client.hpp"

#include "server/config.hpp"
#include "server/namespaces.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace tiercache::server {

namespace proxy {
class Proxy;
}
namespace mcp {
class HttpTransport;
}
namespace dashboard {
class History;
}
}  // namespace tiercache::server
namespace tiercache::health {
class HealthMonitor;
}
namespace tiercache::calendar {
class CalendarCache;
}
namespace tiercache::server {

// Where L2 stands: configured and reached at start, configured but unreachable at start (the
// daemon then runs on L1 alone), or not configured (L1 alone by design).
enum class RedisMode { connected, unreachable, not_configured };

struct Services {
  const Config* config = nullptr;
  metrics::Registry* registry = nullptr;
  Namespaces* namespaces = nullptr;
  // The caching reverse proxy; null when no route is configured (or once shutdown began).
  proxy::Proxy* proxy = nullptr;
  // The MCP server's Streamable HTTP transport at /mcp; null when [mcp] enabled = false.
  mcp::HttpTransport* mcp = nullptr;
  // GET /v1/health's probe (its own Redis client); null in L1-only mode.
  health::HealthMonitor* health = nullptr;
  // The calendar cache of the MCP calendar tools (its own Redis client); null in L1-only mode,
  // when [calendar] enabled = false, and once shutdown began.
  calendar::CalendarCache* calendar = nullptr;
  // Null in L1-only mode.
  std::shared_ptr<redis::AnyClient> control{};
  RedisMode redis_mode = RedisMode::not_configured;
  // One per [ratelimits.<name>]; empty in L1-only mode.
  std::map<std::string, ratelimit::Limiter, std::less<>> limiters{};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // The dashboard's sampler and slow-operation log (server/dashboard/history.hpp); null in
  // `tiercached mcp` (no HTTP) and once the daemon has stopped.
  std::shared_ptr<dashboard::History> dashboard{};
  // Set when shutdown begins: /readyz answers 503 from then on.
  std::atomic<bool> draining{false};

  bool l1_only() const noexcept { return redis_mode != RedisMode::connected; }
};

}  // namespace tiercache::server
