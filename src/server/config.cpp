// Config: the TOML reader. Every table lists the keys it knows; any other key is an error at its
// own line, so a typo ("defualt_ttl") fails the start instead of being silently ignored.

#include "server/config.hpp"

#include "tiercache/redis/url.hpp"

#include "server/toml_fields.hpp"
#include "server/units.hpp"

#include <boost/asio/ip/address.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tiercache::server {
namespace {

void read_server(const toml::table& t, Config& c) {
  only_keys(t, "server.",
            {"listen", "threads", "admin_token", "access_log", "log_level", "slow_request"});
  if (const auto* n = t.get("listen")) {
    try {
      set_listen(c, string_of(*n, "server.listen"), "server.listen");
    } catch (const ConfigError& e) {
      // Its text is "server.listen: <why>"; the position is added here.
      const std::string why = e.what();
      const auto colon = why.find(": ");
      bad("server.listen", *n, colon == std::string::npos ? why : why.substr(colon + 2));
    }
  }
  if (const auto* n = t.get("threads")) {
    c.threads = static_cast<std::size_t>(int_of(*n, "server.threads", 0, 1024));
  }
  if (const auto* n = t.get("admin_token")) {
    c.admin_token = string_of(*n, "server.admin_token");
    if (!c.admin_token.empty() && c.admin_token.size() < 16) {
      bad("server.admin_token", *n, "must be at least 16 characters (or empty: admin off)");
    }
  }
  if (const auto* n = t.get("access_log")) {
    c.access_log = string_of(*n, "server.access_log");
    if (c.access_log.empty())
      bad("server.access_log", *n, "must not be empty (\"off\" turns it off)");
  }
  if (const auto* n = t.get("log_level")) {
    c.log_level = string_of(*n, "server.log_level");
    static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                   "error", "critical", "off"};
    if (std::find(std::begin(kLevels), std::end(kLevels), c.log_level) == std::end(kLevels)) {
      bad("server.log_level", *n, "must be trace, debug, info, warn, error, critical or off");
    }
  }
  if (const auto* n = t.get("slow_request")) {
    c.slow_request = duration_of(*n, "server.slow_request", true);
  }
}

void read_limits(const toml::table& t, Limits& l) {
  only_keys(t, "limits.",
            {"max_header_bytes", "max_body_bytes", "read_timeout", "idle_timeout", "write_timeout",
             "max_connections", "drain_timeout"});
  if (const auto* n = t.get("max_header_bytes")) {
    l.max_header_bytes = size_of(*n, "limits.max_header_bytes");
    if (l.max_header_bytes < 1024 || l.max_header_bytes > (1 << 20)) {
      bad("limits.max_header_bytes", *n, "must be 1KiB..1MiB");
    }
  }
  if (const auto* n = t.get("max_body_bytes")) {
    l.max_body_bytes = size_of(*n, "limits.max_body_bytes");
    if (l.max_body_bytes < 1024 || l.max_body_bytes > (std::size_t{1} << 30)) {
      bad("limits.max_body_bytes", *n, "must be 1KiB..1GiB");
    }
  }
  if (const auto* n = t.get("read_timeout"))
    l.read_timeout = duration_of(*n, "limits.read_timeout");
  if (const auto* n = t.get("idle_timeout"))
    l.idle_timeout = duration_of(*n, "limits.idle_timeout");
  if (const auto* n = t.get("write_timeout")) {
    l.write_timeout = duration_of(*n, "limits.write_timeout");
  }
  if (const auto* n = t.get("drain_timeout")) {
    l.drain_timeout = duration_of(*n, "limits.drain_timeout", true);
  }
  if (const auto* n = t.get("max_connections")) {
    l.max_connections =
        static_cast<std::size_t>(int_of(*n, "limits.max_connections", 1, 1'000'000));
  }
}

