#pragma once
// Entry: one cached value with what the cache knows about it, as L1 holds it and as the L2
// header (docs/entry-format.md) carries it in Redis. Times are wall-clock, so that instances on
// different machines agree on freshness.
// Use: auto e = std::make_shared<const Entry>(Entry{.value = bytes, .fresh_until = t1, ...});
// Thread-safety: immutable once shared; L1 hands out shared_ptr<const Entry>.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tiercache::cache {

// Who leaves L1 first when it is full: low before normal before high.
enum class Priority : std::uint8_t { low = 0, normal = 1, high = 2 };

// How the payload's bytes are to be read by typed helpers; the cache itself stores bytes. The value
// is part of the L2 header (docs/entry-format.md): ids are stable, and a reader passes an id it
// does not know through unchanged.
enum class Codec : std::uint8_t { raw = 0, json = 1, msgpack = 2 };

struct Entry {
  using time_point = std::chrono::system_clock::time_point;

  // The payload, decoded (decompressed). Values are bytes; codecs sit above.
  std::string value;
  // When it was loaded or written.
  time_point created{};
  // Served as fresh until this time; then stale.
  time_point fresh_until{};
  // Served as stale (grace window, fail-safe) until this time; then gone. The Redis TTL.
  time_point stale_until{};
  // Invalidation handles: tags, and the keys this entry was derived from (cascade).
  std::vector<std::string> tags;
  std::vector<std::string> dependencies;
  Priority priority = Priority::normal;
  // What the payload's bytes are (set by typed helpers; raw otherwise).
  Codec codec = Codec::raw;
  // The compare-and-set token: entry_version() of the bytes this entry has in Redis; 0 when it
  // was never there (embedded mode). Not part of the content: equality ignores it.
  std::uint64_t version = 0;

  friend bool operator==(const Entry& a, const Entry& b) {
    return a.value == b.value && a.created == b.created && a.fresh_until == b.fresh_until &&
           a.stale_until == b.stale_until && a.tags == b.tags && a.dependencies == b.dependencies &&
           a.priority == b.priority && a.codec == b.codec;
  }

  bool is_fresh(time_point now) const noexcept { return now < fresh_until; }
  bool is_expired(time_point now) const noexcept { return now >= stale_until; }
};

}  // namespace tiercache::cache
