// Fuzzes health::parse_redis_info, which reads the text of Redis's INFO reply (a server we do not
// control, or a proxy in front of it). It must never crash; an accepted text must read the same
// when its fields are written back out as INFO text and parsed again; and the derived ratios stay
// within their ranges.
#include "tiercache/health/redis_info.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using tiercache::health::RedisInfo;

bool same(const RedisInfo& a, const RedisInfo& b) {
  return a.redis_version == b.redis_version && a.used_memory == b.used_memory &&
         a.used_memory_peak == b.used_memory_peak && a.maxmemory == b.maxmemory &&
         a.maxmemory_policy == b.maxmemory_policy && a.evicted_keys == b.evicted_keys &&
         a.keyspace_hits == b.keyspace_hits && a.keyspace_misses == b.keyspace_misses &&
         a.connected_clients == b.connected_clients && a.keys == b.keys && a.expires == b.expires;
}

std::string render(const RedisInfo& i) {
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  return "# Server\r\nredis_version:" + i.redis_version +
         "\r\n# Memory\r\nused_memory:" + n(i.used_memory) +
         "\r\nused_memory_peak:" + n(i.used_memory_peak) + "\r\nmaxmemory:" + n(i.maxmemory) +
         "\r\nmaxmemory_policy:" + i.maxmemory_policy + "\r\nevicted_keys:" + n(i.evicted_keys) +
         "\r\nkeyspace_hits:" + n(i.keyspace_hits) + "\r\nkeyspace_misses:" + n(i.keyspace_misses) +
         "\r\nconnected_clients:" + n(i.connected_clients) +
         "\r\n# Keyspace\r\ndb0:keys=" + n(i.keys) + ",expires=" + n(i.expires) + "\r\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto info = tiercache::health::parse_redis_info(text);
  if (!info) return 0;
  // A value that holds a newline cannot be written back as one line: nothing to compare.
  if (info->redis_version.find_first_of("\r\n") != std::string::npos ||
      info->maxmemory_policy.find_first_of("\r\n") != std::string::npos) {
    return 0;
  }
  const auto again = tiercache::health::parse_redis_info(render(*info));
  if (!again || !same(*info, *again)) {
    std::fprintf(stderr, "round trip changed the fields\n");
    std::abort();
  }
  if (const auto r = info->keyspace_hit_ratio(); r && !(*r >= 0 && *r <= 1)) std::abort();
  return 0;
}
