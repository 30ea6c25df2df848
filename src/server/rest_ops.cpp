// Operations endpoints: /readyz, /v1/health, /metrics, /v1/stats, /v1/ratelimit/{name} and the
// admin API.

#include "tiercache/health/monitor.hpp"
#include "tiercache/health/report.hpp"
#include "tiercache/metrics/text_format.hpp"

#include "server/proxy/proxy.hpp"
#include "server/reply.hpp"
#include "server/request_input.hpp"
#include "server/rest_api.hpp"
#include "server/stats_counters.hpp"

#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>

#include <algorithm>

namespace tiercache::server {
namespace {}  // namespace

asio::awaitable<Response> RestApi::ready(Request req) {
  boost::json::object body;
  const bool draining = services_.draining.load();
  body["status"] = draining ? "draining" : "ready";
  body["mode"] = services_.l1_only() ? "l1_only" : "two_tier";
  std::string redis(mode_name(services_.redis_mode));
  if (services_.control) {
    resp::Request ping;
    ping.push("PING");
    auto r = co_await services_.control->exec(std::move(ping));
    if (!r || r->is_error()) redis = "down";
  }
  body["redis"] = redis;
  // Redis down is no reason to leave the load balancer: L1 and the other tiers still serve, and
  // every instance shares that Redis. Only a draining instance says it is not ready. A breaker
  // still open after Redis answers again (it cools down first) keeps the cache degraded too.
  body["degraded"] = (redis != "connected" && redis != "not_configured") ||
                     any_breaker_open(*services_.namespaces);
  co_return json_response(req, draining ? http::status::service_unavailable : http::status::ok,
                          boost::json::serialize(body));
}

asio::awaitable<Response> RestApi::health_report(Request req) {
  if (services_.health == nullptr) {
    // L1 alone: nothing to probe, and a cache without its shared tier is degraded by definition
    // (each instance answers from its own memory; invalidations do not cross instances).
    boost::json::object body;
    body["health"] = {{"status", "degraded"},
                      {"issues",
                       {std::string("no Redis (") + std::string(mode_name(services_.redis_mode)) +
                        "): serving from the in-process tier alone"}}};
    body["mode"] = "l1_only";
    co_return json_response(req, http::status::ok, boost::json::serialize(body));
  }
  // A dashboard polling every second gets the last probe (they run every 15 s); an older one is
  // probed again now, so the answer is never more than 5 s old.
  auto report = services_.health->last_report();
  if (!report || std::chrono::system_clock::now() - report->timestamp > std::chrono::seconds(5)) {
    report = co_await services_.health->check();
  }
  auto body = health::to_json(*report);
  body["mode"] = "two_tier";
  co_return json_response(req, http::status::ok, boost::json::serialize(body));
}

Response RestApi::metrics(const Request& req) const {
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, std::string(metrics::kTextContentType));
  res.keep_alive(req.keep_alive());
  res.body() = services_.registry->scrape();
  res.prepare_payload();
  return res;
}

Response RestApi::stats_json(const Request& req) const {
  boost::json::object body = stats_counters(*services_.namespaces);
  // mode is how the daemon runs, degraded whether it runs below that now: a namespace's breaker
  // is open (two_tier), or Redis was configured but not reached at start (l1_only), as /readyz.
  body["mode"] = services_.l1_only() ? "l1_only" : "two_tier";
  body["degraded"] = body["degraded"].as_bool() || services_.redis_mode == RedisMode::unreachable;
  body["uptime_s"] = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::steady_clock::now() - services_.started)
                         .count();
  return json_response(req, http::status::ok, boost::json::serialize(body));
}

std::optional<Response> RestApi::admin_refusal(const Request& req) const {
  const std::string& token = services_.config->admin_token;
  if (token.empty()) {
    return error_response(req, ApiError::not_found("route_not_found",
                                                   "the admin API is off (set server.admin_token "
                                                   "to turn it on)"));
  }
  const auto h = req.find(http::field::authorization);
  const std::string_view given = h == req.end() ? std::string_view{} : std::string_view(h->value());
  const std::string expected = "Bearer " + token;
  // Constant time: the comparison must not tell how much of a guess was right.
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    auto res = error_response(req, ApiError{http::status::unauthorized, "unauthorized",
                                            "a valid 'Authorization: Bearer <token>' header is "
                                            "required"});
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  return std::nullopt;
}

