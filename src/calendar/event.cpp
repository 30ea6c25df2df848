#include "tiercache/calendar/event.hpp"

#include "tiercache/calendar/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <cmath>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;

Result<Event> fail(Errc code, std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return code;
}

}  // namespace

json::object to_json(const Event& event) {
  json::object out;
  out["id"] = event.id;
  out["title"] = event.title;
  out["start"] = format_time(event.start);
  if (event.end) out["end"] = format_time(*event.end);
  if (!event.location.empty()) out["location"] = event.location;
  json::array categories;
  for (const auto& c : event.categories) categories.emplace_back(c);
  out["categories"] = std::move(categories);
  out["score"] = event.score;
  if (!event.details.empty()) out["details"] = event.details;
  return out;
}

Result<Event> event_from_json(const json::value& value, std::string* why) {
  const auto* obj = value.if_object();
  if (!obj) return fail(Errc::invalid_event, why, "an event must be a JSON object");
  Event e;
  const auto* id = obj->if_contains("id");
  if (!id || !id->is_string() || id->get_string().empty()) {
    return fail(Errc::invalid_event, why, "an event needs a non-empty string \"id\"");
  }
  e.id = std::string(id->get_string());
  const std::string named = "event \"" + e.id + "\": ";
  auto text_field = [&](std::string_view name, std::string& out) -> bool {
    const auto* v = obj->if_contains(name);
    if (!v || v->is_null()) return true;
    if (!v->is_string()) return false;
    out = std::string(v->get_string());
    return true;
  };
  if (!text_field("title", e.title)) {
    return fail(Errc::invalid_event, why, named + "\"title\" must be a string");
  }
  if (!text_field("location", e.location)) {
    return fail(Errc::invalid_event, why, named + "\"location\" must be a string");
  }
  const auto* start = obj->if_contains("start");
  if (!start || !start->is_string()) {
    return fail(Errc::invalid_event, why,
                named + "\"start\" must be an ISO-8601 time, e.g. \"2026-05-03T19:30:00Z\"");
  }
  auto s = parse_time(start->get_string());
  if (!s) {
    return fail(
        Errc::invalid_date, why,
        named + "\"start\" is not an ISO-8601 time: \"" + std::string(start->get_string()) + "\"");
  }
  e.start = *s;
  if (const auto* end = obj->if_contains("end"); end && !end->is_null()) {
    if (!end->is_string()) {
      return fail(Errc::invalid_event, why, named + "\"end\" must be a string");
    }
    auto t = parse_time(end->get_string());
    if (!t) {
      return fail(
          Errc::invalid_date, why,
          named + "\"end\" is not an ISO-8601 time: \"" + std::string(end->get_string()) + "\"");
    }
    if (*t < e.start) return fail(Errc::invalid_event, why, named + "\"end\" is before \"start\"");
    e.end = *t;
  }
  if (const auto* cats = obj->if_contains("categories"); cats && !cats->is_null()) {
    const auto* arr = cats->if_array();
    if (!arr) {
      return fail(Errc::invalid_event, why, named + "\"categories\" must be an array of strings");
    }
    for (const auto& c : *arr) {
      if (!c.is_string()) {
        return fail(Errc::invalid_event, why, named + "\"categories\" must be an array of strings");
      }
      e.categories.emplace_back(c.get_string());
    }
  }
  if (const auto* score = obj->if_contains("score"); score && !score->is_null()) {
    if (!score->is_number()) {
      return fail(Errc::invalid_event, why, named + "\"score\" must be a number");
    }
    e.score = score->to_number<double>();
    if (!std::isfinite(e.score)) {
      return fail(Errc::invalid_event, why, named + "\"score\" must be finite");
    }
  }
  if (const auto* details = obj->if_contains("details"); details && !details->is_null()) {
    if (!details->is_object()) {
      return fail(Errc::invalid_event, why, named + "\"details\" must be a JSON object");
    }
    e.details = details->get_object();
  }
  return e;
}

Result<std::vector<Event>> events_from_json(const json::value& value, std::string* why) {
  const auto* arr = value.if_array();
  if (!arr) {
    if (why) *why = "events must be a JSON array of event objects";
    return Errc::invalid_event;
  }
  std::vector<Event> out;
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    std::string reason;
    auto e = event_from_json((*arr)[i], &reason);
    if (!e) {
      if (why) *why = "events[" + std::to_string(i) + "]: " + reason;
      return e.error();
    }
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace tiercache::calendar
