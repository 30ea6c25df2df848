#pragma once
// sample_keyspace: key counts by namespace (the key's text before its first ':') and their TTL
// distribution, from a bounded SCAN: at most max_keys keys looked at and max_round_trips round
// trips, whatever the size of the keyspace. Never KEYS. When the SCAN does not finish within the
// bounds, counts are scaled to DBSIZE and marked estimated.
// Use: auto s = co_await sample_keyspace(redis, {.max_keys = 1000});
// Thread-safety: a free coroutine; the client is safe from any thread.

#include "tiercache/base/result.hpp"
#include "tiercache/redis/any_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace tiercache::health {

namespace asio = boost::asio;

struct KeyspaceSampleOptions {
  // Keys whose TTL is read at most; a SCAN reply past it is cut. Default: 1000.
  std::size_t max_keys = 1000;
  // Requests to Redis at most: each SCAN is one, the PTTLs of its keys (pipelined) one more, and
  // DBSIZE one when the scan is cut. Default: 20. Raising either bound costs Redis CPU time in
  // proportion (a SCAN COUNT 100 is about as cheap as 100 GETs).
  std::size_t max_round_trips = 20;
  // SCAN's COUNT hint per call. Default: 100.
  std::size_t scan_count = 100;
  // SCAN's MATCH pattern. Default: "*".
  std::string match = "*";
};

// How many keys fall in each TTL range. Bounds are upper bounds in seconds: < 1 min, < 10 min,
// < 1 h, < 1 day, and the rest; keys without a TTL are counted apart.
struct TtlDistribution {
  static constexpr std::array<std::int64_t, 4> kBoundsSeconds = {60, 600, 3600, 86400};
  std::array<std::uint64_t, 5> buckets{};
  std::uint64_t no_ttl = 0;
  std::uint64_t sampled = 0;   // keys with a TTL
  double ttl_sum_seconds = 0;  // of those keys, for the mean

  void add(std::int64_t pttl_ms) noexcept;  // -1: no TTL
};

struct NamespaceKeys {
  std::uint64_t sampled = 0;    // keys of the namespace the scan saw
  std::uint64_t estimated = 0;  // sampled scaled to DBSIZE (== sampled when complete)
  TtlDistribution ttl;
};

struct KeyspaceSample {
  std::map<std::string, NamespaceKeys> namespaces;  // keys without ':' fall under ""
  std::uint64_t keys_visited = 0;                   // <= max_keys
  std::size_t round_trips = 0;                      // <= max_round_trips
  bool complete = false;     // the SCAN came back to cursor 0: counts are exact (as of the scan)
  std::uint64_t dbsize = 0;  // DBSIZE when cut, else keys_visited
};

// Completes with: the sample; or the first request's error (redis::Errc...), or
//   Errc::unexpected_reply when Redis answers SCAN, PTTL or DBSIZE with an error or another type.
// Cancellation: none of its own; each request waits at most the client's request_timeout.
// Lifetimes: the client is shared; the options are copied.
[[nodiscard]] asio::awaitable<Result<KeyspaceSample>> sample_keyspace(
    std::shared_ptr<redis::AnyClient> redis, KeyspaceSampleOptions options);

}  // namespace tiercache::health
