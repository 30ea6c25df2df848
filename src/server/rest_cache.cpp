// The single-key cache endpoints: GET, PUT and DELETE /v1/cache/{ns}/{key}, and .../{key}/ttl.
//
// Timing (tiercache_operation_duration_seconds{namespace,operation}, docs/decisions/0009): an
// operation is timed from the request's start, read once by RestApi::handle, to its end, one
// clock read here. A read answered by L1 is not timed: it is counted by the cache
// (tiercache_cache_requests_total{tier="l1"}) and its request by RestApi::handle, and timing it
// here too would cost more than the 5% of an L1 hit issue #5 allows metrics; reads that went
// past L1 (Redis, a loader, stale, failures) are.

#include "server/etag.hpp"
#include "server/request_input.hpp"
#include "server/rest_api.hpp"
#include "server/value_envelope.hpp"

#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <chrono>
#include <string_view>

namespace tiercache::server {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

// The namespace and checked key of a request, or the error to answer.
std::variant<std::shared_ptr<Namespace>, ApiError> namespace_and_key(Namespaces& namespaces,
                                                                     const Match& m) {
  if (auto e = check_key(m.param("key"))) return *e;
  return namespaces.find(m.param("ns"));
}

// Whether a read's answer is timed: everything but a hit in L1.
bool timed(const Result<cache::ReadResult>& r) noexcept {
  return !r || r->source != cache::Source::l1;
}

}  // namespace

ApiError cache_error(const Namespace& ns, error_code ec) {
  ApiError e = from_error_code(ec);
  if (e.code == "redis_unavailable" && ns.redis && ns.redis->degraded()) {
    e.message = "Redis is unavailable: circuit breaker " + ns.redis->breaker().name() + " is " +
                std::string(resilience::to_string(ns.redis->state())) +
                ", so requests that need Redis fail at once until it answers again (values "
                "held in L1 are still served)";
  }
  return e;
}

asio::awaitable<Reply> RestApi::get_value(Request req, Match m, TimePoint start) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = namespace_and_key(*services_.namespaces, m);
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto r = co_await ns->cache->get(m.param("key"));
  if (timed(r)) ns->counters.get_seconds->observe(steady_clock::now() - start);
  if (!r) co_return error_response(req, cache_error(*ns, r.error()));
  if (!r->hit()) {
    auto res = error_response(req, ApiError::not_found("key_not_found", "no value under key"));
    res.set("X-Cache", "MISS");
    co_return res;
  }
  const auto& entry = *r->entry;
  const std::string etag = etag_of(entry);
  const auto now = system_clock::now();
  const auto age =
      std::chrono::duration_cast<std::chrono::seconds>(std::max(now - entry.created, {}));
  std::array<char, 24> digits{};
  const std::string_view age_text(
      digits.data(), std::to_chars(digits.data(), digits.data() + digits.size(), age.count()).ptr);
  const std::string_view x_cache = r->stale ? "STALE" : "HIT";
  const std::string_view tier = r->source == cache::Source::l1 ? "l1" : "l2";
  const auto inm = req.find(http::field::if_none_match);
  if (inm != req.end() && if_none_match(inm->value(), etag)) {
    Response res{http::status::not_modified, req.version()};
    res.keep_alive(req.keep_alive());
    res.set(http::field::etag, etag);
    res.set(http::field::age, age_text);
    res.set("X-Cache", x_cache);
    res.set("X-Cache-Tier", tier);
    if (r->degraded) res.set("X-Cache-Degraded", "true");
    co_return res;
  }
  // A hit: written as text, its body the entry's own bytes (no copy of the value).
  const auto value = unwrap_value(entry.value, entry.codec);
  PrebuiltResponse res(http::status::ok, req);
  res.field("ETag", etag);
  res.field("Age", age_text);
  res.field("X-Cache", x_cache);
  res.field("X-Cache-Tier", tier);
  if (r->degraded) res.field("X-Cache-Degraded", "true");
  // A stored Content-Type that is not a valid field value (another writer's bytes) is left out.
  res.field("Content-Type", value.content_type);
  res.body(r->entry, value.body);
  co_return res;
}

asio::awaitable<Response> RestApi::put_value(Request req, Match m, TimePoint start) {
  auto found = namespace_and_key(*services_.namespaces, m);
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto opts = read_write_options(req, m, ns->config);
  if (auto* e = std::get_if<ApiError>(&opts)) co_return error_response(req, *e);
  const std::string content_type(req[http::field::content_type]);
  if (content_type.size() > 255) {
    co_return error_response(req, ApiError::bad_request("invalid_content_type",
                                                        "Content-Type is longer than 255 bytes"));
  }
  if (req.body().size() > ns->config.max_value_size) {
    co_return error_response(req,
                             ApiError{http::status::payload_too_large, "value_too_large",
                                      "the value exceeds this namespace's max_value_size (" +
                                          std::to_string(ns->config.max_value_size) + " bytes)"});
  }
  auto stored = wrap_value(std::move(req.body()), content_type);
  auto options = std::get<cache::WriteOptions>(std::move(opts));
  options.codec = stored.codec;
  auto r = co_await ns->cache->set(m.param("key"), std::move(stored.bytes), std::move(options));
  ns->counters.set_seconds->observe(steady_clock::now() - start);
  if (!r) {
    ns->counters.write_errors->inc();
    co_return error_response(req, cache_error(*ns, r.error()));
  }
  ns->counters.sets->inc();
  Response res{http::status::no_content, req.version()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  co_return res;
}

asio::awaitable<Response> RestApi::delete_value(Request req, Match m, TimePoint start) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = namespace_and_key(*services_.namespaces, m);
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  auto r = co_await ns->cache->del(m.param("key"));
  ns->counters.delete_seconds->observe(steady_clock::now() - start);
  if (!r) {
    ns->counters.write_errors->inc();
    co_return error_response(req, cache_error(*ns, r.error()));
  }
  ns->counters.deletes->inc();
  boost::json::object body;
  body["deleted"] = *r;
  co_return json_response(req, http::status::ok, boost::json::serialize(body));
}

asio::awaitable<Response> RestApi::get_ttl(Request req, Match m, TimePoint start) {
  if (auto e = no_query(m)) co_return error_response(req, *e);
  auto found = namespace_and_key(*services_.namespaces, m);
  if (auto* e = std::get_if<ApiError>(&found)) co_return error_response(req, *e);
  const auto ns = std::get<0>(std::move(found));
  const std::string key = m.param("key");
  auto r = co_await ns->cache->get(key);
  if (timed(r)) ns->counters.get_seconds->observe(steady_clock::now() - start);
  if (!r) co_return error_response(req, cache_error(*ns, r.error()));
  if (!r->hit()) {
    co_return error_response(req, ApiError::not_found("key_not_found", "no value under key"));
  }
  const auto now = system_clock::now();
  const auto left = [&](system_clock::time_point t) {
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count());
  };
  boost::json::object body;
  body["key"] = key;
  // fresh_ms: served as fresh this long; ttl_ms: gone (past its grace) after this long.
  body["fresh_ms"] = left(r->entry->fresh_until);
  body["ttl_ms"] = left(r->entry->stale_until);
  body["stale"] = r->stale;
  co_return json_response(req, http::status::ok, boost::json::serialize(body));
}

}  // namespace tiercache::server
