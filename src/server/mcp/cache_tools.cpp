// The cache tools. Each handler is a named coroutine taking its arguments by value; the registry
// holds a non-coroutine lambda that calls it. The argument schemas are checked before a handler
// runs (tool.cpp); here the meaning is checked with the REST API's readers (request_input.hpp),
// whose messages name the argument and what it expects, and a library failure becomes an error
// result with the REST API's code ("redis_unavailable: ...").

#include "server/mcp/cache_tools.hpp"

#include "tiercache/base/json_text.hpp"

#include "server/request_input.hpp"
#include "server/stats_counters.hpp"
#include "server/value_envelope.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>

namespace tiercache::server::mcp {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

json::object schema(std::string_view text) { return json::parse(text).as_object(); }

ToolResult refused(std::string_view tool, const ApiError& e) {
  return ToolResult::error(std::string(tool) + ": " + e.code + ": " + e.message);
}

std::string known_namespaces(const Namespaces& namespaces) {
  std::string out;
  for (const auto& ns : namespaces.all()) out += (out.empty() ? "" : ", ") + ns->config.name;
  return out.empty() ? "none" : out;
}

// The namespace named by arguments.namespace, or the error result naming the configured ones.
std::variant<std::shared_ptr<Namespace>, ToolResult> namespace_of(std::string_view tool,
                                                                  Services& services,
                                                                  const json::object& args) {
  const std::string name(args.at("namespace").as_string());
  auto found = services.namespaces->find(name);
  if (auto* e = std::get_if<ApiError>(&found)) {
    if (e->code == "namespace_not_found") {
      return ToolResult::error(
          std::string(tool) + ": namespace '" + name +
          "' is not configured; use one of: " + known_namespaces(*services.namespaces));
    }
    return refused(tool, *e);
  }
  return std::get<0>(std::move(found));
}

std::int64_t ms_until(system_clock::time_point t, system_clock::time_point now) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count());
}

asio::awaitable<ToolResult> cache_get(Services& services, json::object args) {
  auto found = namespace_of("cache_get", services, args);
  if (auto* r = std::get_if<ToolResult>(&found)) co_return std::move(*r);
  const auto ns = std::get<0>(std::move(found));
  const std::string key(args.at("key").as_string());
  if (auto e = check_key(key)) co_return refused("cache_get", *e);
  auto r = co_await ns->cache->get(key);
  if (!r) co_return refused("cache_get", from_error_code(r.error()));
  json::object out{{"namespace", ns->config.name}, {"key", key}, {"hit", r->hit()}};
  if (r->hit()) {
    const auto& entry = *r->entry;
    const auto value = unwrap_value(entry.value, entry.codec);
    if (is_valid_utf8(value.body)) {
      out["value"] = value.body;
    } else {
      out["value_base64"] = base64_encode(value.body);
    }
    out["content_type"] = value.content_type;
    out["stale"] = r->stale;
    out["tier"] = r->source == cache::Source::l1 ? "l1" : "l2";
    const auto now = system_clock::now();
    out["fresh_ms"] = ms_until(entry.fresh_until, now);
    out["ttl_ms"] = ms_until(entry.stale_until, now);
  }
  if (r->degraded) out["degraded"] = true;
  co_return ToolResult::ok(std::move(out));
}

asio::awaitable<ToolResult> cache_set(Services& services, json::object args) {
  auto found = namespace_of("cache_set", services, args);
  if (auto* r = std::get_if<ToolResult>(&found)) co_return std::move(*r);
  const auto ns = std::get<0>(std::move(found));
  const std::string key(args.at("key").as_string());
  if (auto e = check_key(key)) co_return refused("cache_set", *e);
  const auto* value = args.if_contains("value");
  const auto* b64 = args.if_contains("value_base64");
  if ((value == nullptr) == (b64 == nullptr)) {
    co_return ToolResult::error(
        "cache_set: give exactly one of 'value' (a string, or any JSON value, stored as "
        "application/json) and 'value_base64' (bytes in base64)");
  }
  std::string body;
  std::string content_type;
  if (const auto* ct = args.if_contains("content_type")) content_type = ct->as_string();
  if (value != nullptr) {
    if (value->is_string()) {
      body = value->as_string();
    } else {
      body = json::serialize(*value);
      if (content_type.empty()) content_type = "application/json";
    }
  } else {
    auto decoded = base64_decode(b64->as_string());
    if (!decoded) {
      co_return ToolResult::error(
          "cache_set: 'value_base64' is not base64 (RFC 4648, with padding)");
    }
    body = std::move(*decoded);
  }
  if (body.size() > ns->config.max_value_size) {
    co_return ToolResult::error("cache_set: value_too_large: the value has " +
                                std::to_string(body.size()) + " bytes; namespace '" +
                                ns->config.name + "' takes at most " +
                                std::to_string(ns->config.max_value_size));
  }
  auto opts = json_write_options(args, ns->config);
  if (auto* e = std::get_if<ApiError>(&opts)) co_return refused("cache_set", *e);
  auto options = std::get<cache::WriteOptions>(std::move(opts));
  const auto ttl = options.ttl.value_or(ns->config.default_ttl);
  const auto size = body.size();
  auto stored = wrap_value(std::move(body), content_type);
  options.codec = stored.codec;
  auto r = co_await ns->cache->set(key, std::move(stored.bytes), std::move(options));
  if (!r) {
    ns->counters.write_errors->inc();
    co_return refused("cache_set", from_error_code(r.error()));
  }
  ns->counters.sets->inc();
  co_return ToolResult::ok({{"namespace", ns->config.name},
                            {"key", key},
                            {"stored", true},
                            {"bytes", size},
                            {"ttl_ms", ttl.count()}});
}

