#pragma once
// CoverageIndex: which (day, category set) buckets of one location hold live events, as records
// of stored ranges; and the day view: the events known for a day once its buckets are layered.
//
// A store of (range, categories) writes one bucket per day of the range and adds one record. A
// record replaces, day by day, the older record of the same category set (they share buckets),
// so a (day, category set) has at most one record and its expiry is its bucket's. Records of
// different sets overlap freely. A query for categories C is covered on a day when a live record
// holds the day for every c in C (a record of "all" holds every category); a query for all
// events needs a live "all" record.
//
// Layering: a day's live records are applied oldest first. An "all" record replaces everything
// before it (so older records are skipped); a record of set S removes the events carrying a
// category of S and adds its own. The result is what the newest stores say, category by
// category: a store of {music} that no longer lists a concert removes it even from an older
// "all" store's answer.
//
// The index is a cache entry (JSON) per location: read from L1 on the hot path, kept coherent
// by tracking, updated by compare-and-set. Its size is bounded by Options::max_index_records.

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/event.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::calendar::detail {

struct CoverageRecord {
  DateRange range{};
  std::vector<std::string> categories;  // normalized, sorted; empty: all
  std::string catkey;                   // detail::category_key(categories)
  std::int64_t stored_ms = 0;           // wall-clock ms: newer records win
  std::int64_t expires_ms = 0;

  bool all() const noexcept { return categories.empty(); }
  bool holds(std::string_view category) const noexcept;
  bool live(std::int64_t now_ms) const noexcept { return now_ms < expires_ms; }
  friend bool operator==(const CoverageRecord&, const CoverageRecord&) = default;
};

class CoverageIndex {
 public:
  std::vector<CoverageRecord> records;

  std::string to_json() const;
  // Fails with Errc::corrupt_data.
  [[nodiscard]] static Result<CoverageIndex> parse(std::string_view text);

  // Drops expired records; returns how many.
  std::size_t prune(std::int64_t now_ms);
  // Adds a record after taking its days away from the older record of the same set (which may
  // split in two or vanish). Beyond max_records, the records expiring first go.
  void add(CoverageRecord record, std::size_t max_records);
  // Takes the days of `range` away from every record; returns the (day, catkey) buckets that
  // were covered there.
  std::vector<std::pair<Day, std::string>> subtract(DateRange range);

  std::optional<std::int64_t> min_expiry() const;
  std::optional<std::int64_t> max_expiry() const;

  // The days of `range` not covered for `categories` (empty: all events), in order.
  std::vector<Day> missing(DateRange range, const std::vector<std::string>& categories,
                           std::int64_t now_ms) const;
  // The live records holding `day` that matter for its day view, oldest first (from the newest
  // "all" record on).
  std::vector<const CoverageRecord*> layers(Day day, std::int64_t now_ms) const;
};

// One layer of a day view: a record and the events of its bucket for that day.
struct Layer {
  const CoverageRecord* record = nullptr;
  std::span<const Event> events;
};
// The events of `day` as the layers say (see the top of this file), sorted by start then id.
std::vector<Event> day_view(std::span<const Layer> layers);

// Events in `events` carrying one of `categories` (all of them when it is empty).
bool matches(const Event& event, const std::vector<std::string>& categories);

}  // namespace tiercache::calendar::detail
