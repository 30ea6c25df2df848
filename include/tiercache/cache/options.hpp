#pragma once
// cache::Options, WriteOptions and LoadPolicy: how a Cache is set up, how one value is written,
// and how get_or_load behaves for one call. Aggregates with documented defaults:
// Use: cache::Cache c(redis, cache::Options{.ns = "flights", .default_ttl = 10min});
//      co_await c.set("k", bytes, {.ttl = 1min, .tags = {"city:paris"}});
// Thread-safety: plain values.

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/entry_format.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::cache {

using namespace std::chrono_literals;

struct Options {
  // The namespace: every Redis key of this cache starts with "<ns>:". Printable ASCII, no
  // spaces, no glob characters. Default: "cache".
  std::string ns = "cache";
  // How long a value written without a TTL is fresh. Default: 5 min.
  std::chrono::milliseconds default_ttl = 5min;
  // How long after that it may still be served stale (stale-while-revalidate, fail-safe); the
  // Redis TTL is ttl + grace. Default: 1 min. Raising it keeps more bytes in Redis for longer.
  std::chrono::milliseconds default_grace = 1min;
  // Longer TTLs (and graces) are clamped to this. Default: 7 days. It also bounds how long tag
  // version keys live after their last use (3 x max_ttl: decision 0012).
  std::chrono::milliseconds max_ttl = std::chrono::hours(24 * 7);
  // L1's byte bound; 0 turns L1 off (every read asks Redis; with client tracking on, namespace
  // and tag versions are still kept in a 1 MiB tracked table, so a read is one round trip). With
  // L1 off, a client with redis::Config::tracking_optin spares Redis tracking every data key
  // read (decision 0003). Default: 64 MiB.
  std::size_t l1_bytes = std::size_t{64} << 20;
  // L1 shards (a power of two; 0 picks). Default: 0.
  std::size_t l1_shards = 0;
  // How long L1 may serve a value when its links cannot track (RESP2, or client_tracking off):
  // the staleness bound without invalidations. 0 turns L1 off in that case. Default: 1 s.
  std::chrono::milliseconds untracked_l1_ttl = 1s;
  // Payloads at or above this size are compressed with `compression`. Default: 1 KiB, lz4: on a
  // cache's hot path every hit decompresses, and lz4 decodes a 1 KiB JSON entry in ~0.3 us
  // against ~2 us for zstd (bench/cache/entry_bench); at 1 KiB that costs the client about what
  // the smaller reply saves Redis (cache_bench, decision 0007). zstd saves more Redis memory for
  // large, cold values.
  std::size_t compression_threshold = 1024;
  Compression compression = Compression::lz4;
  // Each TTL is shortened by a random fraction up to this, so entries written together do not
  // expire together. Default: 0 (off); 0.1 is a good value for bulk warm-ups.
  double ttl_jitter = 0.0;
  // get_or_load: answer with the stale value when the loader has not answered within this
  // (the load goes on in the background). 0: off. Default: off.
  std::chrono::milliseconds soft_timeout = 0ms;
  // get_or_load: give up on the loader after this (serve stale or loader_timeout). Default: 5 s.
  std::chrono::milliseconds hard_timeout = 5s;
  // The fleet lock's lifetime: a crashed owner blocks others at most this long. REQUIRES: longer
  // than a typical load. Default: 10 s.
  std::chrono::milliseconds lock_ttl = 10s;
  // How long a process waits for another's load before loading itself. Default: 5 s.
  std::chrono::milliseconds lock_max_wait = 5s;
  // Values larger than this are refused with Errc::value_too_large. Default: 16 MiB.
  std::size_t max_value_size = std::size_t{16} << 20;
  // Keys longer than this are refused with Errc::invalid_key. Default: 1024 bytes.
  std::size_t max_key_size = 1024;
  // Keys SCAN asks for and UNLINK removes per round trip (invalidate_pattern, namespace
  // cleanup). Default: 500. Larger batches are faster but hold Redis longer per command.
  std::size_t scan_batch = 500;
  // Where the cache reads the time. REQUIRES: outlives the Cache. Default: the real clock.
  const Clock* clock = &Clock::real();
};

// How one value is written (set, and get_or_load's loaded values).
struct WriteOptions {
  // Fresh for this long. Default: Options::default_ttl.
  std::optional<std::chrono::milliseconds> ttl{};
  // Served stale for this long after. Default: Options::default_grace.
  std::optional<std::chrono::milliseconds> grace{};
  // Invalidation handles: invalidate_tags({"t"}) drops every entry tagged "t".
  std::vector<std::string> tags{};
  // Keys (of this namespace) this value was derived from: deleting or invalidating one of them
  // drops this entry, transitively (a dependency's own dependencies are taken at write time).
  std::vector<std::string> dependencies{};
  Priority priority = Priority::normal;
  Codec codec = Codec::raw;
};

// How one get_or_load call behaves.
struct LoadPolicy {
  WriteOptions write{};
  // Serve a stale value at once and refresh it once in the background. Default: on. Off, a
  // stale value is served only by fail-safe or the soft timeout.
  bool stale_while_revalidate = true;
  // How long past its fresh time a value is still answered at once by stale-while-revalidate;
  // later in the grace window, callers wait for the refresh, and fail-safe serves the stale value
  // only if the refresh fails (RFC 5861's stale-while-revalidate beside stale-if-error).
  // Default: the whole grace window.
  std::optional<std::chrono::milliseconds> revalidate_window{};
  // Serve a stale value when the loader or Redis fails. Default: on.
  bool fail_safe = true;
  // Early probabilistic refresh (XFetch): a fresh hit starts one background refresh with a
  // probability that rises as expiry nears, exp(-time left / (early_refresh x TTL)), so a hot key
  // is usually reloaded before it expires and its callers never wait. 0: off. 0.1 is typical:
  // refreshes become likely in the last ~10% of the TTL. Default: off.
  double early_refresh = 0.0;
  // Per-call timeouts. Default: Options::soft_timeout and hard_timeout.
  std::optional<std::chrono::milliseconds> soft_timeout{};
  std::optional<std::chrono::milliseconds> hard_timeout{};
};

}  // namespace tiercache::cache
