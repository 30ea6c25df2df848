#pragma once
// Proxy: tiercached's caching reverse proxy (docs/decisions/0013-caching-proxy.md). A GET (or
// HEAD, answered as its GET) under
// a route's prefix is answered from the route's cache namespace, or fetched from the upstream
// once for all concurrent callers (get_or_load's single flight, in-process and fleet-wide), then
// kept for the TTL the route's policy gives (or the origin's Cache-Control). Stale answers are
// served while one refresh runs (stale_while_revalidate) and when the upstream fails
// (stale_if_error). Every answer says X-Cache: HIT, MISS, STALE or BYPASS, and its Age.
// Other methods, and requests with Cache-Control: no-cache, go upstream (BYPASS).
// Use: Proxy proxy(ex, services);  if (auto* r = proxy.route_for(path)) co_await proxy.handle(req,
// *r); Thread-safety: safe from any thread; the Services must outlive it.

#include "tiercache/cache/ttl_policy.hpp"
#include "tiercache/metrics/registry.hpp"

#include "server/http_types.hpp"
#include "server/proxy/route.hpp"
#include "server/proxy/upstream.hpp"
#include "server/reply.hpp"
#include "server/services.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string_view>
#include <vector>

namespace tiercache::server::proxy {

namespace asio = boost::asio;

class Proxy {
 public:
  // One Upstream per route; the routes' namespaces must exist in services.namespaces. Throws
  // ConfigError for a TTL policy file that does not load, std::invalid_argument for a route
  // the upstream client refuses.
  Proxy(asio::any_io_executor executor, Services& services);
  ~Proxy();  // close()

  // Shutdown: closes every route's upstream. What still calls one (a refresh the cache runs in
  // the background, which keeps its route alive) ends at once with upstream_closed instead of
  // holding the daemon's shutdown for the upstream's timeout. Idempotent.
  void close();

  // The route whose prefix takes the path of `target`, or null.
  const Route* route_for(std::string_view target) const noexcept;
  // Answers one request of `route`; never throws for bad input or upstream failures.
  [[nodiscard]] asio::awaitable<Reply> handle(Request req, const Route& route);

  struct RouteState;  // a route, its upstream and its metrics (proxy.cpp)
  struct Fetch;       // one upstream call and what it needs (proxy.cpp)

 private:
  asio::awaitable<Reply> cached_get(std::shared_ptr<Fetch> fetch);
  asio::awaitable<Reply> bypass(std::shared_ptr<Fetch> fetch);

  Services& services_;
  std::shared_ptr<const cache::TtlPolicy> ttl_policy_;
  std::vector<std::shared_ptr<RouteState>> routes_;
};

}  // namespace tiercache::server::proxy
