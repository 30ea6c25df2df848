#pragma once
// Freshness: what HTTP caching headers say, for the proxy. Of an upstream response (RFC 9111,
// with RFC 5861's stale-while-revalidate and stale-if-error), for routes that respect the origin:
// whether a shared cache may store it and for how long it is fresh and servable stale. Of a
// client request: whether the client asks to bypass the cache (no-cache, no-store, max-age=0,
// Pragma: no-cache: seed 004's skip_cache).
// Use: auto f = origin_freshness(upstream_response, std::chrono::system_clock::now());
//      if (!f.storable) ...; ttl = f.fresh.value_or(route_ttl);
// Thread-safety: pure functions.

#include "server/http_types.hpp"

#include <chrono>
#include <optional>

namespace tiercache::server::proxy {

struct OriginFreshness {
  // false for no-store, private and no-cache (this cache does not revalidate), and for a
  // response already stale on arrival.
  bool storable = true;
  // s-maxage, else max-age, else Expires - Date; less the Age it arrived with. nullopt: the
  // response says nothing (the route's TTL applies, as RFC 9111 4.2.2's heuristic freshness).
  std::optional<std::chrono::milliseconds> fresh{};
  std::optional<std::chrono::milliseconds> stale_while_revalidate{};
  std::optional<std::chrono::milliseconds> stale_if_error{};
};

OriginFreshness origin_freshness(const Response& res, std::chrono::system_clock::time_point now);

// Whether the client asked for a fresh answer from the upstream.
bool client_bypasses_cache(const Request& req);

}  // namespace tiercache::server::proxy