asio::awaitable<ToolResult> cache_invalidate(Services& services, json::object args) {
  auto found = namespace_of("cache_invalidate", services, args);
  if (auto* r = std::get_if<ToolResult>(&found)) co_return std::move(*r);
  const auto ns = std::get<0>(std::move(found));
  std::vector<std::string> keys;
  std::vector<std::string> tags;
  std::optional<std::string> pattern;
  bool all = false;
  // Every argument is checked before anything is dropped.
  if (const auto* v = args.if_contains("keys")) {
    for (const auto& k : v->as_array()) {
      keys.emplace_back(k.as_string());
      if (auto e = check_key(keys.back())) co_return refused("cache_invalidate", *e);
    }
  }
  if (const auto* v = args.if_contains("tags")) {
    for (const auto& t : v->as_array()) {
      tags.emplace_back(t.as_string());
      if (auto e = check_tag(tags.back())) co_return refused("cache_invalidate", *e);
    }
  }
  if (const auto* v = args.if_contains("pattern")) {
    pattern = std::string(v->as_string());
    if (auto e = check_key(*pattern)) {
      co_return ToolResult::error("cache_invalidate: invalid_pattern: " + e->message);
    }
  }
  if (const auto* v = args.if_contains("all")) all = v->as_bool();
  if (keys.empty() && tags.empty() && !pattern && !all) {
    co_return ToolResult::error(
        "cache_invalidate: name something to invalidate: 'keys' (an array of keys), 'tags', "
        "'pattern' (a glob such as \"user:*\") or 'all': true for the whole namespace");
  }
  json::object out{{"namespace", ns->config.name}};
  if (!keys.empty()) {
    std::uint64_t deleted = 0;
    for (const auto& k : keys) {
      auto r = co_await ns->cache->del(k);
      if (!r) co_return refused("cache_invalidate", from_error_code(r.error()));
      if (*r) ++deleted;
    }
    ns->counters.deletes->inc(deleted);
    out["keys_deleted"] = deleted;
  }
  if (!tags.empty()) {
    const auto n = tags.size();
    auto r = co_await ns->cache->invalidate_tags(std::move(tags));
    if (!r) co_return refused("cache_invalidate", from_error_code(r.error()));
    out["tags_invalidated"] = n;
  }
  if (pattern) {
    auto r = co_await ns->cache->invalidate_pattern(*pattern);
    if (!r) co_return refused("cache_invalidate", from_error_code(r.error()));
    out["pattern_removed"] = *r;
  }
  if (all) {
    auto r = co_await ns->cache->invalidate_namespace();
    if (!r) co_return refused("cache_invalidate", from_error_code(r.error()));
    out["namespace_invalidated"] = true;
  }
  co_return ToolResult::ok(std::move(out));
}

json::object namespace_stats(const Namespace& ns) {
  const cache::CacheStats s = ns.stats();
  const std::uint64_t hits = s.hits_l1 + s.hits_l2 + s.stale_served;
  return {{"hits", hits},
          {"hits_l1", s.hits_l1},
          {"hits_l2", s.hits_l2},
          {"stale_served", s.stale_served},
          {"misses", s.misses},
          {"errors", s.errors},
          {"hit_rate", hit_rate(hits, s.misses + s.errors)},
          {"sets", ns.counters.sets->value()},
          {"deletes", ns.counters.deletes->value()},
          {"l1_bytes", s.l1_bytes},
          {"l1_entries", s.l1_entries},
          {"default_ttl_ms", ns.config.default_ttl.count()},
          {"max_ttl_ms", ns.config.max_ttl.count()},
          {"max_value_size", ns.config.max_value_size}};
}

