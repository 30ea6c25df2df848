// RestApi: routes and per-request metrics. The handlers live in rest_cache.cpp (one key),
// rest_batch.cpp (batches, invalidation) and rest_ops.cpp (health, stats, admin, rate limits).
//
// Per-request metrics cost what a lookup by label would cost only on a route's first request:
// a route is known by an address (its pattern's bytes in the router, its proxy::Route, a static
// for "unmatched"), hashed into a fixed open-addressing table whose slots are published with a
// release store; its RouteSeries holds the duration histogram and, by method and status, the
// request counters, each resolved by label once and kept (a series lives as long as the
// registry). A request then costs two clock reads, a table probe, two relaxed atomic adds for
// the counter and the histogram's bucket and sum, and one comparison with the slow-log
// threshold. bench/metrics/metrics_bench.cpp measures it (BM_RestRequestMetrics).

#include "server/rest_api.hpp"

#include "server/dashboard/history.hpp"
#include "server/dashboard/routes.hpp"
#include "server/mcp/http_transport.hpp"
#include "server/openapi.hpp"
#include "server/proxy/proxy.hpp"
#include "server/request_input.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace tiercache::server {
namespace {

using std::chrono::steady_clock;

// The methods and statuses that get a counter slot; the others (rare) are looked up by label.
constexpr std::size_t kMethodSlots = 5;
constexpr std::size_t kStatusSlots = 61;

int method_slot(http::verb verb) noexcept {
  switch (verb) {
    case http::verb::get:
      return 0;
    case http::verb::post:
      return 1;
    case http::verb::put:
      return 2;
    case http::verb::delete_:
      return 3;
    case http::verb::head:
      return 4;
    default:
      return -1;
  }
}

// 200-207, 300-308, 400-431, 500-511: every status the daemon answers.
int status_slot(unsigned s) noexcept {
  if (s >= 200 && s < 208) return static_cast<int>(s - 200);
  if (s >= 300 && s < 309) return static_cast<int>(8 + s - 300);
  if (s >= 400 && s < 432) return static_cast<int>(17 + s - 400);
  if (s >= 500 && s < 512) return static_cast<int>(49 + s - 500);
  return -1;
}

// The key of requests no route matched.
constexpr char kUnmatched[] = "unmatched";

// The start of a request's target, kept in case the request turns out slow (the request itself
// is moved into its handler). The slow log keeps at most max_key_bytes of a key and needs one
// byte more to mark it cut, so that much is copied into the coroutine's frame: a memcpy of a
// few dozen bytes, no allocation (a max_key_bytes past the buffer falls back to a string).
class SlowLogTarget {
 public:
  SlowLogTarget(std::string_view target, std::size_t max_key_bytes) {
    const std::size_t keep = std::min(target.size(), max_key_bytes + 1);
    if (keep <= buffer_.size()) {
      std::memcpy(buffer_.data(), target.data(), keep);
      view_ = std::string_view(buffer_.data(), keep);
    } else {
      heap_.assign(target.substr(0, keep));
      view_ = heap_;
    }
  }
  SlowLogTarget(const SlowLogTarget&) = delete;
  SlowLogTarget& operator=(const SlowLogTarget&) = delete;

  std::string_view view() const noexcept { return view_; }

 private:
  std::array<char, 160> buffer_;  // written only up to view_.size()
  std::string heap_;
  std::string_view view_;
};

}  // namespace

struct RestApi::RouteSeries {
  std::string label;
  metrics::Histogram* duration = nullptr;
  // Null until the first request of that method and status.
  std::array<std::array<std::atomic<metrics::Counter*>, kStatusSlots>, kMethodSlots> requests{};
};

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

RestApi::~RestApi() = default;

RestApi::RouteSeries* RestApi::route_series(const void* key, std::string_view prefix,
                                            std::string_view name) {
  // Fibonacci hashing of the address; the low bits of an aligned address are all zero.
  const auto hash =
      static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
  const std::size_t first = static_cast<std::size_t>(hash >> 32);
  for (std::size_t probe = 0; probe < kRouteSlots; ++probe) {
    const RouteSlot& slot = route_slots_[(first + probe) & (kRouteSlots - 1)];
    const void* k = slot.key.load(std::memory_order_acquire);
    if (k == key) return slot.series;
    if (k == nullptr) return add_route_series(key, prefix, name);
  }
  return nullptr;
}

