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
// Use: HttpServer server(ex, limits, [&api](Request r) { return api.handle(std::move(r)); }, log);
// Thread-safety: safe from any thread; the Services must outlive every call.

#include "server/api_error.hpp"
#include "server/http_types.hpp"
#include "server/router.hpp"
#include "server/services.hpp"

#include <boost/asio/awaitable.hpp>

namespace tiercache::server {

namespace asio = boost::asio;

class RestApi {
 public:
  explicit RestApi(Services& services);

  // Answers one request; never throws for bad input (a JSON error instead).
  [[nodiscard]] asio::awaitable<Response> handle(Request req);

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
  asio::awaitable<Response> dispatch(Request req, Match m);
  // Cache endpoints (rest_cache.cpp, rest_batch.cpp).
  asio::awaitable<Response> get_value(Request req, Match m);
  asio::awaitable<Response> put_value(Request req, Match m);
  asio::awaitable<Response> delete_value(Request req, Match m);
  asio::awaitable<Response> get_ttl(Request req, Match m);
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
};

// A JSON response: status, body, Content-Type application/json, keep-alive from req.
Response json_response(const Request& req, http::status status, std::string body);

}  // namespace tiercache::server
