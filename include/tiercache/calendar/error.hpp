#pragma once
// calendar::Errc: why a calendar operation was refused or failed, one value per cause a caller
// can act on. Category "tiercache.calendar". A range not (fully) cached is not an error: the
// Lookup says which days are missing. Redis trouble comes through as cache::Errc values.
// Use: if (r.error() == calendar::Errc::range_too_long) ask_for_a_shorter_range();

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace tiercache::calendar {

enum class Errc {
  // The location is empty (after trimming), too long, or contains control characters.
  invalid_location = 1,
  // A date or time is not ISO-8601 (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM]) or not a
  // real day.
  invalid_date,
  // The range ends before it starts.
  invalid_range,
  // The range spans more days than Options::max_range_days: ask for less.
  range_too_long,
  // The TTL is zero, negative, or longer than Options::max_ttl.
  invalid_ttl,
  // An event is malformed: no id, a duplicate id, end before start, outside the stored range,
  // none of the stored categories, or too large. The log (and store_problem()) says which.
  invalid_event,
  // Another argument is missing or out of range (a category, a count, a history window...).
  invalid_argument,
  // The warm loader threw or failed for every location asked.
  loader_failed,
  // The location's index kept changing under concurrent writers; try again.
  contention,
  // Data in Redis under a calendar key is not what the calendar wrote (damaged or foreign).
  corrupt_data,
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace tiercache::calendar

template <>
struct boost::system::is_error_code_enum<tiercache::calendar::Errc> : std::true_type {};
