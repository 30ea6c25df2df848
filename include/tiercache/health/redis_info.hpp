#pragma once
// RedisInfo: the fields of Redis's INFO reply that the health layer assesses, and the pure parser
// that reads them out of INFO's text ("# Section" headers, "field:value" lines, CRLF or LF).
// Use: Result<RedisInfo> info = parse_redis_info(reply.str()); if (info) info->used_memory ...
// Thread-safety: a pure function over a value.

#include "tiercache/base/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tiercache::health {

struct RedisInfo {
  std::string redis_version;            // "7.0.15"
  std::uint64_t used_memory = 0;        // bytes allocated by Redis now
  std::uint64_t used_memory_peak = 0;   // the most it ever allocated
  std::uint64_t maxmemory = 0;          // the limit in bytes; 0 means none
  std::string maxmemory_policy;         // "allkeys-lru", "noeviction", ...
  std::uint64_t evicted_keys = 0;       // keys evicted for maxmemory since start
  std::uint64_t keyspace_hits = 0;      // lookups of keys that existed, since start
  std::uint64_t keyspace_misses = 0;    // lookups of keys that did not
  std::uint64_t connected_clients = 0;  // client connections now (replicas excluded)
  std::uint64_t keys = 0;               // keys of every db ("# Keyspace" dbN:keys=...)
  std::uint64_t expires = 0;            // of which carry a TTL

  // used_memory / maxmemory; nullopt when maxmemory is 0 (no limit).
  std::optional<double> memory_fraction() const noexcept;
  // keyspace_hits / (hits + misses); nullopt before the first lookup.
  std::optional<double> keyspace_hit_ratio() const noexcept;
};

// Reads INFO's text. Fields it does not know are skipped; the ones above must be well formed
// where present (unsigned decimal numbers in range), and redis_version, used_memory and maxmemory
// must be present. Completes with: the RedisInfo, or Errc::malformed_info (a line that is neither
// a header, blank, nor "field:value"; a bad number) or Errc::incomplete_info.
[[nodiscard]] Result<RedisInfo> parse_redis_info(std::string_view text);

}  // namespace tiercache::health
