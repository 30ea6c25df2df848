#pragma once
// calendar::Options and StoreOptions: how a CalendarCache is set up, and how one store is kept.
// Aggregates with documented defaults.
// Use: calendar::CalendarCache cal(redis, calendar::Options{.prefix = "events"});
//      co_await cal.store("paris", range, events, {.categories = {"music"}, .ttl = 6h});
// Thread-safety: plain values.

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace tiercache::calendar {

using namespace std::chrono_literals;

struct Options {
  // Every Redis key of the calendar starts with "<prefix>:" (it is also the namespace of its
  // cache entries). Printable ASCII, no spaces, no glob characters. Default: "calendar".
  std::string prefix = "calendar";
  // Where invalidation notices are PUBLISHed (JSON, see notice.hpp). Default:
  // "tiercache:calendar:invalidations", whatever the prefix, so listeners need no configuration.
  std::string invalidation_channel = "tiercache:calendar:invalidations";
  // How long stored events are served when a store names no TTL. Default: 24 h.
  std::chrono::milliseconds default_ttl = 24h;
  // Longer TTLs are refused (invalid_ttl). Default: 30 days.
  std::chrono::milliseconds max_ttl = std::chrono::hours(24 * 30);
  // How long a daily summary lives; it is rewritten whenever events of its day are stored.
  // Default: 1 h.
  std::chrono::milliseconds summary_ttl = 1h;
  // Events named in a summary's top list. Default: 5.
  std::size_t summary_top = 5;
  // Longest range, in days, a store or a get may span. Default: 366.
  std::int64_t max_range_days = 366;
  // Events one store may carry, and the largest event (its JSON) accepted. Default: 10000, 64 KiB.
  std::size_t max_events_per_store = 10000;
  std::size_t max_event_bytes = 64 << 10;
  // Locations longer than this are refused (invalid_location). Default: 200 bytes.
  std::size_t max_location_size = 200;
  // Coverage records kept per location (one per stored range and category set); the oldest go
  // first beyond it. Default: 256. Each costs ~150 bytes of the index, read on every get.
  std::size_t max_index_records = 256;
  // Entries kept in a location's history stream (XADD MAXLEN ~), and how long the stream lives
  // after its last change. Default: 1000, 30 days.
  std::size_t history_max_len = 1000;
  std::chrono::milliseconds history_ttl = std::chrono::hours(24 * 30);
  // Popularity (a sorted set of how often each location is asked) is counted in process and
  // sent in one pipelined write once this many gets are pending or this long has passed, so a
  // get served from L1 costs no round trip. Default: 64, 1 s.
  std::size_t popularity_batch = 64;
  std::chrono::milliseconds popularity_interval = 1s;
  // Locations one cleanup() call visits at most. Default: 64.
  std::size_t cleanup_batch = 64;
  // Locations whose keys stats() measures with MEMORY USAGE (the rest is extrapolated).
  // Default: 8.
  std::size_t memory_sample_locations = 8;
  // The in-process tier of the events' cache entries (0: off). Default: 32 MiB.
  std::size_t l1_bytes = std::size_t{32} << 20;
  // Parsed day views kept in process (a day's events decoded from its buckets' JSON and
  // layered), so a read answered from L1 decodes nothing; each is served only while L1 answers
  // with the very entries it was decoded from (decision 0014). Approximate bytes; 0, or
  // l1_bytes 0, turns it off. Default: 16 MiB. Raising it keeps more days decoded.
  std::size_t day_view_bytes = std::size_t{16} << 20;
  // Where the calendar reads the time. REQUIRES: outlives the CalendarCache. Default: real.
  const Clock* clock = &Clock::real();
};

// How one store is kept.
struct StoreOptions {
  // What the events are: all events of the range (empty), or only those of these categories
  // (then every event must carry at least one of them). A query for {music} is answered by a
  // store of "all" or of a set holding "music".
  std::vector<std::string> categories{};
  // How long the events are served. Default: Options::default_ttl.
  std::optional<std::chrono::milliseconds> ttl{};
  // Who leaves the in-process tier first when it is full (low before normal before high).
  cache::Priority priority = cache::Priority::normal;
};

}  // namespace tiercache::calendar
