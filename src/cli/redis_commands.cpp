// get, set, del, ttl, invalidate and stats with --redis: straight to Redis through the library's
// cache::Cache, never a raw GET or SET. The entry format (docs/entry-format.md), tag and namespace
// versions and the Content-Type envelope (server/value_envelope.hpp) are the ones tiercached
// reads and writes, so a value set here is served by the daemon and the other way round, and an
// invalidation here reaches the daemons' L1 copies by Redis's own tracking.
// What it cannot know: the daemon's [namespaces.<name>] settings. A TTL not given is the
// library's default (cache::Options), and any namespace name the library accepts is taken.

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/key_builder.hpp"
#include "tiercache/health/keyspace_sample.hpp"
#include "tiercache/health/redis_info.hpp"
#include "tiercache/redis/error.hpp"

#include "cli/cache_commands.hpp"
#include "cli/redis_session.hpp"
#include "cli/text.hpp"
#include "server/value_envelope.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <ostream>

namespace tiercache::cli {
namespace {

namespace json = boost::json;
using std::chrono::system_clock;

std::int64_t ms_left(system_clock::time_point t) {
  return std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(t - system_clock::now()).count());
}

TtlInfo ttl_of(const cache::ReadResult& r) {
  return TtlInfo{.ttl_ms = ms_left(r.entry->stale_until),
                 .fresh_ms = ms_left(r.entry->fresh_until),
                 .stale = r.stale};
}

// The namespace's cache, or the exit code after a usage error (a name the library refuses).
cache::Cache* cache_of(Context& ctx, const std::string& ns, int* code) {
  try {
    return &ctx.redis().cache(ns);
  } catch (const std::invalid_argument& e) {
    *code = ctx.fail(ExitCode::usage, "namespace '" + ns + "': " + e.what());
    return nullptr;
  }
}

// Reachable and a usable namespace: the cache; else nullptr with *code set.
cache::Cache* open_cache(Context& ctx, const std::string& ns, int* code) {
  *code = ctx.redis_check();
  return *code != 0 ? nullptr : cache_of(ctx, ns, code);
}

// What the daemon's POST .../invalidate does, in the same order, with the same answer.
asio::awaitable<Result<json::object>> invalidate_all(cache::Cache* cache, InvalidateArgs a) {
  json::object out;
  std::uint64_t deleted = 0;
  for (auto& key : a.keys) {
    auto r = co_await cache->del(std::move(key));
    if (!r) co_return r.error();
    if (*r) ++deleted;
  }
  if (!a.keys.empty()) out["keys_deleted"] = deleted;
  if (!a.tags.empty()) {
    const auto n = a.tags.size();
    auto r = co_await cache->invalidate_tags(std::move(a.tags));
    if (!r) co_return r.error();
    out["tags_invalidated"] = n;
  }
  if (!a.pattern.empty()) {
    auto r = co_await cache->invalidate_pattern(std::move(a.pattern));
    if (!r) co_return r.error();
    out["pattern_removed"] = *r;
  }
  if (a.all) {
    auto r = co_await cache->invalidate_namespace();
    if (!r) co_return r.error();
    out["namespace_invalidated"] = true;
  }
  co_return out;
}

// --- stats --------------------------------------------------------------------------------

struct RedisFigures {
  health::RedisInfo info;  // summed over a cluster's masters
  health::KeyspaceSample keys;
};

// INFO of every master (one for a single server), then a bounded SCAN of the keyspace.
asio::awaitable<Result<RedisFigures>> gather(std::shared_ptr<redis::AnyClient> redis,
                                             health::KeyspaceSampleOptions sample) {
  RedisFigures f;
  bool first = true;
  for (auto& primary : redis->primaries()) {
    resp::Request info;
    info.push("INFO");
    auto r = co_await redis->exec_on(std::move(primary), std::move(info));
    if (!r) co_return r.error();
    if (r->is_error()) co_return make_error_code(redis::Errc::permission_denied);  // ACL
    auto parsed = health::parse_redis_info(r->str());
    if (!parsed) co_return parsed.error();
    if (first) {
      f.info = *parsed;
      first = false;
      continue;
    }
    f.info.used_memory += parsed->used_memory;
    f.info.used_memory_peak += parsed->used_memory_peak;
    f.info.maxmemory += parsed->maxmemory;
    f.info.evicted_keys += parsed->evicted_keys;
    f.info.keyspace_hits += parsed->keyspace_hits;
    f.info.keyspace_misses += parsed->keyspace_misses;
    f.info.connected_clients += parsed->connected_clients;
    f.info.keys += parsed->keys;
    f.info.expires += parsed->expires;
  }
  auto keys = co_await health::sample_keyspace(std::move(redis), std::move(sample));
  if (!keys) co_return keys.error();
  f.keys = std::move(*keys);
  co_return f;
}

json::value optional_number(std::optional<double> v) {
  return v ? json::value(*v) : json::value(nullptr);
}

std::string mean_ttl(const health::TtlDistribution& t) {
  if (t.sampled == 0) return "-";
  const double s = t.ttl_sum_seconds / static_cast<double>(t.sampled);
  return human_duration(std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000)));
}

}  // namespace