void read_breaker(const toml::table& t, BreakerConfig& b) {
  const std::string p = "redis.breaker.";
  only_keys(t, p,
            {"enabled", "window", "minimum_calls", "failure_rate", "consecutive_timeouts",
             "open_duration", "max_open_duration", "half_open_probes", "max_in_flight"});
  if (const auto* n = t.get("enabled")) b.enabled = bool_of(*n, p + "enabled");
  if (const auto* n = t.get("window")) {
    b.window = duration_of(*n, p + "window");
    // Ten buckets of at least 10 ms each; a window longer than 10 min remembers an outage
    // long after Redis is back.
    if (b.window < 100ms || b.window > 10min) bad(p + "window", *n, "must be 100ms..10m");
  }
  if (const auto* n = t.get("minimum_calls")) {
    b.minimum_calls = static_cast<std::uint32_t>(int_of(*n, p + "minimum_calls", 1, 1'000'000));
  }
  if (const auto* n = t.get("failure_rate")) {
    b.failure_rate = number_of(*n, p + "failure_rate");
    if (b.failure_rate <= 0.0 || b.failure_rate > 1.0) {
      bad(p + "failure_rate", *n, "must be above 0 and at most 1 (as 0.5: half the requests)");
    }
  }
  if (const auto* n = t.get("consecutive_timeouts")) {
    b.consecutive_timeouts =
        static_cast<std::uint32_t>(int_of(*n, p + "consecutive_timeouts", 0, 1'000'000));
  }
  if (const auto* n = t.get("open_duration")) {
    b.open_duration = duration_of(*n, p + "open_duration");
    if (b.open_duration > 1h) bad(p + "open_duration", *n, "must be at most 1h");
  }
  if (const auto* n = t.get("max_open_duration")) {
    b.max_open_duration = duration_of(*n, p + "max_open_duration");
    if (b.max_open_duration > 1h) bad(p + "max_open_duration", *n, "must be at most 1h");
  }
  if (b.open_duration > b.max_open_duration) {
    const char* at = t.contains("open_duration") ? "open_duration" : "max_open_duration";
    bad(p + at, *t.get(at),
        "open_duration (" + format_duration(b.open_duration) +
            ") must not exceed max_open_duration (" + format_duration(b.max_open_duration) + ")");
  }
  if (const auto* n = t.get("half_open_probes")) {
    b.half_open_probes = static_cast<std::uint32_t>(int_of(*n, p + "half_open_probes", 1, 1000));
  }
  if (const auto* n = t.get("max_in_flight")) {
    b.max_in_flight = static_cast<std::size_t>(int_of(*n, p + "max_in_flight", 1, 10'000'000));
  }
}

void read_redis(const toml::table& t, Config& c) {
  only_keys(t, "redis.", {"url", "breaker"});
  if (const auto* n = t.get("breaker")) {
    read_breaker(table_of(*n, "redis.breaker"), c.redis_breaker);
  }
  if (const auto* n = t.get("url")) {
    try {
      set_redis_url(c, string_of(*n, "redis.url"), "redis.url");
    } catch (const ConfigError& e) {
      // ConfigError's text already says "redis.url: ..."; keep only the reason.
      std::string why = e.what();
      const auto colon = why.find(": ");
      bad("redis.url", *n, colon == std::string::npos ? why : why.substr(colon + 2));
    }
  }
}

NamespaceConfig read_namespace(const toml::table& t, const std::string& prefix,
                               NamespaceConfig ns) {
  only_keys(t, prefix, {"default_ttl", "grace", "max_ttl", "l1_bytes", "max_value_size"});
  if (const auto* n = t.get("default_ttl"))
    ns.default_ttl = duration_of(*n, prefix + "default_ttl");
  if (const auto* n = t.get("grace")) ns.grace = duration_of(*n, prefix + "grace", true);
  if (const auto* n = t.get("max_ttl")) ns.max_ttl = duration_of(*n, prefix + "max_ttl");
  if (const auto* n = t.get("l1_bytes")) ns.l1_bytes = size_of(*n, prefix + "l1_bytes");
  if (const auto* n = t.get("max_value_size")) {
    ns.max_value_size = size_of(*n, prefix + "max_value_size");
    if (ns.max_value_size == 0) bad(prefix + "max_value_size", *n, "must be greater than 0");
  }
  if (ns.default_ttl > ns.max_ttl) {
    bad(prefix + "default_ttl", *t.get(t.contains("default_ttl") ? "default_ttl" : "max_ttl"),
        "must not exceed max_ttl (" + format_duration(ns.max_ttl) + ")");
  }
  return ns;
}

void read_cache(const toml::table& t, Config& c) {
  only_keys(t, "cache.", {"allow_unlisted_namespaces", "max_namespaces", "defaults"});
  if (const auto* n = t.get("allow_unlisted_namespaces")) {
    c.allow_unlisted_namespaces = bool_of(*n, "cache.allow_unlisted_namespaces");
  }
  if (const auto* n = t.get("max_namespaces")) {
    c.max_namespaces = static_cast<std::size_t>(int_of(*n, "cache.max_namespaces", 1, 4096));
  }
  if (const auto* n = t.get("defaults")) {
    c.defaults = read_namespace(table_of(*n, "cache.defaults"), "cache.defaults.", c.defaults);
  }
}

