#pragma once
// DailySummary: the processed digest of one location's day (counts, first and last start, the
// top events by score), kept in Redis with its own short TTL (Options::summary_ttl, 1 h) and
// rewritten whenever events of that day are stored (seed 002: cache processed data, not raw).
// Use: auto s = co_await cal.daily_summary("paris", day); if (s && *s) show((*s)->total);
// Thread-safety: plain values.

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/event.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tiercache::calendar {

struct DailySummary {
  struct Top {
    std::string id;
    std::string title;
    TimePoint start{};
    double score = 0.0;
    friend bool operator==(const Top&, const Top&) = default;
  };

  std::string location;
  Day day{};
  // Events touching the day, and how many carry each category (an event with two counts twice;
  // events without a category count under "").
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> per_category;
  // Earliest and latest start among them (absent when there are none).
  std::optional<TimePoint> first_start{};
  std::optional<TimePoint> last_start{};
  // The highest scores first, at most Options::summary_top.
  std::vector<Top> top;
  // When it was computed.
  TimePoint computed_at{};

  friend bool operator==(const DailySummary&, const DailySummary&) = default;
};

// The summary of `events` (those touching `day` count).
DailySummary summarize(std::string location, Day day, std::span<const Event> events,
                       std::size_t top, TimePoint now);

boost::json::object to_json(const DailySummary& summary);
// Fails with Errc::corrupt_data when the JSON is not a summary.
[[nodiscard]] Result<DailySummary> summary_from_json(const boost::json::value& json);

}  // namespace tiercache::calendar