int redis_get(Context& ctx, const KeyArgs& a) {
  int code = 0;
  auto* cache = open_cache(ctx, a.ns, &code);
  if (cache == nullptr) return code;
  auto r = ctx.redis().run(cache->get(a.key));
  if (!r) return ctx.redis_failed(r.error());
  if (!r->hit()) return print_miss(ctx, a);
  const auto value = server::unwrap_value(r->entry->value, r->entry->codec);
  FoundValue v{.body = std::string(value.body),
               .content_type = value.content_type,
               .cache = r->stale ? "STALE" : "HIT",
               .tier = "l2",
               .etag = {},
               .degraded = r->degraded,
               .ttl = ttl_of(*r)};
  return print_value(ctx, a, v);
}

int redis_set(Context& ctx, const SetArgs& a) {
  cache::WriteOptions w;
  const auto duration = [&](const std::string& text, const char* flag,
                            std::optional<std::chrono::milliseconds>* out, bool zero_ok) {
    if (text.empty()) return true;
    auto d = parse_duration(text);
    if (!d || (!zero_ok && d->count() == 0)) {
      ctx.fail(ExitCode::usage,
               std::string(flag) + " '" + text + "' is not a duration (as 90s, 10m, 1h30m)");
      return false;
    }
    *out = *d;
    return true;
  };
  if (!duration(a.ttl, "--ttl", &w.ttl, false)) return to_int(ExitCode::usage);
  if (!duration(a.grace, "--grace", &w.grace, true)) return to_int(ExitCode::usage);
  w.tags = a.tags;
  w.priority = a.priority == "low"    ? cache::Priority::low
               : a.priority == "high" ? cache::Priority::high
                                      : cache::Priority::normal;
  if (a.content_type.size() > 255) {
    return ctx.fail(ExitCode::usage, "--content-type is longer than 255 bytes");
  }
  auto value = read_set_value(ctx, a);
  if (!value) return to_int(ExitCode::usage);
  const auto size = value->size();
  int code = 0;
  auto* cache = open_cache(ctx, a.key.ns, &code);
  if (cache == nullptr) return code;
  auto stored = server::wrap_value(std::move(*value), a.content_type);
  w.codec = stored.codec;
  auto r = ctx.redis().run(cache->set(a.key.key, std::move(stored.bytes), std::move(w)));
  if (!r) return ctx.redis_failed(r.error());
  return print_stored(ctx, a.key, size);
}

int redis_del(Context& ctx, const KeyArgs& a) {
  int code = 0;
  auto* cache = open_cache(ctx, a.ns, &code);
  if (cache == nullptr) return code;
  auto r = ctx.redis().run(cache->del(a.key));
  if (!r) return ctx.redis_failed(r.error());
  return print_deleted(ctx, a, *r);
}

int redis_ttl(Context& ctx, const KeyArgs& a) {
  int code = 0;
  auto* cache = open_cache(ctx, a.ns, &code);
  if (cache == nullptr) return code;
  auto r = ctx.redis().run(cache->get(a.key));
  if (!r) return ctx.redis_failed(r.error());
  if (!r->hit()) return print_miss(ctx, a);
  return print_ttl(ctx, a, ttl_of(*r));
}

int redis_invalidate(Context& ctx, const InvalidateArgs& a) {
  int code = 0;
  auto* cache = open_cache(ctx, a.ns, &code);
  if (cache == nullptr) return code;
  auto r = ctx.redis().run(invalidate_all(cache, a));
  if (!r) return ctx.redis_failed(r.error());
  return print_invalidated(ctx, a, *r);
}