RestApi::RouteSeries* RestApi::add_route_series(const void* key, std::string_view prefix,
                                                std::string_view name) {
  const auto hash =
      static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
  const std::size_t first = static_cast<std::size_t>(hash >> 32);
  std::lock_guard lock(routes_mu_);
  // Again under the lock: another request may have added this route, or taken the free slot.
  for (std::size_t probe = 0; probe < kRouteSlots; ++probe) {
    RouteSlot& slot = route_slots_[(first + probe) & (kRouteSlots - 1)];
    const void* k = slot.key.load(std::memory_order_relaxed);
    if (k == key) return slot.series;
    if (k != nullptr) continue;
    auto series = std::make_unique<RouteSeries>();
    series->label.reserve(prefix.size() + name.size());
    series->label.append(prefix).append(name);
    series->duration = &durations_.with({series->label});
    slot.series = series.get();
    routes_.push_back(std::move(series));
    slot.key.store(key, std::memory_order_release);
    return slot.series;
  }
  return nullptr;
}

metrics::Counter& RestApi::request_counter(RouteSeries& route, http::verb verb,
                                           std::string_view method, unsigned status) {
  const int m = method_slot(verb);
  const int s = status_slot(status);
  if (m < 0 || s < 0) return requests_.with({method, route.label, std::to_string(status)});
  auto& slot = route.requests[static_cast<std::size_t>(m)][static_cast<std::size_t>(s)];
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  // Two first requests may both look up; with() gives both the same series.
  auto& counter = requests_.with({method, route.label, std::to_string(status)});
  slot.store(&counter, std::memory_order_release);
  return counter;
}

asio::awaitable<Reply> RestApi::handle(Request req) {
  const auto start = steady_clock::now();
  const http::verb verb = req.method();
  // The method label: Beast's static name of a known verb; an unknown one's text is copied.
  std::string unknown_method;
  if (verb == http::verb::unknown) unknown_method = std::string(req.method_string());
  const std::string_view method = verb == http::verb::unknown
                                      ? std::string_view(unknown_method)
                                      : std::string_view(http::to_string(verb));
  std::optional<SlowLogTarget> target;
  if (services_.dashboard)
    target.emplace(req.target(), services_.dashboard->slow_log().max_key_bytes());
  Reply res;
  // The route's metrics label is prefix + name: a route pattern, "proxy:<name>" or "unmatched",
  // never user data. The views point into the router or the proxy, which outlive the request.
  const void* route_key = nullptr;
  std::string_view prefix;
  std::string_view name;
  const proxy::Route* proxied =
      services_.proxy != nullptr ? services_.proxy->route_for(req.target()) : nullptr;
  if (proxied != nullptr) {
    route_key = proxied;
    prefix = "proxy:";
    name = proxied->name();
    res = co_await services_.proxy->handle(std::move(req), *proxied);
  } else {
    std::string allow;
    auto matched = router_.match(req.method(), req.target(), &allow);
    if (auto* err = std::get_if<ApiError>(&matched)) {
      route_key = kUnmatched;
      name = kUnmatched;
      Response refusal = error_response(req, *err);
      if (!allow.empty()) refusal.set(http::field::allow, allow);
      res = std::move(refusal);
    } else {
      auto& m = std::get<Match>(matched);
      route_key = m.pattern.data();
      name = m.pattern;
      res = co_await dispatch(std::move(req), std::move(m), start);
    }
  }
  const unsigned status = status_of(res);
  const auto elapsed = steady_clock::now() - start;
  std::string overflow_label;  // only when the route table is full
  RouteSeries* series = route_series(route_key, prefix, name);
  if (series != nullptr) {
    series->duration->observe(elapsed);
    request_counter(*series, verb, method, status).inc();
  } else {
    overflow_label.append(prefix).append(name);
    durations_.with({overflow_label}).observe(elapsed);
    requests_.with({method, overflow_label, std::to_string(status)}).inc();
  }
  if (target && services_.dashboard && elapsed >= services_.dashboard->slow_log().threshold()) {
    const std::string& label = series != nullptr ? series->label : overflow_label;
    services_.dashboard->slow_log().record(std::string(method) + " " + label, target->view(),
                                           elapsed, std::to_string(status));
  }
  co_return res;
}

asio::awaitable<Reply> RestApi::dispatch(Request req, Match m, TimePoint start) {
  if (dashboard::owns(m.route)) co_return dashboard::handle(services_, req, m);
  switch (m.route) {
    case cache_get:
      co_return co_await get_value(std::move(req), std::move(m), start);
    case cache_put:
      co_return co_await put_value(std::move(req), std::move(m), start);
    case cache_delete:
      co_return co_await delete_value(std::move(req), std::move(m), start);
    case cache_ttl:
      co_return co_await get_ttl(std::move(req), std::move(m), start);
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
