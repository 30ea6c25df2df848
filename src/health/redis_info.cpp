#include "tiercache/health/redis_info.hpp"

#include "tiercache/health/error.hpp"

#include <charconv>
#include <cstdint>

namespace tiercache::health {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// "keys=1,expires=1,avg_ttl=99950": adds keys and expires; false when either is missing or bad.
bool parse_db_line(std::string_view value, RedisInfo& info) {
  bool have_keys = false;
  bool have_expires = false;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    const auto name = item.substr(0, eq);
    std::uint64_t n = 0;
    if (name == "keys" || name == "expires") {
      if (!parse_u64(item.substr(eq + 1), n)) return false;
      auto& field = name == "keys" ? info.keys : info.expires;
      if (field > UINT64_MAX - n) return false;
      field += n;
      (name == "keys" ? have_keys : have_expires) = true;
    }
  }
  return have_keys && have_expires;
}

}  // namespace

std::optional<double> RedisInfo::memory_fraction() const noexcept {
  if (maxmemory == 0) return std::nullopt;
  return static_cast<double>(used_memory) / static_cast<double>(maxmemory);
}

std::optional<double> RedisInfo::keyspace_hit_ratio() const noexcept {
  const auto total = static_cast<double>(keyspace_hits) + static_cast<double>(keyspace_misses);
  if (total == 0) return std::nullopt;
  return static_cast<double>(keyspace_hits) / total;
}

Result<RedisInfo> parse_redis_info(std::string_view text) {
  RedisInfo info;
  bool have_version = false;
  bool have_used = false;
  bool have_max = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Errc::malformed_info;
    const auto name = line.substr(0, colon);
    const auto value = line.substr(colon + 1);

    std::uint64_t* number = nullptr;
    if (name == "redis_version") {
      info.redis_version = std::string(value);
      have_version = true;
    } else if (name == "maxmemory_policy") {
      info.maxmemory_policy = std::string(value);
    } else if (name == "used_memory") {
      number = &info.used_memory;
      have_used = true;
    } else if (name == "used_memory_peak") {
      number = &info.used_memory_peak;
    } else if (name == "maxmemory") {
      number = &info.maxmemory;
      have_max = true;
    } else if (name == "evicted_keys") {
      number = &info.evicted_keys;
    } else if (name == "keyspace_hits") {
      number = &info.keyspace_hits;
    } else if (name == "keyspace_misses") {
      number = &info.keyspace_misses;
    } else if (name == "connected_clients") {
      number = &info.connected_clients;
    } else if (name.size() > 2 && name.substr(0, 2) == "db" &&
               name.find_first_not_of("0123456789", 2) == std::string_view::npos) {
      if (!parse_db_line(value, info)) return Errc::malformed_info;
    }
    if (number != nullptr && !parse_u64(value, *number)) return Errc::malformed_info;
  }
  if (!have_version || !have_used || !have_max) return Errc::incomplete_info;
  return info;
}

}  // namespace tiercache::health
