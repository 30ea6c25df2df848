#pragma once
// RestApi: the daemon's HTTP API v1 (docs/openapi.json is its contract):
//   GET|PUT|DELETE /v1/cache/{ns}/{key}   GET /v1/cache/{ns}/{key}/ttl
//   POST /v1/cache/{ns}/batch/get|set     POST /v1/cache/{ns}/invalidate
//   POST|GET /v1/ratelimit/{name}         GET /v1/stats   (GET: a peek, nothing counted)
//   POST /v1/admin/namespaces/{ns}/clear  POST /v1/admin/stats/reset   (bearer token)
//   POST /v1/admin/warm                                                  (bearer token)
//   GET /healthz /readyz /metrics /openapi.json
//   GET / /dashboard /dashboard/{file} /v1/dashboard   (the page: server/dashboard/routes.hpp)
//   POST|GET|DELETE /mcp                  (MCP Streamable HTTP: server/mcp/http_transport.hpp)
// and hands requests under a proxy route's prefix to the caching proxy (server/proxy/proxy.hpp).
// Every request is counted and timed once, by route (tiercache_http_requests_total,
// tiercache_http_request_duration_seconds); the series are resolved on a route's first request
// and kept, so a request builds no label and takes no lock for them (docs/decisions/0009).
// Use: HttpServer server(ex, limits, [&api](Request r) { return api.handle(std::move(r)); }, log);
// Thread-safety: safe from any thread; the Services must outlive every call.

#include "tiercache/base/thread_annotations.hpp"

#include "server/api_error.hpp"
#include "server/http_types.hpp"
#include "server/reply.hpp"
#include "server/router.hpp"
#include "server/services.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace tiercache::server {

namespace asio = boost::asio;

// A cache operation's failure in namespace ns as the API answers it (rest_cache.cpp). While the
// namespace's circuit breaker is not closed the code stays redis_unavailable (503) and the
// message names the breaker and its state, so a client's log tells a refusal from a timeout.
ApiError cache_error(const Namespace& ns, error_code ec);

class RestApi {
 public:
  explicit RestApi(Services& services);
  ~RestApi();
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;

  // Answers one request; never throws for bad input (a JSON error instead).
  [[nodiscard]] asio::awaitable<Reply> handle(Request req);

  // The router, for tests and the fuzz target.
  const Router& router() const noexcept { return router_; }

  enum Route : int {
    cache_get,
    cache_put,
    cache_delete,
    cache_ttl,
    batch_get,
    batch_set,
    invalidate,
    ratelimit,
    stats,
    health,
    healthz,
    readyz,
    metrics_text,
    openapi,
    admin_clear,
    admin_reset,
    admin_warm,
    mcp_post,
    mcp_get,
    mcp_delete,
  };

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  // The request metrics of one route label (a router pattern, "proxy:<name>" or "unmatched").
  struct RouteSeries;
  // A slot of the table from a route's key to its series. `series` is written before `key` is
  // published (release) and never again, so a reader that sees its key (acquire) may read it.
  struct RouteSlot {
    std::atomic<const void*> key{nullptr};
    RouteSeries* series = nullptr;
  };
  // Routes the table holds: the router's ~30, the proxy's routes and "unmatched". Past that a
  // route's metrics are looked up by label on each request (correct, slower).
  static constexpr std::size_t kRouteSlots = 256;

  // The series of the route whose key is `key`, an address as long-lived as this object (its
  // pattern in the router, the proxy's route, a static), made with label prefix + name on the
  // route's first request; null when the table is full. Lock-free once made.
  RouteSeries* route_series(const void* key, std::string_view prefix, std::string_view name);
  RouteSeries* add_route_series(const void* key, std::string_view prefix, std::string_view name);
  // The tiercache_http_requests_total series of (method, the route, status).
  metrics::Counter& request_counter(RouteSeries& route, http::verb verb, std::string_view method,
                                    unsigned status);

  // start: when handle() began, which the cache handlers time their operation from (one clock
  // read per request shared, docs/decisions/0009).
  asio::awaitable<Reply> dispatch(Request req, Match m, TimePoint start);
  // Cache endpoints (rest_cache.cpp, rest_batch.cpp).
  asio::awaitable<Reply> get_value(Request req, Match m, TimePoint start);
  asio::awaitable<Response> put_value(Request req, Match m, TimePoint start);
  asio::awaitable<Response> delete_value(Request req, Match m, TimePoint start);
  asio::awaitable<Response> get_ttl(Request req, Match m, TimePoint start);
  asio::awaitable<Response> get_batch(Request req, Match m);
  asio::awaitable<Response> set_batch(Request req, Match m);
  asio::awaitable<Response> invalidate_keys(Request req, Match m);
  // Operations (rest_ops.cpp).
  asio::awaitable<Response> ready(Request req);
  asio::awaitable<Response> health_report(Request req);
  asio::awaitable<Response> rate_limit(Request req, Match m);
  asio::awaitable<Response> clear_namespace(Request req, Match m);
  Response stats_json(const Request& req) const;
  Response metrics(const Request& req) const;
  Response reset_stats(const Request& req);
  asio::awaitable<Response> warm(Request req, Match m);
  // The answer refusing an admin call: 404 when admin is off, 401 (with WWW-Authenticate)
  // without the right token; nullopt when allowed.
  std::optional<Response> admin_refusal(const Request& req) const;

  Services& services_;
  Router router_;
  metrics::CounterFamily& requests_;
  metrics::HistogramFamily& durations_;
  std::array<RouteSlot, kRouteSlots> route_slots_{};
  std::mutex routes_mu_;  // taken to add a route's series, never to read one
  std::vector<std::unique_ptr<RouteSeries>> routes_ TIERCACHE_GUARDED_BY(routes_mu_);
};

// A JSON response: status, body, Content-Type application/json, keep-alive from req.
Response json_response(const Request& req, http::status status, std::string body);

}  // namespace tiercache::server
