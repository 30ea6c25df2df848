// Proxy: the paths through it. A cached GET: parse and key the request, then get_or_load on the
// route's namespace with fetch_for_cache as the (adaptive) loader, which asks the rate limit,
// calls the upstream, and decides from the answer whether and how long to keep it. A bypass
// (other methods, or Cache-Control: no-cache from the client) calls the upstream directly; a
// bypassed GET still refreshes the cache with what it got.

#include "server/proxy/proxy.hpp"

#include "tiercache/cache/error.hpp"
#include "tiercache/ratelimit/error.hpp"
#include "tiercache/ratelimit/rate_limited_loader.hpp"

#include "server/config.hpp"
#include "server/proxy/error.hpp"
#include "server/proxy/freshness.hpp"
#include "server/proxy/stored_response.hpp"

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>

namespace tiercache::server::proxy {

using std::chrono::milliseconds;

// How the route's answers went, for /metrics: tiercache_proxy_requests_total{route,cache} and
// tiercache_proxy_upstream_requests_total{route,outcome}, with the upstream's latency.
struct RouteMetrics {
  metrics::Counter* hit;
  metrics::Counter* miss;
  metrics::Counter* stale;
  metrics::Counter* bypass;
  metrics::Counter* errors;
  std::array<metrics::Counter*, 6> upstream;  // 1xx..5xx by status class, [0]: no answer
  metrics::Histogram* upstream_seconds;
};

struct Proxy::RouteState {
  Route route;
  std::shared_ptr<Upstream> upstream;
  std::optional<ratelimit::Limiter> limiter;
  RouteMetrics metrics;
};

// One upstream fetch: what fetch_for_cache needs, kept alive by itself (the cache runs loaders
// detached, so one may outlive the request that started it). It keeps the client's request and
// builds the upstream one only when a loader runs: a hit never needs it.
struct Proxy::Fetch {
  std::shared_ptr<const Proxy::RouteState> state;
  std::shared_ptr<const cache::TtlPolicy> ttl_policy;
  Request client;
  RouteRequest in;
  std::optional<std::chrono::sys_days> date;
  // What the loader saw, for the error its caller answers with.
  std::atomic<unsigned> upstream_status{0};
  std::atomic<std::int64_t> retry_after_ms{0};
};

namespace {

using Fetch = Proxy::Fetch;

// The result count the TTL policy's rules look at: the JSON field's array length, or its number.
std::optional<std::size_t> results_of(const Response& res, const std::string& field) {
  if (field.empty()) return std::nullopt;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(res.body(), ec);
  if (ec || !doc.is_object()) return std::nullopt;
  const auto* value = doc.as_object().if_contains(field);
  if (value == nullptr) return std::nullopt;
  if (value->is_array()) return value->as_array().size();
  if (value->is_uint64()) return static_cast<std::size_t>(value->as_uint64());
  if (value->is_int64() && value->as_int64() >= 0) {
    return static_cast<std::size_t>(value->as_int64());
  }
  return std::nullopt;
}

// Sets how long the answer is kept, and whether: the route's policy, or the origin's headers.
void decide_freshness(const Fetch& fetch, const Response& res, cache::LoadContext& context) {
  const RouteConfig& cfg = fetch.state->route.config();
  milliseconds fresh{};
  if (cfg.ttl) {
    fresh = *cfg.ttl;
  } else {
    const cache::TtlInput input{.date = fetch.date, .results = results_of(res, cfg.results_field)};
    fresh = fetch.ttl_policy->ttl_for(cfg.data_type, input).fresh;
  }
  milliseconds revalidate = cfg.stale_while_revalidate;
  milliseconds if_error = cfg.stale_if_error;
  context.store = fetch.state->route.cacheable_status(res.result_int());
  if (cfg.respect_origin) {
    const auto origin = origin_freshness(res, std::chrono::system_clock::now());
    context.store = context.store && origin.storable;
    fresh = origin.fresh.value_or(fresh);
    revalidate = origin.stale_while_revalidate.value_or(revalidate);
    if_error = origin.stale_if_error.value_or(if_error);
  }
  context.ttl = fresh;
  context.grace = std::max(revalidate, if_error);
}

void count_upstream(const RouteMetrics& m, const Result<Response>& res, milliseconds took) {
  const std::size_t status_class = res ? std::min<std::size_t>(res->result_int() / 100, 5) : 0;
  m.upstream[status_class]->inc();
  m.upstream_seconds->observe(took);
}

// The loader: rate limit, upstream call, and the decision to keep the answer. 5xx and 429 are
// failures (so fail-safe serves stale); other statuses are answers, kept when cacheable.
asio::awaitable<Result<std::string>> fetch_for_cache(std::shared_ptr<Fetch> fetch,
                                                     cache::LoadContext& context) {
  const auto& state = *fetch->state;
  const RouteConfig& cfg = state.route.config();
  if (state.limiter) {
    auto decision = co_await ratelimit::acquire(*state.limiter, "proxy:" + cfg.name,
                                                {.max_wait = cfg.rate_limit_wait});
    if (!decision) co_return decision.error();
    if (!decision->allowed) {
      fetch->retry_after_ms =
          std::chrono::duration_cast<milliseconds>(decision->retry_after).count();
      co_return ratelimit::Errc::rate_limited;
    }
  }
  Request upstream = state.route.upstream_request(fetch->in, fetch->client);
  upstream.method(http::verb::get);  // a HEAD is fetched as its GET, to be kept
  const auto start = std::chrono::steady_clock::now();
  auto res = co_await state.upstream->send(std::move(upstream));
  count_upstream(
      state.metrics, res,
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start));
  if (!res) co_return res.error();
  fetch->upstream_status = res->result_int();
  if (res->result_int() >= 500 || res->result_int() == 429) {
    co_return Errc::upstream_error_status;
  }
  decide_freshness(*fetch, *res, context);
  co_return encode_response(keep_for_cache(*res));
}

// The client's answer from a stored response; `owner` keeps the bytes `stored` views alive.
// With a body it is written as text, the body shared with the entry (PrebuiltResponse); a
// bodiless status (1xx, 204, 304) goes through a Beast message.
Reply answer(const Request& req, const StoredResponse& stored, std::string_view x_cache,
             std::chrono::seconds age, std::shared_ptr<const void> owner) {
  std::array<char, 24> digits{};
  const std::string_view age_text(digits.data(),
                                  std::to_chars(digits.data(), digits.data() + digits.size(),
                                                std::max<std::int64_t>(0, age.count()))
                                      .ptr);
  const auto status = static_cast<http::status>(stored.status);
  if (PrebuiltResponse::carries_body(stored.status)) {
    PrebuiltResponse res(status, req);
    // A stored header that would break the header block (bytes from Redis) is left out.
    for (const auto& [name, value] : stored.headers) res.field(name, value);
    res.field("X-Cache", x_cache);
    res.field("Age", age_text);
    res.body(std::move(owner), stored.body);
    return res;
  }
  Response res{status, req.version()};
  // insert, not set: none of these is there yet (set would look for it first).
  for (const auto& [name, value] : stored.headers) res.insert(name, value);
  res.insert("X-Cache", x_cache);
  res.insert(http::field::age, age_text);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

ApiError fetch_error(error_code ec, const Fetch& fetch) {
  const auto status = fetch.upstream_status.load();
  if (ec == Errc::upstream_error_status) {
    return {http::status::bad_gateway, "upstream_error",
            status != 0 ? "the upstream answered " + std::to_string(status)
                        : "the upstream answered with an error status"};
  }
  if (ec == Errc::upstream_timeout || ec == cache::Errc::loader_timeout) {
    return {http::status::gateway_timeout, "upstream_timeout",
            "the upstream did not answer in time"};
  }
  if (ec == ratelimit::Errc::rate_limited) {
    return {http::status::too_many_requests, "upstream_rate_limited",
            "the upstream's rate limit is used up; retry later"};
  }
  if (ec.category() == category()) {
    return {http::status::bad_gateway, "upstream_failed", ec.message()};
  }
  return from_error_code(ec);
}

Response error_answer(const Request& req, error_code ec, const Fetch& fetch) {
  Response res = error_response(req, fetch_error(ec, fetch));
  if (res.result() == http::status::too_many_requests) {
    const auto ms = std::max<std::int64_t>(fetch.retry_after_ms.load(), 1);
    res.set(http::field::retry_after, std::to_string((ms + 999) / 1000));
  }
  return res;
}

// Hop-by-hop headers (RFC 9110 7.6.1) are the connection's, not the message's.
bool hop_by_hop(std::string_view name) {
  using boost::beast::iequals;
  for (std::string_view h :
       {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "proxy-authenticate", "proxy-authorization"}) {
    if (iequals(name, h)) return true;
  }
  return false;
}

RouteMetrics route_metrics(metrics::Registry& registry, const std::string& route) {
  auto& requests =
      registry.counter("tiercache_proxy_requests_total",
                       "Proxied requests by route and cache outcome.", {"route", "cache"});
  auto& upstream = registry.counter("tiercache_proxy_upstream_requests_total",
                                    "Upstream calls by route and status class (none: no answer).",
                                    {"route", "status"});
  auto& seconds = registry.histogram(
      "tiercache_proxy_upstream_duration_seconds", "Upstream call latency by route.", {"route"},
      {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  RouteMetrics m{.hit = &requests.with({route, "HIT"}),
                 .miss = &requests.with({route, "MISS"}),
                 .stale = &requests.with({route, "STALE"}),
                 .bypass = &requests.with({route, "BYPASS"}),
                 .errors = &requests.with({route, "ERROR"}),
                 .upstream = {},
                 .upstream_seconds = &seconds.with({route})};
  static constexpr std::array<std::string_view, 6> kClasses = {"none", "1xx", "2xx",
                                                               "3xx",  "4xx", "5xx"};
  for (std::size_t i = 0; i < kClasses.size(); ++i) {
    m.upstream[i] = &upstream.with({std::string_view(route), kClasses[i]});
  }
  return m;
}

std::shared_ptr<const cache::TtlPolicy> load_ttl_policy(const ProxyConfig& config) {
  if (config.ttl_policy.empty()) {
    return std::make_shared<const cache::TtlPolicy>(cache::TtlPolicy::defaults());
  }
  auto policy = cache::TtlPolicy::from_toml_file(config.ttl_policy);
  if (!policy) {
    const auto& e = policy.error();
    throw ConfigError("proxy.ttl_policy" + (e.field.empty() ? "" : ": " + e.field),
                      config.ttl_policy, e.line, e.column, e.message);
  }
  return std::make_shared<const cache::TtlPolicy>(std::move(*policy));
}

}  // namespace

Proxy::Proxy(asio::any_io_executor executor, Services& services)
    : services_(services), ttl_policy_(load_ttl_policy(services.config->proxy)) {
  for (const auto& cfg : services.config->proxy.routes) {
    UpstreamOptions options{.base_url = cfg.upstream,
                            .max_connections = cfg.max_connections,
                            .connect_timeout = cfg.connect_timeout,
                            .timeout = cfg.timeout,
                            .max_body_bytes = cfg.max_body_bytes,
                            .ca_file = cfg.ca_file,
                            .verify_tls = cfg.verify_tls};
    auto state = std::make_shared<RouteState>(
        RouteState{.route = Route(cfg),
                   .upstream = std::make_shared<Upstream>(executor, std::move(options)),
                   .limiter = std::nullopt,
                   .metrics = route_metrics(*services.registry, cfg.name)});
    if (!cfg.rate_limit.empty()) {
      if (auto it = services.limiters.find(cfg.rate_limit); it != services.limiters.end()) {
        state->limiter = it->second;
      } else {
        spdlog::warn("proxy route {}: rate limit {} is not enforced without Redis", cfg.name,
                     cfg.rate_limit);
      }
    }
    spdlog::info("proxy route {}: {} -> {} (namespace {})", cfg.name, cfg.prefix, cfg.upstream,
                 cfg.ns);
    routes_.push_back(std::move(state));
  }
}

Proxy::~Proxy() { close(); }

void Proxy::close() {
  for (const auto& state : routes_) state->upstream->close();
}

const Route* Proxy::route_for(std::string_view target) const noexcept {
  const std::string_view path = target.substr(0, target.find('?'));
  const Route* best = nullptr;
  for (const auto& state : routes_) {
    const Route& route = state->route;
    if (route.takes(path) &&
        (best == nullptr || route.config().prefix.size() > best->config().prefix.size())) {
      best = &route;
    }
  }
  return best;
}

asio::awaitable<Reply> Proxy::handle(Request req, const Route& route) {
  std::shared_ptr<const RouteState> state = *std::find_if(
      routes_.begin(), routes_.end(), [&](const auto& s) { return &s->route == &route; });
  auto parsed = route.parse(req);
  if (auto* err = std::get_if<ApiError>(&parsed)) {
    state->metrics.errors->inc();
    co_return error_response(req, *err);
  }
  // A HEAD is served as its GET (the session sends only the header), so both share the entry.
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  const bool cached = get && !client_bypasses_cache(req);
  auto fetch = std::make_shared<Fetch>();
  fetch->state = std::move(state);
  fetch->ttl_policy = ttl_policy_;
  fetch->in = std::get<RouteRequest>(std::move(parsed));
  fetch->date = route.date_of(fetch->in);
  fetch->client = std::move(req);
  if (cached) co_return co_await cached_get(std::move(fetch));
  co_return co_await bypass(std::move(fetch));
}

asio::awaitable<Reply> Proxy::cached_get(std::shared_ptr<Fetch> fetch) {
  // Read only, here and by the loader: the fetch keeps it for both.
  const Request& req = fetch->client;
  const RouteRequest& in = fetch->in;
  const RouteState& state = *fetch->state;
  const Route& route = state.route;
  const RouteConfig& cfg = route.config();
  auto key = route.key_for(in, req);
  if (!key) {
    state.metrics.errors->inc();
    co_return error_response(req, from_error_code(key.error()));
  }
  auto found = services_.namespaces->find(cfg.ns);
  if (auto* err = std::get_if<ApiError>(&found)) co_return error_response(req, *err);
  auto ns = std::get<std::shared_ptr<Namespace>>(std::move(found));

  cache::AdaptiveLoader loader = [fetch](cache::LoadContext& context) {
    return fetch_for_cache(fetch, context);
  };
  cache::LoadPolicy policy{
      .write = {.ttl = cfg.ttl, .grace = std::max(cfg.stale_while_revalidate, cfg.stale_if_error)},
      .stale_while_revalidate = cfg.stale_while_revalidate > milliseconds(0),
      .revalidate_window = cfg.stale_while_revalidate,
      .fail_safe = cfg.stale_if_error > milliseconds(0),
      // The upstream's own timeouts answer first, with their own error.
      .hard_timeout = cfg.timeout + cfg.connect_timeout + cfg.rate_limit_wait + milliseconds(1000)};
  auto r = co_await ns->cache->get_or_load(std::move(*key), std::move(loader), policy);
  if (!r || !r->hit()) {
    state.metrics.errors->inc();
    co_return error_answer(req, r ? r->error : r.error(), *fetch);
  }
  auto stored = decode_response(r->value());
  if (!stored) {
    spdlog::error("proxy route {}: a cached value is not a stored response", cfg.name);
    state.metrics.errors->inc();
    co_return error_response(req, ApiError{http::status::internal_server_error, "corrupt_entry",
                                           "the cached response could not be read"});
  }
  std::string_view x_cache = "HIT";
  auto* counter = state.metrics.hit;
  if (r->source == cache::Source::loader) {
    x_cache = "MISS";
    counter = state.metrics.miss;
  } else if (r->source == cache::Source::stale) {
    x_cache = "STALE";
    counter = state.metrics.stale;
  }
  counter->inc();
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now() - r->entry->created) +
                   std::chrono::seconds(stored->upstream_age);
  co_return answer(req, *stored, x_cache, age, r->entry);
}

asio::awaitable<Reply> Proxy::bypass(std::shared_ptr<Fetch> fetch) {
  const Request& req = fetch->client;
  const RouteRequest& in = fetch->in;
  const RouteState& state = *fetch->state;
  const Route& route = state.route;
  state.metrics.bypass->inc();
  if (req.method() == http::verb::get || req.method() == http::verb::head) {
    // A refresh the client asked for: fetched now, and kept when the answer may be.
    cache::LoadContext context;
    auto bytes = co_await fetch_for_cache(fetch, context);
    if (!bytes) co_return error_answer(req, bytes.error(), *fetch);
    auto key = route.key_for(in, req);
    auto found = services_.namespaces->find(route.config().ns);
    if (context.store && key && std::holds_alternative<std::shared_ptr<Namespace>>(found)) {
      auto& ns = std::get<std::shared_ptr<Namespace>>(found);
      auto written = co_await ns->cache->set(
          std::move(*key), *bytes, cache::WriteOptions{.ttl = context.ttl, .grace = context.grace});
      if (!written) {
        spdlog::warn("proxy route {}: a refreshed response was not kept: {}", route.name(),
                     written.error().message());
      }
    }
    // fetch_for_cache wrote these bytes itself: they decode.
    auto owned = std::make_shared<const std::string>(std::move(*bytes));
    auto stored = decode_response(*owned);
    co_return answer(req, *stored, "BYPASS", std::chrono::seconds(stored->upstream_age),
                     std::move(owned));
  }
  // Not a GET: passed through as it is, never cached.
  const auto start = std::chrono::steady_clock::now();
  auto res = co_await state.upstream->send(route.upstream_request(in, req));
  count_upstream(
      state.metrics, res,
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start));
  if (!res) co_return error_answer(req, res.error(), *fetch);
  Response out{res->result(), req.version()};
  for (const auto& field : *res) {
    if (!hop_by_hop(field.name_string())) out.insert(field.name_string(), field.value());
  }
  out.set("X-Cache", "BYPASS");
  out.body() = std::move(res->body());
  out.keep_alive(req.keep_alive());
  out.prepare_payload();
  co_return out;
}

}  // namespace tiercache::server::proxy