void read_namespaces(const toml::table& t, Config& c) {
  for (const auto& [key, node] : t) {
    const std::string name(key.str());
    const std::string prefix = "namespaces." + name + ".";
    if (!valid_namespace_name(name)) {
      bad("namespaces." + name, node, "a namespace name is 1-64 of [A-Za-z0-9_.-]");
    }
    NamespaceConfig ns = read_namespace(table_of(node, "namespaces." + name), prefix, c.defaults);
    ns.name = name;
    c.namespaces.push_back(std::move(ns));
  }
}

void read_ratelimits(const toml::table& t, Config& c) {
  for (const auto& [key, node] : t) {
    const std::string name(key.str());
    const std::string prefix = "ratelimits." + name + ".";
    if (!valid_namespace_name(name)) {
      bad("ratelimits." + name, node, "a rate limit name is 1-64 of [A-Za-z0-9_.-]");
    }
    const toml::table& rt = table_of(node, "ratelimits." + name);
    only_keys(rt, prefix, {"limit", "window", "burst", "algorithm", "max_batch", "max_in_flight"});
    RateLimitConfig r{.name = name};
    if (const auto* n = rt.get("limit")) {
      r.limit = static_cast<std::uint32_t>(int_of(*n, prefix + "limit", 1, 1'000'000'000));
    }
    if (const auto* n = rt.get("window")) r.window = duration_of(*n, prefix + "window");
    if (const auto* n = rt.get("burst")) {
      r.burst = static_cast<std::uint32_t>(int_of(*n, prefix + "burst", 0, 1'000'000'000));
    }
    if (const auto* n = rt.get("algorithm")) {
      r.algorithm = string_of(*n, prefix + "algorithm");
      if (r.algorithm != "sliding_log" && r.algorithm != "sliding_window" &&
          r.algorithm != "token_bucket") {
        bad(prefix + "algorithm", *n, "must be sliding_log, sliding_window or token_bucket");
      }
    }
    if (const auto* n = rt.get("max_batch")) {
      r.max_batch = static_cast<std::uint32_t>(int_of(*n, prefix + "max_batch", 1, 1000));
    }
    if (const auto* n = rt.get("max_in_flight")) {
      r.max_in_flight = static_cast<std::uint32_t>(int_of(*n, prefix + "max_in_flight", 1, 16));
    }
    c.rate_limits.push_back(std::move(r));
  }
}

void read_mcp(const toml::table& t, McpConfig& m) {
  only_keys(t, "mcp.", {"enabled", "allowed_origins", "max_sessions", "session_idle_timeout"});
  if (const auto* n = t.get("enabled")) m.enabled = bool_of(*n, "mcp.enabled");
  if (const auto* n = t.get("allowed_origins")) {
    const auto* list = n->as_array();
    if (list == nullptr) bad("mcp.allowed_origins", *n, "must be an array of origins");
    for (const auto& item : *list) {
      const std::string origin = string_of(item, "mcp.allowed_origins");
      const bool web = origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0;
      if (!web || origin.find('/', origin.find("//") + 2) != std::string::npos) {
        bad("mcp.allowed_origins", item,
            "'" + origin + "' is not an origin: scheme://host[:port], as https://app.example.com");
      }
      m.allowed_origins.push_back(origin);
    }
  }
  if (const auto* n = t.get("max_sessions")) {
    m.max_sessions = static_cast<std::size_t>(int_of(*n, "mcp.max_sessions", 1, 1'000'000));
  }
  if (const auto* n = t.get("session_idle_timeout")) {
    m.session_idle_timeout = duration_of(*n, "mcp.session_idle_timeout");
  }
}

void read_calendar(const toml::table& t, CalendarConfig& cal) {
  only_keys(t, "calendar.", {"enabled", "prefix", "default_ttl", "cleanup_interval", "warm_route"});
  if (const auto* n = t.get("enabled")) cal.enabled = bool_of(*n, "calendar.enabled");
  if (const auto* n = t.get("prefix")) {
    cal.prefix = string_of(*n, "calendar.prefix");
    const bool ok = !cal.prefix.empty() && cal.prefix.size() <= 64 &&
                    std::all_of(cal.prefix.begin(), cal.prefix.end(), [](unsigned char ch) {
                      return ch > ' ' && ch < 0x7f && ch != '*' && ch != '?' && ch != '[' &&
                             ch != ']' && ch != '\\' && ch != '{' && ch != '}';
                    });
    if (!ok) {
      bad("calendar.prefix", *n,
          "must be 1-64 printable ASCII characters without spaces, glob characters or braces "
          "(as \"calendar\")");
    }
  }
  if (const auto* n = t.get("default_ttl")) {
    cal.default_ttl = duration_of(*n, "calendar.default_ttl");
    if (cal.default_ttl > std::chrono::hours(24 * 30)) {
      bad("calendar.default_ttl", *n, "must be at most 30d");
    }
  }
  if (const auto* n = t.get("cleanup_interval")) {
    cal.cleanup_interval = duration_of(*n, "calendar.cleanup_interval");
    if (cal.cleanup_interval < std::chrono::seconds(1)) {
      bad("calendar.cleanup_interval", *n, "must be at least 1s");
    }
  }
  if (const auto* n = t.get("warm_route")) cal.warm_route = string_of(*n, "calendar.warm_route");
}

Config read(const toml::table& root) {
  Config c;
  only_keys(root, "",
            {"server", "limits", "redis", "cache", "namespaces", "ratelimits", "proxy", "mcp",
             "calendar"});
  // cache.defaults first: listed namespaces start from it.
  if (const auto* n = root.get("cache")) read_cache(table_of(*n, "cache"), c);
  if (const auto* n = root.get("server")) read_server(table_of(*n, "server"), c);
  if (const auto* n = root.get("limits")) read_limits(table_of(*n, "limits"), c.limits);
  if (const auto* n = root.get("redis")) read_redis(table_of(*n, "redis"), c);
  if (const auto* n = root.get("namespaces")) read_namespaces(table_of(*n, "namespaces"), c);
  if (const auto* n = root.get("ratelimits")) read_ratelimits(table_of(*n, "ratelimits"), c);
  if (const auto* n = root.get("proxy")) c.proxy = proxy::read_proxy_config(table_of(*n, "proxy"));
  if (const auto* n = root.get("mcp")) read_mcp(table_of(*n, "mcp"), c.mcp);
  if (const auto* n = root.get("calendar")) read_calendar(table_of(*n, "calendar"), c.calendar);
  return c;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

ConfigError::ConfigError(std::string field, std::string source, std::uint32_t line,
                         std::uint32_t column, std::string why)
    : std::runtime_error((source.empty() ? std::string()
                                         : source +
                                               (line > 0 ? ":" + std::to_string(line) + ":" +
                                                               std::to_string(column)
                                                         : std::string()) +
                                               ": ") +
                         (field.empty() ? std::string() : field + ": ") + why),
      field_(std::move(field)),
      line_(line) {}

bool valid_namespace_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
  });
}

std::optional<NamespaceConfig> Config::find_namespace(std::string_view name) const {
  for (const auto& ns : namespaces) {
    if (ns.name == name) return ns;
  }
  if (!allow_unlisted_namespaces || !valid_namespace_name(name)) return std::nullopt;
  NamespaceConfig ns = defaults;
  ns.name = std::string(name);
  return ns;
}

Config load_config(std::string_view toml_text, std::string_view source) {
  try {
    const toml::table root = toml::parse(toml_text, source);
    Config c = read(root);
    validate(c);
    return c;
  } catch (const toml::parse_error& e) {
    throw ConfigError("", std::string(source), e.source().begin.line, e.source().begin.column,
                      std::string(e.description()));
  } catch (const FieldError& e) {
    throw ConfigError(e.field, std::string(source), e.at.line, e.at.column, e.why);
  }
}

Config load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    throw ConfigError("", path, 0, 0, "cannot be read");
  }
  return load_config(text.str(), path);
}