asio::awaitable<Response> RestApi::clear_namespace(Request req, Match m) {
  if (auto refused = admin_refusal(req)) co_return std::move(*refused);
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = services_.namespaces->find(m.param("ns"));
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto r = co_await ns->cache->invalidate_namespace();
  if (!r) co_return error_response(req, cache_error(*ns, r.error()));
  boost::json::object body;
  body["cleared"] = ns->config.name;
  co_return json_response(req, http::status::ok, boost::json::serialize(body));
}

Response RestApi::reset_stats(const Request& req) {
  if (auto refused = admin_refusal(req)) return std::move(*refused);
  services_.registry->reset();
  for (const auto& ns : services_.namespaces->all()) ns->reset_stats();
  return json_response(req, http::status::ok, R"({"reset":true})");
}

// Warming, one item at a time and in order (a bounded, gentle load on the upstream): proxy paths
// are fetched as a client's GET would be (stored when cacheable), and namespace keys are read so
// that L1 holds what Redis has. Each item reports its own outcome; the call fails only on bad
// input.
asio::awaitable<Response> RestApi::warm(Request req, Match m) {
  if (auto refused = admin_refusal(req)) co_return std::move(*refused);
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto body = read_json_object(req.body(), {"paths", "namespace", "keys"});
  if (auto* e = std::get_if<ApiError>(&body)) co_return error_response(req, *e);
  const auto& obj = std::get<0>(body);
  constexpr std::size_t kMaxWarm = 1000;
  std::vector<std::string> paths;
  std::vector<std::string> keys;
  if (const auto* v = obj.if_contains("paths")) {
    auto list = string_array(*v, "paths", kMaxWarm);
    if (auto* e = std::get_if<ApiError>(&list)) co_return error_response(req, *e);
    paths = std::get<0>(std::move(list));
  }
  std::shared_ptr<Namespace> ns;
  if (const auto* v = obj.if_contains("keys")) {
    const auto* name = obj.if_contains("namespace");
    if (name == nullptr || !name->is_string()) {
      co_return error_response(
          req, ApiError::bad_request("invalid_argument", "keys need a \"namespace\" string"));
    }
    auto found = services_.namespaces->find(std::string_view(name->as_string()));
    if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
    ns = std::get<0>(std::move(found));
    auto list = string_array(*v, "keys", kMaxWarm);
    if (auto* e = std::get_if<ApiError>(&list)) co_return error_response(req, *e);
    keys = std::get<0>(std::move(list));
    for (const auto& k : keys) {
      if (auto e = check_key(k)) co_return error_response(req, *e);
    }
  }
  if (paths.empty() && keys.empty()) {
    co_return error_response(
        req,
        ApiError::bad_request("invalid_argument", "give \"paths\", or \"namespace\" and \"keys\""));
  }
  boost::json::array results;
  std::size_t warmed = 0;
  for (const auto& path : paths) {
    boost::json::object item{{"path", path}};
    const proxy::Route* route =
        services_.proxy != nullptr ? services_.proxy->route_for(path) : nullptr;
    if (route == nullptr || path.empty() || path.front() != '/') {
      item["error"] = "no proxy route takes this path";
    } else {
      Request get{http::verb::get, path, 11};
      get.keep_alive(false);
      const Response res = to_message(co_await services_.proxy->handle(std::move(get), *route));
      item["status"] = res.result_int();
      const auto x_cache = res.find("X-Cache");
      if (x_cache != res.end()) item["cache"] = std::string_view(x_cache->value());
      if (res.result_int() < 400) ++warmed;
    }
    results.push_back(std::move(item));
  }
  for (const auto& key : keys) {
    auto r = co_await ns->cache->get(key);
    boost::json::object item{{"namespace", ns->config.name}, {"key", key}};
    if (r) {
      item["hit"] = r->hit();
      if (r->hit()) ++warmed;
    } else {
      item["error"] = r.error().message();
    }
    results.push_back(std::move(item));
  }
  boost::json::object out{{"warmed", warmed}, {"results", std::move(results)}};
  co_return json_response(req, http::status::ok, boost::json::serialize(out));
}