asio::awaitable<ToolResult> cache_stats(Services& services, json::object args) {
  std::string only;
  if (const auto* v = args.if_contains("namespace")) only = v->as_string();
  json::object namespaces;
  std::uint64_t hits = 0, misses = 0, errors = 0;
  for (const auto& ns : services.namespaces->all()) {
    if (!only.empty() && ns->config.name != only) continue;
    auto o = namespace_stats(*ns);
    hits += o["hits"].to_number<std::uint64_t>();
    misses += o["misses"].to_number<std::uint64_t>();
    errors += o["errors"].to_number<std::uint64_t>();
    namespaces[ns->config.name] = std::move(o);
  }
  if (!only.empty() && namespaces.empty()) {
    co_return ToolResult::error(
        "cache_stats: namespace '" + only +
        "' has not been used or configured; known: " + known_namespaces(*services.namespaces));
  }
  // As /v1/stats: the daemon's mode, and whether it runs below it now (a breaker open, or Redis
  // configured but not reached at start).
  const bool degraded =
      any_breaker_open(*services.namespaces) || services.redis_mode == RedisMode::unreachable;
  co_return ToolResult::ok({{"mode", services.l1_only() ? "l1_only" : "two_tier"},
                            {"degraded", degraded},
                            {"uptime_s", std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::steady_clock::now() - services.started)
                                             .count()},
                            {"hits", hits},
                            {"misses", misses},
                            {"errors", errors},
                            {"hit_rate", hit_rate(hits, misses + errors)},
                            {"namespaces", std::move(namespaces)}});
}

constexpr std::string_view kNamespaceProp =
    R"("namespace": {"type": "string", "minLength": 1, "maxLength": 64,
        "description": "A cache namespace configured in tiercached (cache_stats lists them)."})";

json::object object_schema(std::string_view properties, std::string_view required) {
  return schema(std::string(R"({"type": "object", "properties": {)") + std::string(properties) +
                "}, \"required\": [" + std::string(required) +
                "], \"additionalProperties\": false}");
}

void add_get(ToolRegistry& tools, Services& services) {
  tools.add(
      Tool{.name = "cache_get",
           .title = "Read a cached value",
           .description =
               "Read the value stored under a key in a tiercached namespace. A miss is not an "
               "error: the result says hit=false. On a hit the result has the value (as text, or "
               "value_base64 for binary), its content type, whether it is stale (past its TTL but "
               "inside its grace period), which tier answered (l1 in-process, l2 Redis), and the "
               "milliseconds it stays fresh (fresh_ms) and servable (ttl_ms).",
           .input_schema = object_schema(std::string(kNamespaceProp) + R"(,
          "key": {"type": "string", "minLength": 1, "maxLength": 1024,
                  "description": "The key, as written by cache_set or the REST API."})",
                                         R"("namespace", "key")"),
           .output_schema = schema(R"({"type": "object", "properties": {
          "namespace": {"type": "string"}, "key": {"type": "string"}, "hit": {"type": "boolean"},
          "value": {"type": "string"}, "value_base64": {"type": "string"},
          "content_type": {"type": "string"}, "stale": {"type": "boolean"},
          "tier": {"type": "string", "enum": ["l1", "l2"]}, "fresh_ms": {"type": "integer"},
          "ttl_ms": {"type": "integer"}, "degraded": {"type": "boolean"}},
          "required": ["namespace", "key", "hit"]})"),
           .annotations = {{"readOnlyHint", true}, {"openWorldHint", false}},
           .handler = [&services](json::object a, std::shared_ptr<CallContext>) {
             return cache_get(services, std::move(a));
           }});
}

