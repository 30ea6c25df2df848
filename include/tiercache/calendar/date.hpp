#pragma once
// Days, date ranges and instants of the calendar, all in UTC, with their ISO-8601 text forms.
// Use: auto range = calendar::parse_range("2026-05-01", "2026-05-07");   // inclusive days
//      auto t = calendar::parse_time("2026-05-03T19:30:00+02:00");       // 17:30 UTC
// Thread-safety: plain values and pure functions.

#include "tiercache/base/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace tiercache::calendar {

// A calendar day (UTC).
using Day = std::chrono::sys_days;
// An instant, to the millisecond (UTC).
using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// Days from `from` to `to`, both included.
struct DateRange {
  Day from{};
  Day to{};

  // Days in the range (0 when to < from).
  std::int64_t days() const noexcept { return to < from ? 0 : (to - from).count() + 1; }
  bool contains(Day day) const noexcept { return from <= day && day <= to; }
  friend bool operator==(const DateRange&, const DateRange&) = default;
};

// "YYYY-MM-DD" -> the day. Fails with Errc::invalid_date (another shape, or not a real day, or a
// year outside 1900..9999).
[[nodiscard]] Result<Day> parse_day(std::string_view text);
std::string format_day(Day day);

// Both ends parsed; fails with invalid_date or invalid_range (to before from). The length is
// checked by the CalendarCache against its Options::max_range_days.
[[nodiscard]] Result<DateRange> parse_range(std::string_view from, std::string_view to);

// ISO-8601 / RFC 3339 instants: "YYYY-MM-DDTHH:MM[:SS[.fraction]]" followed by Z, +HH:MM or -HH:MM
// (no suffix reads as UTC); 't', 'z' and a space for 'T' are accepted; a bare "YYYY-MM-DD" is
// midnight UTC. Fails with Errc::invalid_date.
[[nodiscard]] Result<TimePoint> parse_time(std::string_view text);
// "YYYY-MM-DDTHH:MM:SSZ", or "...SS.mmmZ" when the milliseconds are not zero.
std::string format_time(TimePoint time);

// The UTC day an instant falls on.
inline Day day_of(TimePoint time) noexcept { return std::chrono::floor<std::chrono::days>(time); }

}  // namespace tiercache::calendar
