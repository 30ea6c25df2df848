#pragma once
// ProxyConfig: the caching reverse proxy's `[proxy]` table: routes that map a path prefix to an
// upstream base URL, each with its cache policy (TTL by data type and rules, stale windows, which
// query parameters make the key and how they normalize, cacheable statuses, an upstream rate
// limit). deploy/tiercached.toml explains every key; docs/decisions/0013-caching-proxy.md why.
// Use: ProxyConfig p = read_proxy_config(table, "proxy.");   // throws FieldError
// Thread-safety: plain values.

#include "tiercache/cache/key_builder.hpp"

#include <toml++/toml.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::server::proxy {

using namespace std::chrono_literals;

// How one query parameter takes part in the cache key (`[proxy.routes.<r>.params] <name> = {...}`).
struct ParamRule {
  std::string name;
  cache::FieldRule rule{};
};

struct RouteConfig {
  // `[proxy.routes.<name>]`: 1-64 of [A-Za-z0-9_.-]; names the route in metrics and logs.
  std::string name{};
  // Requests whose path is this or below it ("/weather", "/weather/..") go to the upstream, the
  // prefix replaced by the upstream's base path. Default: "/<name>".
  std::string prefix{};
  // "http://host:port/base" or "https://...". Required.
  std::string upstream{};
  // The cache namespace the responses live in (REST invalidation and stats work on it).
  // Default: "proxy.<name>".
  std::string ns{};
  // The TTL policy's data type (proxy.ttl_policy, or seed 004's table). Default: the name.
  std::string data_type{};
  // A fixed fresh time instead of the TTL policy's. Default: the policy decides.
  std::optional<std::chrono::milliseconds> ttl{};
  // How long past fresh a response is served at once while one refresh runs. Default: 1 min.
  std::chrono::milliseconds stale_while_revalidate = 1min;
  // How long past fresh a response is served when the upstream fails (5xx, 429, timeout,
  // unreachable). The entry stays in Redis fresh + max(both windows). Default: 1 h.
  std::chrono::milliseconds stale_if_error = 1h;
  // Take freshness from the upstream's Cache-Control / Expires (RFC 9111) instead of the policy;
  // no-store and private are not stored. Default: off.
  bool respect_origin = false;
  // Statuses stored; others are passed through (5xx and 429 count as upstream failures).
  // Default: RFC 9110's heuristically cacheable ones.
  std::vector<unsigned> cacheable_statuses = {200, 203, 204, 300, 301, 308, 404, 405, 410, 414};
  // A larger upstream body fails the request (502). Default: 8 MiB.
  std::size_t max_body_bytes = std::size_t{8} << 20;
  // The namespace's L1 bytes. Default: 64 MiB.
  std::size_t l1_bytes = std::size_t{64} << 20;
  // Upstream connection: timeouts and the open connections bound.
  std::chrono::milliseconds timeout = 10s;
  std::chrono::milliseconds connect_timeout = 2s;
  std::size_t max_connections = 256;
  // https: extra trust anchors (PEM file), and whether to verify at all. Default: system store.
  std::string ca_file{};
  bool verify_tls = true;
  // A `[ratelimits.<name>]` every upstream call must pass; misses wait up to rate_limit_wait,
  // then fail with 429 (or serve stale). Default: none.
  std::string rate_limit{};
  std::chrono::milliseconds rate_limit_wait = 2s;
  // The query parameter holding the date the data is about (the policy's date rules), and the
  // response's JSON field whose array length (or number) is the result count. Default: none.
  std::string date_param{};
  std::string results_field{};
  // Key normalization per query parameter; with ignore_unlisted_params, parameters without a
  // rule are forwarded but not part of the key. Default: every parameter keys, as given.
  std::vector<ParamRule> params{};
  bool ignore_unlisted_params = false;
  // Client request headers passed upstream (lower case). Default: accept, accept-language.
  std::vector<std::string> forward_headers = {"accept", "accept-language"};
  // Headers that are part of the key (the upstream varies on them). Default: none.
  std::vector<std::string> key_headers{};
  // Headers added to every upstream request (an API key the callers never see).
  std::map<std::string, std::string> upstream_headers{};
};

struct ProxyConfig {
  std::vector<RouteConfig> routes{};
  // A TTL policy file (cache::TtlPolicy's format). Empty: seed 004's table.
  std::string ttl_policy{};
};

// Reads `[proxy]`. Throws FieldError (toml_fields.hpp) naming the field.
ProxyConfig read_proxy_config(const toml::table& proxy);

}  // namespace tiercache::server::proxy
