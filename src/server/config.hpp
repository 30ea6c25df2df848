#pragma once
// Config: everything tiercached is told at start, from a TOML file (deploy/tiercached.toml
// explains every key), then the environment (REDIS_URL, REDIS_HOST/PORT/DB/PASSWORD,
// TIERCACHE_*), then flags, each overriding the one before. Validated whole before the daemon
// starts; a bad value throws ConfigError naming the field and, from a file, its line.
// Use: Config c = load_config_file("tiercached.toml"); apply_environment(c); c.listen = ...;
// Thread-safety: plain values; apply_environment reads the environment (do not setenv meanwhile).

#include "tiercache/redis/cluster_client.hpp"
#include "tiercache/redis/config.hpp"

#include "server/proxy/route_config.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::server {

using namespace std::chrono_literals;

// A bad configuration: what is wrong, where. what() is "<source>:<line>:<column>: <field>: <why>"
// (without the position when the value came from the environment or a flag).
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string field, std::string source, std::uint32_t line, std::uint32_t column,
              std::string why);
  const std::string& field() const noexcept { return field_; }
  std::uint32_t line() const noexcept { return line_; }  // 0 when not from a file

 private:
  std::string field_;
  std::uint32_t line_;
};

// How one cache namespace behaves (a `[namespaces.<name>]` table, or `[cache.defaults]`).
struct NamespaceConfig {
  std::string name{};
  // A value written without a TTL is fresh this long. Default: 5 min.
  std::chrono::milliseconds default_ttl = 5min;
  // Served stale this long after (stale-while-revalidate, fail-safe). Default: 1 min.
  std::chrono::milliseconds grace = 1min;
  // A TTL above this is refused with 400 invalid_ttl. Default: 7 days.
  std::chrono::milliseconds max_ttl = std::chrono::hours(24 * 7);
  // The namespace's L1 bytes; 0 turns L1 off. Default: 64 MiB.
  std::size_t l1_bytes = std::size_t{64} << 20;
  // Values above this are refused with 413. Default: 8 MiB.
  std::size_t max_value_size = std::size_t{8} << 20;
};

// A `[ratelimits.<name>]` table: POST /v1/ratelimit/<name>.
struct RateLimitConfig {
  std::string name{};
  std::uint32_t limit = 100;
  std::chrono::milliseconds window = 1s;
  std::uint32_t burst = 0;
  std::string algorithm = "sliding_log";  // sliding_log | sliding_window | token_bucket
  // Most decisions one script call carries (ratelimit::Policy::max_batch); 1: no batching.
  std::uint32_t max_batch = 64;
  // Most script calls in flight at once (ratelimit::Policy::max_in_flight).
  std::uint32_t max_in_flight = 2;
};

struct Limits {
  // Request line plus headers. Default: 16 KiB. Larger requests get 431.
  std::size_t max_header_bytes = 16 << 10;
  // Request bodies. Default: 8 MiB. Larger ones get 413 before they are read.
  std::size_t max_body_bytes = std::size_t{8} << 20;
  // From the first byte of a request to its last. Default: 30 s.
  std::chrono::milliseconds read_timeout = 30s;
  // A keep-alive connection idle this long is closed. Default: 60 s.
  std::chrono::milliseconds idle_timeout = 60s;
  // Writing one response. Default: 30 s.
  std::chrono::milliseconds write_timeout = 30s;
  // Open connections; more are answered 503 and closed. Default: 10000.
  std::size_t max_connections = 10'000;
  // On shutdown, in-flight requests get this long to finish. Default: 10 s.
  std::chrono::milliseconds drain_timeout = 10s;
};

// The MCP server (`[mcp]`): Streamable HTTP at /mcp and the `tiercached mcp` stdio mode.
struct McpConfig {
  // Serve /mcp over HTTP. Default: true (the daemon binds loopback unless told otherwise).
  bool enabled = true;
  // Origins allowed besides loopback ones, as browsers send them ("https://app.example.com").
  // Default: none. Requests with any other Origin header get 403.
  std::vector<std::string> allowed_origins{};
  // Open HTTP sessions; more initialize requests get 503. Default: 1000.
  std::size_t max_sessions = 1000;
  // A session unused this long expires (the client initializes again). Default: 30 min.
  std::chrono::milliseconds session_idle_timeout = 30min;
};

// The calendar cache behind the MCP calendar tools (`[calendar]`); it needs Redis.
struct CalendarConfig {
  // Create it when Redis is reachable. Default: true.
  bool enabled = true;
  // Its Redis keys start with "<prefix>:": 1-64 printable ASCII, no spaces or glob characters.
  // Default: "calendar".
  std::string prefix = "calendar";
  // How long stored events are served when a store names no TTL (at most 30 days).
  // Default: 24 h.
  std::chrono::milliseconds default_ttl = 24h;
  // How often expired entries are dropped from the calendar's indexes. Default: 1 min.
  std::chrono::milliseconds cleanup_interval = 1min;
  // The [proxy.routes.<name>] calendar_warm loads events through, as
  // GET <prefix>?location=L&date=YYYY-MM-DD answering {"events": [...]}; empty: no warming.
  // Default: none.
  std::string warm_route{};
};

