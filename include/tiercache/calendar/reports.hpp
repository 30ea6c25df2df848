#pragma once
// What the calendar's upkeep reports: stats (hits, misses, events stored, memory), a cleanup
// pass, a warm-up, and the most asked locations.
// Use: auto s = co_await cal.stats(); log("{} hits, {:.0%}", s->hits, s->hit_rate());
// Thread-safety: plain values.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tiercache::calendar {

struct CalendarStats {
  // This process, since construction. A get is a hit when the whole range was covered.
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t stores = 0;
  std::uint64_t events_stored = 0;
  std::uint64_t invalidations = 0;
  std::uint64_t warm_loads = 0;
  std::uint64_t cleanup_runs = 0;
  // The parsed day views kept in process (Options::day_view_bytes): reads served from them,
  // views decoded (a miss: no view, or its buckets changed), views evicted, and what is kept now
  // (approximate bytes, views).
  std::uint64_t day_view_hits = 0;
  std::uint64_t day_view_misses = 0;
  std::uint64_t day_view_evictions = 0;
  std::uint64_t day_view_bytes = 0;
  std::uint64_t day_view_entries = 0;
  // Redis, now (stats() only; 0 from counters()): locations with live data, and the bytes of
  // their keys: MEMORY USAGE of up to Options::memory_sample_locations locations' keys, scaled to
  // all locations (an estimate; exact when every location was sampled).
  std::uint64_t locations = 0;
  std::uint64_t sampled_locations = 0;
  std::uint64_t sampled_bytes = 0;
  std::uint64_t estimated_bytes = 0;

  double hit_rate() const noexcept {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

struct CleanupReport {
  std::size_t locations_visited = 0;
  // Coverage records and ranked days whose data had expired, removed from the indexes.
  std::size_t records_removed = 0;
  std::size_t days_removed = 0;
  // Redis keys unlinked (ranking sets and summaries of those days, emptied indexes).
  std::size_t keys_removed = 0;
  // Locations left with nothing, dropped from the cleanup schedule.
  std::size_t locations_dropped = 0;
};

struct WarmReport {
  // The locations asked of the loader, most asked first.
  std::vector<std::string> loaded;
  // Top locations already covered for the range (not asked of the loader).
  std::vector<std::string> skipped;
  // Locations whose loader or store failed, with the reason.
  std::vector<std::pair<std::string, std::string>> failed;
  std::uint64_t events_stored = 0;
  // WarmHooks::stop_requested stopped it before every top location was visited.
  bool stopped = false;
};

// A location and how often it was asked (gets, fleet-wide).
struct LocationPopularity {
  std::string location;
  double gets = 0;
};

}  // namespace tiercache::calendar
