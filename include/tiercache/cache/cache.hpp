#pragma once
// Cache: the two-tier cache of one namespace: L1 in process, Redis as L2, kept coherent by RESP3
// client-side caching (docs/decisions/0003-cache-coherence-and-invalidation.md).
// Use: auto redis = std::make_shared<redis::Client>(ex, redis::Config{.client_tracking = true});
//      cache::Cache cache(redis, cache::Options{.ns = "flights"});   // starts the client
//      auto r = co_await cache.get_or_load("LHR-JFK", load_fn, {.write = {.ttl = 10min}});
// With a null client the cache is L1 alone (the embedded mode): same API, no coherence needed.
// Thread-safety: safe from any thread. Every operation is a coroutine returning a Result.
//
// All coroutines below share these rules:
//   Completes with: the Result documented on each; a Redis failure is redis_unavailable unless
//     the operation could answer from L1 (then the ReadResult says degraded).
//   Cancellation: none of their own; each waits at most about Options::hard_timeout (reads and
//     writes at most the client's request_timeout per round trip).
//   Lifetimes: the Cache must outlive the call; arguments are taken by value. Background work
//     (refreshes, namespace cleanup) keeps what it needs alive by itself.

#include "tiercache/base/result.hpp"
#include "tiercache/cache/l1.hpp"
#include "tiercache/cache/options.hpp"
#include "tiercache/cache/read_result.hpp"
#include "tiercache/redis/any_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tiercache::cache {

namespace asio = boost::asio;

// A loader: produces the value's bytes (or an error) when the cache has none. It may throw; the
// exception becomes Errc::loader_failed and its text is logged. Write it as a named coroutine
// (or a non-coroutine lambda returning one): a capturing lambda must not itself be a coroutine.
using Loader = std::function<asio::awaitable<Result<std::string>>()>;

// What an adaptive loader may decide once it has its value, as FusionCache's adaptive caching and
// BentoCache's ctx.setTtl / ctx.skip do: how long the value stays fresh and servable stale, and
// whether it is stored at all (a proxy learns both only from the upstream's answer). Tags and
// dependencies stay as the policy says: their versions are read before the loader runs, so that
// an invalidation during the load is not missed.
struct LoadContext {
  // They start as the policy's write options; the loader may change them.
  std::optional<std::chrono::milliseconds> ttl{};
  std::optional<std::chrono::milliseconds> grace{};
  Priority priority = Priority::normal;
  // false: the value answers this load's callers and is not written anywhere.
  bool store = true;
};
// A loader that sees the LoadContext of its load (same rules as Loader; the context lives until
// the loader completes).
using AdaptiveLoader = std::function<asio::awaitable<Result<std::string>>(LoadContext&)>;

// What the cache did since construction (for tests and metrics). Counters only grow; a view
// that resets keeps its own baseline.
struct CacheStats {
  // Reads by outcome, one per key asked of get, get_many or get_or_load (exists counts as a get):
  std::uint64_t hits_l1 = 0;       // a fresh value from L1
  std::uint64_t hits_l2 = 0;       // a fresh value from Redis
  std::uint64_t stale_served = 0;  // a value past its fresh_until (grace, soft timeout, fail-safe)
  std::uint64_t misses = 0;        // no value in either tier: nothing, or what the loader made
  std::uint64_t errors = 0;        // the read failed (bad key, Redis down with nothing to serve...)

  std::uint64_t loader_calls = 0;
  std::uint64_t loader_errors = 0;         // calls that failed or threw
  std::uint64_t loader_timeouts = 0;       // calls past their hard timeout (they run on, unwaited)
  std::uint64_t background_refreshes = 0;  // stale-while-revalidate refreshes started
  std::uint64_t early_refreshes = 0;       // refreshes of fresh values (LoadPolicy::early_refresh)
  std::uint64_t invalidations_received = 0;  // keys named by tracking pushes
  std::uint64_t fences = 0;                  // L1 flushes after a tracking link dropped
  std::uint64_t fail_safe_served = 0;
  std::uint64_t lock_waits = 0;  // loads that waited for another process's fleet lock
  std::size_t lock_waiters = 0;  // keys some load waits on now (a gauge)

  // L1 now (all zero when L1 is off).
  std::size_t l1_bytes = 0;
  std::size_t l1_entries = 0;
  L1Stats l1{};

  std::uint64_t reads() const noexcept {
    return hits_l1 + hits_l2 + stale_served + misses + errors;
  }
  // Hits (fresh or stale) over reads; 0 when nothing was read.
  double hit_ratio() const noexcept {
    const auto total = reads();
    return total == 0
               ? 0.0
               : static_cast<double>(hits_l1 + hits_l2 + stale_served) / static_cast<double>(total);
  }
};

class Cache {
 public:
  // REQUIRES: redis is null or not yet started (the cache installs its push and link handlers,
  // then starts it), and is this cache's alone: a client has one push handler, so a second
  // Cache on it would take its invalidations, and ~Cache stops it. One client per Cache.
  // Throws std::invalid_argument on a bad namespace or option.
  Cache(std::shared_ptr<redis::AnyClient> redis, Options options);
  // Stops the client (the cache owns its lifecycle once given it).
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  // The entry under key: from L1, else Redis; a miss is a ReadResult without entry. Values past
  // fresh_until are returned with stale set (the caller decides); tag-invalidated ones are misses.
  // Fails with invalid_key, or redis_unavailable when L1 has nothing.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> get(std::string key);