int redis_stats(Context& ctx, const std::string& only) {
  if (const int code = ctx.redis_check()) return code;
  // Bounded whatever the keyspace's size: about 5000 keys in at most 100 round trips.
  health::KeyspaceSampleOptions sample{.max_keys = 5000, .max_round_trips = 100};
  if (!only.empty()) sample.match = cache::escape_glob(only) + ":*";
  auto r = ctx.redis().run(gather(ctx.redis().client(), sample));
  if (!r) return ctx.redis_failed(r.error());
  const auto& info = r->info;
  const auto& keys = r->keys;
  std::vector<std::pair<std::string, health::NamespaceKeys>> rows;
  for (const auto& [name, n] : keys.namespaces) {
    if (only.empty() || name == only) rows.emplace_back(name, n);
  }
  if (!only.empty() && rows.empty()) rows.emplace_back(only, health::NamespaceKeys{});
  if (ctx.json) {
    json::object namespaces;
    for (const auto& [name, n] : rows) {
      const double mean =
          n.ttl.sampled == 0 ? 0 : n.ttl.ttl_sum_seconds / static_cast<double>(n.ttl.sampled);
      namespaces[name] = json::object{
          {"keys", n.estimated},
          {"keys_sampled", n.sampled},
          {"no_ttl", n.ttl.no_ttl},
          {"mean_ttl_s", n.ttl.sampled == 0 ? json::value(nullptr) : json::value(mean)}};
    }
    json::object o{
        {"source", "redis"},
        {"redis", json::object{{"version", info.redis_version},
                               {"used_memory", info.used_memory},
                               {"maxmemory", info.maxmemory},
                               {"maxmemory_policy", info.maxmemory_policy},
                               {"memory_fraction", optional_number(info.memory_fraction())},
                               {"keys", info.keys},
                               {"expires", info.expires},
                               {"evicted_keys", info.evicted_keys},
                               {"keyspace_hits", info.keyspace_hits},
                               {"keyspace_misses", info.keyspace_misses},
                               {"hit_rate", optional_number(info.keyspace_hit_ratio())},
                               {"connected_clients", info.connected_clients}}},
        {"sample", json::object{{"complete", keys.complete},
                                {"keys_visited", keys.keys_visited},
                                {"round_trips", keys.round_trips}}},
        {"namespaces", std::move(namespaces)}};
    ctx.out << json::serialize(o) << "\n";
    return to_int(ExitCode::ok);
  }
  ctx.out << "redis   " << info.redis_version << " at " << ctx.redis().target().text << "\n";
  ctx.out << "memory  " << human_bytes(info.used_memory) << " used";
  if (info.maxmemory > 0) {
    ctx.out << " of " << human_bytes(info.maxmemory) << " ("
            << percent(info.memory_fraction().value_or(0)) << ", " << info.maxmemory_policy << ")";
  } else {
    ctx.out << ", no maxmemory";
  }
  ctx.out << "\nkeys    " << info.keys << " (" << info.expires << " with a TTL), "
          << info.evicted_keys << " evicted\n";
  ctx.out << "reads   "
          << (info.keyspace_hit_ratio() ? percent(*info.keyspace_hit_ratio()) : std::string("-"))
          << " hits (" << info.keyspace_hits << " hits, " << info.keyspace_misses
          << " misses since Redis started, every client)\n\n";
  Table t({"NAMESPACE", "KEYS", "NO TTL", "MEAN TTL"});
  for (const auto& [name, n] : rows) {
    t.add({name.empty() ? "(no ':')" : name, std::to_string(n.estimated),
           std::to_string(n.ttl.no_ttl), mean_ttl(n.ttl)});
  }
  t.print(ctx.out);
  ctx.out << "\n"
          << (keys.complete ? "keys counted by a full SCAN"
                            : "keys estimated from a SCAN of " + std::to_string(keys.keys_visited) +
                                  " keys, scaled to DBSIZE")
          << "; a namespace's keys are its entries, tag versions and locks.\n"
          << "Hits and misses per namespace are counted by each daemon: tiercache stats without "
             "--redis.\n";
  return to_int(ExitCode::ok);
}

}  // namespace tiercache::cli
