#pragma once
// Lookup and TopEvents: what a read of the calendar cache answers. A Lookup is a hit when every
// day of the range is covered by stored events of the asked categories; otherwise it is a miss
// that names the missing days (a partial answer is never given: the caller loads the range).
// Use: auto r = co_await cal.get("paris", range, {"music"});
//      if (r && r->hit) show(r->events); else if (r) load(r->missing_days);
// Thread-safety: plain values.

#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/event.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tiercache::calendar {

struct Lookup {
  // The location as normalized (trimmed, inner spaces squeezed, ASCII lower case).
  std::string location;
  DateRange range{};
  bool hit = false;
  // On a hit: the events touching the range, of the asked categories (all when none were asked),
  // by start time then id. Empty on a miss.
  std::vector<Event> events;
  // On a miss: the days no live store covers for the asked categories, in order.
  std::vector<Day> missing_days;
};

// How top_events orders a day's events: by start time (earliest first) or by score (highest
// first). Both are Redis sorted sets per location and day.
enum class Ranking { start_time, score };

struct TopEvents {
  std::string location;
  Day day{};
  // Whether the day is covered at all (some live store of any categories holds it).
  bool covered = false;
  // At most n events, in the ranking's order.
  std::vector<Event> events;
};

}  // namespace tiercache::calendar