void set_listen(Config& config, std::string_view value, std::string_view field) {
  const auto fail = [&] {
    throw ConfigError(std::string(field), "", 0, 0,
                      "'" + std::string(value) +
                          "' is not HOST:PORT (as 127.0.0.1:8080, [::1]:8080, 0.0.0.0:80)");
  };
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) fail();
  std::string_view host = value.substr(0, colon);
  const std::string_view port = value.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') fail();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    fail();
  }
  std::size_t i = 0;
  std::uint64_t n = 0;
  for (; i < port.size() && port[i] >= '0' && port[i] <= '9' && n <= 65535; ++i) {
    n = n * 10 + static_cast<std::uint64_t>(port[i] - '0');
  }
  if (port.empty() || i != port.size() || n > 65535) fail();
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    throw ConfigError(std::string(field), "", 0, 0,
                      "'" + std::string(host) +
                          "' is not an IP address (listen on 127.0.0.1, ::1, 0.0.0.0 or ::)");
  }
  config.listen_host = std::string(host);
  config.listen_port = static_cast<std::uint16_t>(n);
}

void set_redis_url(Config& config, std::string_view value, std::string_view field) {
  if (value.empty() || value == "none") {
    config.redis.reset();
    config.redis_cluster.reset();
    return;
  }
  std::string why;
  auto parsed = redis::parse_client_url(value, &why);
  if (!parsed) throw ConfigError(std::string(field), "", 0, 0, why);
  config.redis = std::move(parsed->config);
  config.redis_cluster = std::move(parsed->cluster);
}

