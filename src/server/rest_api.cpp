// RestApi: routes and per-request metrics. The handlers live in rest_cache.cpp (one key),
// rest_batch.cpp (batches, invalidation) and rest_ops.cpp (health, stats, admin, rate limits).

#include "server/rest_api.hpp"

#include "server/dashboard/history.hpp"
#include "server/dashboard/routes.hpp"
#include "server/mcp/http_transport.hpp"
#include "server/openapi.hpp"
#include "server/proxy/proxy.hpp"
#include "server/request_input.hpp"

namespace tiercache::server {

Response json_response(const Request& req, http::status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

RestApi::RestApi(Services& services)
    : services_(services),
      requests_(services.registry->counter("tiercache_http_requests_total",
                                           "HTTP requests answered, by route and status.",
                                           {"method", "route", "status"})),
      durations_(services.registry->histogram(
          "tiercache_http_request_duration_seconds",
          "Time from a request's last byte read to its response, by route.", {"route"},
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
           5})) {
  using V = http::verb;
  router_.add(V::get, "/v1/cache/{ns}/{key}", cache_get);
  router_.add(V::put, "/v1/cache/{ns}/{key}", cache_put);
  router_.add(V::delete_, "/v1/cache/{ns}/{key}", cache_delete);
  router_.add(V::get, "/v1/cache/{ns}/{key}/ttl", cache_ttl);
  router_.add(V::post, "/v1/cache/{ns}/batch/get", batch_get);
  router_.add(V::post, "/v1/cache/{ns}/batch/set", batch_set);
  router_.add(V::post, "/v1/cache/{ns}/invalidate", invalidate);
  router_.add(V::post, "/v1/ratelimit/{name}", ratelimit);
  router_.add(V::get, "/v1/ratelimit/{name}", ratelimit);  // the peek: counts nothing
  router_.add(V::get, "/v1/stats", stats);
  router_.add(V::get, "/v1/health", health);
  router_.add(V::get, "/healthz", healthz);
  router_.add(V::get, "/readyz", readyz);
  router_.add(V::get, "/metrics", metrics_text);
  router_.add(V::get, "/openapi.json", openapi);
  router_.add(V::post, "/v1/admin/namespaces/{ns}/clear", admin_clear);
  router_.add(V::post, "/v1/admin/stats/reset", admin_reset);
  router_.add(V::post, "/v1/admin/warm", admin_warm);
  router_.add(V::post, "/mcp", mcp_post);
  router_.add(V::get, "/mcp", mcp_get);
  router_.add(V::delete_, "/mcp", mcp_delete);
  dashboard::add_routes(router_);  // the page at / and /dashboard, GET /v1/dashboard
}

asio::awaitable<Response> RestApi::handle(Request req) {
  const auto start = std::chrono::steady_clock::now();
  const std::string method(req.method_string());
  // The target, for the dashboard's slow-operation log (recorded only if the request is slow).
  std::string target = services_.dashboard ? std::string(req.target()) : std::string();
  Response res;
  std::string route;  // the metrics label: a route pattern or "proxy:<name>", never user data
  const proxy::Route* proxied =
      services_.proxy != nullptr ? services_.proxy->route_for(req.target()) : nullptr;
  if (proxied != nullptr) {
    route = "proxy:" + proxied->name();
    res = co_await services_.proxy->handle(std::move(req), *proxied);
  } else {
    std::string allow;
    auto matched = router_.match(req.method(), req.target(), &allow);
    if (auto* err = std::get_if<ApiError>(&matched)) {
      route = "unmatched";
      res = error_response(req, *err);
      if (!allow.empty()) res.set(http::field::allow, allow);
    } else {
      auto& m = std::get<Match>(matched);
      route = m.pattern;
      res = co_await dispatch(std::move(req), std::move(m));
    }
  }
  const auto status = std::to_string(res.result_int());
  requests_.with({method, route, status}).inc();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  durations_.with({route}).observe(elapsed);
  if (services_.dashboard && elapsed >= services_.dashboard->slow_log().threshold()) {
    services_.dashboard->slow_log().record(method + " " + route, target, elapsed, status);
  }
  co_return res;
}

asio::awaitable<Response> RestApi::dispatch(Request req, Match m) {
  if (dashboard::owns(m.route)) co_return dashboard::handle(services_, req, m);
  switch (m.route) {
    case cache_get:
      co_return co_await get_value(std::move(req), std::move(m));
    case cache_put:
      co_return co_await put_value(std::move(req), std::move(m));
    case cache_delete:
      co_return co_await delete_value(std::move(req), std::move(m));
    case cache_ttl:
      co_return co_await get_ttl(std::move(req), std::move(m));
    case batch_get:
      co_return co_await get_batch(std::move(req), std::move(m));
    case batch_set:
      co_return co_await set_batch(std::move(req), std::move(m));
    case invalidate:
      co_return co_await invalidate_keys(std::move(req), std::move(m));
    case ratelimit:
      co_return co_await rate_limit(std::move(req), std::move(m));
    case readyz:
      co_return co_await ready(std::move(req));
    case health:
      if (auto e = no_query(m)) co_return error_response(req, *e);
      co_return co_await health_report(std::move(req));
    case admin_clear:
      co_return co_await clear_namespace(std::move(req), std::move(m));
    case admin_warm:
      co_return co_await warm(std::move(req), std::move(m));
    case mcp_post:
    case mcp_get:
    case mcp_delete:
      if (services_.mcp == nullptr) {
        co_return error_response(
            req, ApiError::not_found("route_not_found", "the MCP server is off ([mcp] enabled)"));
      }
      co_return co_await services_.mcp->handle(std::move(req));
    default:
      break;
  }
  if (auto e = no_query(m)) co_return error_response(req, *e);
  switch (m.route) {
    case stats:
      co_return stats_json(req);
    case metrics_text:
      co_return metrics(req);
    case admin_reset:
      co_return reset_stats(req);
    case healthz:
      co_return json_response(req, http::status::ok, R"({"status":"ok"})");
    case openapi: {
      Response res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = std::string(openapi_document());
      res.prepare_payload();
      co_return res;
    }
    default:
      break;
  }
  co_return error_response(req, ApiError{});
}

}  // namespace tiercache::server