// POST counts a request against the limit (200 admitted, 429 refused). GET is the peek: what a
// POST with the same key and cost would answer now, counting nothing, and always 200 (the answer
// is the body, not the status: a monitor's GET is not itself rate-limited).
asio::awaitable<Response> RestApi::rate_limit(Request req, Match m) {
  const bool peek = req.method() == http::verb::get;
  const std::string& name = m.param("name");
  std::string key = "default";
  std::uint32_t cost = 1;
  for (const auto& [k, v] : m.query) {
    if (k == "key") {
      if (v.empty() || v.size() > 256 || check_tag(v)) {
        co_return error_response(
            req, ApiError::bad_request("invalid_argument",
                                       "key must be 1-256 bytes without control characters"));
      }
      key = v;
    } else if (k == "cost") {
      std::uint64_t n = 0;
      bool ok = !v.empty() && v.size() <= 9;
      for (const char c : v) ok = ok && c >= '0' && c <= '9';
      if (ok) n = std::stoull(v);
      if (!ok || n == 0) {
        co_return error_response(
            req, ApiError::bad_request("invalid_argument", "cost must be a positive integer"));
      }
      cost = static_cast<std::uint32_t>(n);
    } else {
      co_return error_response(
          req, ApiError::bad_request("unknown_parameter",
                                     "unknown query parameter '" + k + "' (known: key, cost)"));
    }
  }
  const bool listed =
      std::any_of(services_.config->rate_limits.begin(), services_.config->rate_limits.end(),
                  [&](const RateLimitConfig& r) { return r.name == name; });
  if (!listed) {
    co_return error_response(
        req, ApiError::not_found(
                 "ratelimit_not_found",
                 "no rate limit '" + name + "' is configured ([ratelimits." + name + "])"));
  }
  auto it = services_.limiters.find(name);
  if (it == services_.limiters.end()) {
    co_return error_response(req,
                             ApiError{http::status::service_unavailable, "ratelimit_unavailable",
                                      "rate limits need Redis; the daemon runs on L1 alone"});
  }
  auto limiter = it->second;
  // Awaitables are lazy: the one not chosen never runs.
  auto decide = peek ? limiter.peek(name + ":" + key, cost) : limiter.allow(name + ":" + key, cost);
  auto d = co_await std::move(decide);
  if (!d) co_return error_response(req, from_error_code(d.error()));
  const auto now = std::chrono::system_clock::now();
  const auto reset_s = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::seconds>(d->reset_at - now).count());
  const auto retry_s = (d->retry_after.count() + 999'999) / 1'000'000;
  Response res;
  if (d->allowed || peek) {
    boost::json::object body;
    body["allowed"] = d->allowed;
    body["limit"] = d->limit;
    body["remaining"] = d->remaining;
    body["reset_s"] = reset_s;
    if (peek) body["retry_after_s"] = d->allowed ? 0 : std::max<std::int64_t>(1, retry_s);
    res = json_response(req, http::status::ok, boost::json::serialize(body));
  } else {
    res = error_response(req, ApiError{http::status::too_many_requests, "rate_limited",
                                       "rate limit '" + name + "' exceeded; retry after " +
                                           std::to_string(retry_s) + " s"});
    res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(1, retry_s)));
  }
  // draft-ietf-httpapi-ratelimit-headers.
  res.set("RateLimit-Limit", std::to_string(d->limit));
  res.set("RateLimit-Remaining", std::to_string(d->remaining));
  res.set("RateLimit-Reset", std::to_string(reset_s));
  if (d->degraded()) res.set("X-RateLimit-Degraded", "true");
  res.prepare_payload();
  co_return res;
}

}  // namespace tiercache::server