void add_set(ToolRegistry& tools, Services& services) {
  tools.add(
      Tool{.name = "cache_set",
           .title = "Store a value in the cache",
           .description =
               "Store a value under a key in a tiercached namespace (both tiers: in-process and "
               "Redis), replacing any previous value. Give 'value' (a string; any other JSON value "
               "is stored as its JSON text with content type application/json) or 'value_base64' "
               "for bytes. Optional: 'ttl' (how long it is fresh, a duration such as \"90s\", "
               "\"10m\", \"1h30m\"; default: the namespace's), 'grace' (how long it may be served "
               "stale after), 'tags' (names to invalidate it by later), 'dependencies' (keys whose "
               "invalidation drops this one too), 'priority' (low entries are evicted first).",
           .input_schema = object_schema(std::string(kNamespaceProp) + R"(,
          "key": {"type": "string", "minLength": 1, "maxLength": 1024,
                  "description": "The key: 1-1024 bytes, no control characters."},
          "value": {"description": "The value: a string, or any JSON value (stored as JSON)."},
          "value_base64": {"type": "string", "description": "Binary value in base64."},
          "content_type": {"type": "string", "maxLength": 255,
                           "description": "Media type kept with the value (e.g. text/plain)."},
          "ttl": {"type": "string", "description": "Fresh for this long: \"90s\", \"10m\", \"2h\"."},
          "grace": {"type": "string", "description": "Served stale this long after: \"1m\"."},
          "tags": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 256},
                   "maxItems": 64, "description": "Tags to invalidate the value by."},
          "dependencies": {"type": "array", "items": {"type": "string"}, "maxItems": 64,
                           "description": "Keys of this namespace the value derives from."},
          "priority": {"type": "string", "enum": ["low", "normal", "high"],
                       "description": "Eviction priority in the in-process tier."})",
                                         R"("namespace", "key")"),
           .output_schema = schema(R"({"type": "object", "properties": {
          "namespace": {"type": "string"}, "key": {"type": "string"},
          "stored": {"type": "boolean"}, "bytes": {"type": "integer"},
          "ttl_ms": {"type": "integer"}},
          "required": ["namespace", "key", "stored"]})"),
           .annotations = {{"readOnlyHint", false},
                           {"destructiveHint", true},
                           {"idempotentHint", true},
                           {"openWorldHint", false}},
           .handler = [&services](json::object a, std::shared_ptr<CallContext>) {
             return cache_set(services, std::move(a));
           }});
}

void add_invalidate(ToolRegistry& tools, Services& services) {
  tools.add(Tool{
      .name = "cache_invalidate",
      .title = "Invalidate cached values",
      .description =
          "Drop cached values from a tiercached namespace, in both tiers and on every "
          "instance. Name what to drop with one or more of: 'keys' (exact keys), 'tags' (every "
          "value stored with one of these tags), 'pattern' (a Redis glob over keys, such as "
          "\"user:*\"), 'all': true (the whole namespace). The result counts what was dropped.",
      .input_schema = object_schema(std::string(kNamespaceProp) + R"(,
          "keys": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1000,
                   "description": "Exact keys to delete."},
          "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1000,
                   "description": "Tags whose values to invalidate."},
          "pattern": {"type": "string", "minLength": 1, "maxLength": 1024,
                      "description": "A glob over keys: * ? [abc]."},
          "all": {"type": "boolean", "description": "true: invalidate the whole namespace."})",
                                    R"("namespace")"),
      .output_schema = schema(R"({"type": "object", "properties": {
          "namespace": {"type": "string"}, "keys_deleted": {"type": "integer"},
          "tags_invalidated": {"type": "integer"}, "pattern_removed": {"type": "integer"},
          "namespace_invalidated": {"type": "boolean"}}, "required": ["namespace"]})"),
      .annotations = {{"readOnlyHint", false},
                      {"destructiveHint", true},
                      {"idempotentHint", true},
                      {"openWorldHint", false}},
      .handler = [&services](json::object a, std::shared_ptr<CallContext>) {
        return cache_invalidate(services, std::move(a));
      }});
}

void add_stats(ToolRegistry& tools, Services& services) {
  tools.add(
      Tool{.name = "cache_stats",
           .title = "Cache statistics",
           .description =
               "Hit and miss counts, hit rate, in-process memory and TTL settings of tiercached's "
               "namespaces, whether it runs with Redis (two_tier) or alone (l1_only), and whether "
               "it runs degraded now (Redis failing: only in-process hits are served). Call it "
               "first to learn which namespaces exist. Optional 'namespace' narrows it to one.",
           .input_schema = object_schema(kNamespaceProp, ""),
           .output_schema = schema(R"({"type": "object", "properties": {
          "mode": {"type": "string", "enum": ["two_tier", "l1_only"]},
          "degraded": {"type": "boolean"}, "uptime_s": {"type": "integer"}, "hits": {"type": "integer"},
          "misses": {"type": "integer"}, "errors": {"type": "integer"},
          "hit_rate": {"type": "number"}, "namespaces": {"type": "object"}},
          "required": ["mode", "degraded", "hits", "misses", "hit_rate", "namespaces"]})"),
           .annotations = {{"readOnlyHint", true}, {"openWorldHint", false}},
           .handler = [&services](json::object a, std::shared_ptr<CallContext>) {
             return cache_stats(services, std::move(a));
           }});
}

}  // namespace

void add_cache_tools(ToolRegistry& tools, Services& services) {
  add_get(tools, services);
  add_set(tools, services);
  add_invalidate(tools, services);
  add_stats(tools, services);
}

}  // namespace tiercache::server::mcp