  // Writes value through: Redis (SET PX ttl + grace), then L1. After it returns, this process
  // never serves an older value of key (read-your-own-write); other processes stop serving
  // theirs once Redis's invalidation reaches them. Fails with invalid_key, value_too_large,
  // invalid_argument or redis_unavailable (L1 is then left without the key).
  [[nodiscard]] asio::awaitable<Result<void>> set(std::string key, std::string value,
                                                  WriteOptions options = {});

  // Removes key from both tiers and invalidates the entries that depend on it. Returns whether
  // Redis had it.
  [[nodiscard]] asio::awaitable<Result<bool>> del(std::string key);
  // Whether key holds a live entry (L1, else Redis EXISTS).
  [[nodiscard]] asio::awaitable<Result<bool>> exists(std::string key);
  // Time until key's entry is gone from Redis (fresh + grace left); nullopt when absent.
  [[nodiscard]] asio::awaitable<Result<std::optional<std::chrono::milliseconds>>> ttl(
      std::string key);
  // Makes key fresh for `ttl` more (and servable stale for its grace after), keeping its value
  // and tags: a touch. Returns false when the key is absent. Atomic against concurrent writes.
  [[nodiscard]] asio::awaitable<Result<bool>> expire(std::string key,
                                                     std::chrono::milliseconds ttl);

  // Reads several keys: L1 first, the rest in one MGET. The results are in the order of keys.
  // A key Redis could not answer (and L1 had no copy of) is a miss with degraded set and error
  // redis_unavailable; the call itself fails only with invalid_key.
  [[nodiscard]] asio::awaitable<Result<std::vector<ReadResult>>> get_many(
      std::vector<std::string> keys);
  // Writes every (key, value) with the same options in one round trip: MULTI, SET PX + PTTL per
  // key, EXEC, so all of them land in Redis or none does. On a Redis Cluster a transaction
  // cannot span nodes: one MULTI per hash slot, so all of a slot's keys land or none do (give
  // keys one {hash tag} to keep all-or-nothing). Fails as set() does.
  [[nodiscard]] asio::awaitable<Result<void>> set_many(
      std::vector<std::pair<std::string, std::string>> items, WriteOptions options = {});

  // Writes value only when key has no fresh value: absent, stale, expired or invalidated. Returns
  // whether it wrote. Atomic against concurrent writers (one of several racing calls wins).
  [[nodiscard]] asio::awaitable<Result<bool>> set_if_absent(std::string key, std::string value,
                                                            WriteOptions options = {});
  // Replaces key's value only if its entry still has `version` (ReadResult::entry->version, as
  // read by get or get_or_load). Returns false when another write came first or the key is gone.
  [[nodiscard]] asio::awaitable<Result<bool>> compare_and_set(std::string key,
                                                              std::uint64_t version,
                                                              std::string value,
                                                              WriteOptions options = {});

  // Adds delta to the counter under key and returns the new value. An absent counter starts at 0
  // and lives for `ttl` from then (default_ttl when not given): the TTL is set at creation only,
  // so a counter counts over a fixed window. Counters are plain Redis integers, not entries: they
  // skip L1, and get() of a counter key reports not_an_entry; read one with counter(). Fails
  // with invalid_argument when the key holds an entry or the sum overflows.
  [[nodiscard]] asio::awaitable<Result<std::int64_t>> incr(
      std::string key, std::int64_t delta = 1,
      std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  // The counter's value; nullopt when absent.
  [[nodiscard]] asio::awaitable<Result<std::optional<std::int64_t>>> counter(std::string key);

  // Cache-aside with stampede protection: see src/cache/single_flight.cpp. Fresh hit: returned.
  // Stale hit: returned at once, refreshed once in the background (stale_while_revalidate).
  // Miss: one loader per key in this process; across processes under a fleet lock, the others
  // waiting for its value. Fail-safe: a loader failure or timeout, or Redis down, serves the
  // stale value if there is one (stale, error set), else fails with loader_failed,
  // loader_timeout or the loader's own error.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> get_or_load(std::string key, Loader loader,
                                                                LoadPolicy policy = {});
  // The same with a loader that decides its value's TTL, grace, priority, or not to store it.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> get_or_load(std::string key,
                                                                AdaptiveLoader loader,
                                                                LoadPolicy policy = {});

  // Drops every entry carrying one of these tags, in every process: O(1) per tag (INCR of its
  // version). Dependencies are the tags "dep:<key>".
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_tags(std::vector<std::string> tags);
  // Drops every entry of the namespace in O(1) (its version in the key goes up); a background
  // SCAN + UNLINK removes the old keys in batches (their Redis TTL bounds them otherwise).
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_namespace();
  // Removes the keys of the namespace matching `pattern`, a Redis glob over user keys, by SCAN +
  // UNLINK in batches, never KEYS; then L1 copies everywhere follow by tracking. Build patterns
  // from user input with escape_glob: escape_glob(city) + ":*". Returns how many were removed.
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> invalidate_pattern(std::string pattern);

  // The Redis key under which key lives now ("<ns>:v<N>:<key>"), for tools and tests.
  [[nodiscard]] asio::awaitable<Result<std::string>> redis_key(std::string key);

  // Whether L1 copies are kept coherent by invalidation pushes (RESP3 and client_tracking), as
  // opposed to bounded by Options::untracked_l1_ttl.
  bool tracking() const noexcept;
  const Options& options() const noexcept;
  CacheStats stats() const;
  // Null when L1 is off.
  const L1* l1() const noexcept;
  // Acts as if Redis had pushed an invalidation of this Redis key (see redis_key()).
  void invalidate_l1_for_test(std::string_view redis_key);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tiercache::cache
