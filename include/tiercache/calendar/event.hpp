#pragma once
// Event: one calendar event as the calendar cache stores and returns it, with its JSON form
// (Boost.JSON: the daemon's REST and MCP bodies are Boost.JSON, so an event crosses without a
// second DOM; decision 0014).
// Use: auto e = calendar::event_from_json(boost::json::parse(text)); if (e) store(*e);
//      std::string text = boost::json::serialize(calendar::to_json(*e));
// Thread-safety: a plain value.
//
// JSON: {"id": "e1", "title": "Jazz night", "start": "2026-05-03T19:30:00Z",
//        "end": "2026-05-03T23:00:00Z", "location": "Le Duc des Lombards",
//        "categories": ["music"], "score": 87.5, "details": {...any JSON object...}}
// id and start are required; times are ISO-8601 (see date.hpp), written back in UTC.

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tiercache::calendar {

struct Event {
  // Unique within a store call; the same id in a later store replaces the event.
  std::string id;
  std::string title;
  TimePoint start{};
  // Absent: the event is an instant at `start` (it lies on start's day only).
  std::optional<TimePoint> end{};
  // Where it happens (a venue or address): free text, not the cache's location key.
  std::string location;
  // Lower-cased and trimmed when stored; queries filter on them.
  std::vector<std::string> categories;
  // Popularity or importance: ranks events in top_events and daily summaries.
  double score = 0.0;
  // Anything else the source had, kept as given.
  boost::json::object details;

  friend bool operator==(const Event&, const Event&) = default;

  // The last instant the event occupies (end - 1 ms, or start for an instant).
  TimePoint last_instant() const noexcept {
    return end && *end > start ? *end - std::chrono::milliseconds(1) : start;
  }
  // Whether it touches the day (UTC).
  bool on(Day day) const noexcept { return day_of(start) <= day && day <= day_of(last_instant()); }
};

boost::json::object to_json(const Event& event);
// Fails with Errc::invalid_event (not an object, no id, start missing, a field of the wrong type,
// end before start) or invalid_date; `why`, when given, receives a sentence naming the field.
[[nodiscard]] Result<Event> event_from_json(const boost::json::value& json,
                                            std::string* why = nullptr);
// A JSON array of events; `why` names the index of the first bad one.
[[nodiscard]] Result<std::vector<Event>> events_from_json(const boost::json::value& json,
                                                          std::string* why = nullptr);

}  // namespace tiercache::calendar