// The circuit breaker and in-flight bound in front of each Redis client of the daemon that
// serves traffic (`[redis.breaker]`): each namespace's, the rate limiters', the calendar's.
// While a breaker is open its requests fail at once (reads fall back to L1, writes get 503)
// instead of waiting out request_timeout. Why these defaults: docs/decisions/0017.
struct BreakerConfig {
  // Guard the clients at all; false: plain clients, every request waits for Redis. Default: true.
  bool enabled = true;
  // The sliding window over which the failure rate is taken (in 10 buckets). Default: 10 s.
  std::chrono::milliseconds window = 10s;
  // Requests the window must hold before the failure rate can open the breaker. Default: 20.
  std::uint32_t minimum_calls = 20;
  // Opens when failed / all requests in the window reaches this (0 < rate <= 1). Default: 0.5.
  double failure_rate = 0.5;
  // Opens after this many timeouts in a row (a stalled Redis); 0: off. Default: 5.
  std::uint32_t consecutive_timeouts = 5;
  // The first cool-down before probes are let through; doubles on each failed probe round, up
  // to max_open_duration. Default: 5 s, at most 30 s.
  std::chrono::milliseconds open_duration = 5s;
  std::chrono::milliseconds max_open_duration = 30s;
  // Probes let through half-open; all must succeed to close. Default: 3.
  std::uint32_t half_open_probes = 3;
  // Requests in flight per client at most; more fail at once (503). Default: 4096.
  std::size_t max_in_flight = 4096;
};

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  // Threads running the one io_context; 0: one per core.
  std::size_t threads = 0;
  // Bearer token of /v1/admin/*; empty: the admin API does not exist (404).
  std::string admin_token{};
  // "stdout", "stderr", "off" or a file path.
  std::string access_log = "stdout";
  // spdlog level name: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // Requests at least this long are kept in the dashboard's slow-request log; 0: every request.
  // Default: 100 ms.
  std::chrono::milliseconds slow_request = std::chrono::milliseconds(100);
  Limits limits{};
  // Redis; nullopt: the daemon runs on L1 alone (embedded mode). For a Redis Cluster, the
  // settings of every node link (its host and port are the first seed's).
  std::optional<redis::Config> redis{};
  // Set when the URL names a Redis Cluster (redis+cluster://h1:p1,h2:p2[?read_from=...]): its
  // seeds and options. Every Redis client of the daemon is then a ClusterClient
  // (redis_settings()). Default: none (one server).
  std::optional<redis::ClusterOptions> redis_cluster{};
  // The breaker of every Redis client that serves traffic (not of the health probe's).
  BreakerConfig redis_breaker{};

  // What redis::make_client builds for `link` (redis, or a copy with its own client_name...):
  // one server, or the cluster of redis_cluster.
  redis::ClientSettings redis_settings(redis::Config link) const {
    return redis::ClientSettings{.config = std::move(link), .cluster = redis_cluster};
  }
  // Namespaces not listed: refused (404 namespace_not_found) unless allowed, then created on
  // first use from `defaults`, at most max_namespaces in all.
  bool allow_unlisted_namespaces = false;
  std::size_t max_namespaces = 64;
  NamespaceConfig defaults{};
  std::vector<NamespaceConfig> namespaces{};
  std::vector<RateLimitConfig> rate_limits{};
  // The caching reverse proxy's routes. Each route's namespace is created at start like a listed
  // one (when not listed itself) with the route's L1 size and stale windows.
  proxy::ProxyConfig proxy{};
  McpConfig mcp{};
  CalendarConfig calendar{};

  // The namespace's settings: listed, or defaults renamed; nullopt when unlisted and not allowed.
  std::optional<NamespaceConfig> find_namespace(std::string_view name) const;
};

// Whether a namespace name is acceptable: 1-64 of [A-Za-z0-9_.-], not starting with '.'.
bool valid_namespace_name(std::string_view name);

// Parses a TOML document; `source` names it in errors. Throws ConfigError.
Config load_config(std::string_view toml_text, std::string_view source);
// Reads and parses a file. Throws ConfigError (also when it cannot be read).
Config load_config_file(const std::string& path);
// Applies REDIS_URL (a cluster URL too) / REDIS_HOST / REDIS_PORT / REDIS_DB / REDIS_PASSWORD /
// REDIS_USERNAME,
// TIERCACHE_LISTEN, TIERCACHE_THREADS, TIERCACHE_ADMIN_TOKEN, TIERCACHE_ACCESS_LOG,
// TIERCACHE_LOG_LEVEL. Throws ConfigError naming the variable.
void apply_environment(Config& config);
// "host:port" or "[v6]:port" into listen_host/port. Throws ConfigError naming `field`.
void set_listen(Config& config, std::string_view value, std::string_view field);
// A Redis URL into config.redis (and config.redis_cluster for redis+cluster:// and
// rediss+cluster://, see redis::parse_client_url); "" or "none" means none. Throws ConfigError
// naming `field`.
void set_redis_url(Config& config, std::string_view value, std::string_view field);
// Checks what no single field can: throws ConfigError.
void validate(const Config& config);

}  // namespace tiercache::server