void apply_environment(Config& config) {
  // A cluster URL names several nodes, which redis::config_from_env (one Config) cannot hold.
  const char* url = env("REDIS_URL");
  std::string scheme(url == nullptr ? "" : std::string_view(url).substr(0, 15));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (scheme.starts_with("redis+cluster:") || scheme.starts_with("rediss+cluster:")) {
    set_redis_url(config, url, "REDIS_URL");
  } else if (url || env("REDIS_HOST") || env("REDIS_PORT") || env("REDIS_DB") ||
             env("REDIS_PASSWORD") || env("REDIS_USERNAME")) {
    std::string why;
    auto parsed = redis::config_from_env(&why);
    if (!parsed) throw ConfigError("environment", "", 0, 0, why);
    config.redis = std::move(*parsed);
    config.redis_cluster.reset();
  }
  if (const char* v = env("TIERCACHE_LISTEN")) set_listen(config, v, "TIERCACHE_LISTEN");
  if (const char* v = env("TIERCACHE_THREADS")) {
    std::size_t i = 0;
    const std::string_view text(v);
    std::size_t n = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && n <= 1024; ++i) {
      n = n * 10 + static_cast<std::size_t>(text[i] - '0');
    }
    if (i != text.size() || n > 1024) {
      throw ConfigError("TIERCACHE_THREADS", "", 0, 0, "must be 0..1024 (0: one per core)");
    }
    config.threads = n;
  }
  if (const char* v = env("TIERCACHE_ADMIN_TOKEN")) config.admin_token = v;
  if (const char* v = env("TIERCACHE_ACCESS_LOG")) config.access_log = v;
  if (const char* v = env("TIERCACHE_LOG_LEVEL")) config.log_level = v;
  validate(config);
}

void validate(const Config& config) {
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    throw ConfigError("admin_token", "", 0, 0,
                      "must be at least 16 characters (or empty: admin off)");
  }
  if (config.namespaces.size() > config.max_namespaces) {
    throw ConfigError("namespaces", "", 0, 0,
                      std::to_string(config.namespaces.size()) +
                          " namespaces listed, more than cache.max_namespaces (" +
                          std::to_string(config.max_namespaces) + ")");
  }
  for (const auto& route : config.proxy.routes) {
    const std::string field = "proxy.routes." + route.name;
    const bool limit_known =
        route.rate_limit.empty() ||
        std::any_of(config.rate_limits.begin(), config.rate_limits.end(),
                    [&](const RateLimitConfig& r) { return r.name == route.rate_limit; });
    if (!limit_known) {
      throw ConfigError(field + ".rate_limit", "", 0, 0,
                        "no [ratelimits." + route.rate_limit + "] is configured");
    }
    for (const auto& other : config.proxy.routes) {
      if (&other != &route && other.ns == route.ns) {
        throw ConfigError(field + ".namespace", "", 0, 0,
                          "route " + other.name + " uses namespace " + route.ns + " too");
      }
    }
  }
  if (const auto& warm = config.calendar.warm_route; !warm.empty()) {
    const bool known = std::any_of(config.proxy.routes.begin(), config.proxy.routes.end(),
                                   [&](const proxy::RouteConfig& r) { return r.name == warm; });
    if (!known) {
      throw ConfigError("calendar.warm_route", "", 0, 0,
                        "no [proxy.routes." + warm +
                            "] is configured (warm_route names the route "
                            "calendar_warm loads events through)");
    }
  }
  // A namespace's max_value_size above limits.max_body_bytes is allowed: the smaller wins
  // (a body over the limit gets 413 body_too_large before the namespace is consulted).
  static constexpr std::string_view kLevels[] = {"trace", "debug",    "info", "warn",
                                                 "error", "critical", "off"};
  if (std::find(std::begin(kLevels), std::end(kLevels), config.log_level) == std::end(kLevels)) {
    throw ConfigError("log_level", "", 0, 0,
                      "must be trace, debug, info, warn, error, critical or off");
  }
}

}  // namespace tiercache::server
