#include "tiercache/calendar/summary.hpp"

#include "tiercache/calendar/error.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;

}  // namespace

DailySummary summarize(std::string location, Day day, std::span<const Event> events,
                       std::size_t top, TimePoint now) {
  DailySummary s;
  s.location = std::move(location);
  s.day = day;
  s.computed_at = now;
  std::vector<const Event*> ranked;
  for (const auto& e : events) {
    if (!e.on(day)) continue;
    ++s.total;
    if (e.categories.empty()) ++s.per_category[""];
    for (const auto& c : e.categories) ++s.per_category[c];
    s.first_start = s.first_start ? std::min(*s.first_start, e.start) : e.start;
    s.last_start = s.last_start ? std::max(*s.last_start, e.start) : e.start;
    ranked.push_back(&e);
  }
  std::sort(ranked.begin(), ranked.end(), [](const Event* a, const Event* b) {
    if (a->score != b->score) return a->score > b->score;
    return a->start != b->start ? a->start < b->start : a->id < b->id;
  });
  ranked.resize(std::min(ranked.size(), top));
  for (const Event* e : ranked) {
    s.top.push_back(DailySummary::Top{e->id, e->title, e->start, e->score});
  }
  return s;
}

json::object to_json(const DailySummary& s) {
  json::object out;
  out["location"] = s.location;
  out["day"] = format_day(s.day);
  out["total"] = s.total;
  json::object per;
  for (const auto& [c, n] : s.per_category) per[c] = n;
  out["per_category"] = std::move(per);
  if (s.first_start) out["first_start"] = format_time(*s.first_start);
  if (s.last_start) out["last_start"] = format_time(*s.last_start);
  json::array top;
  for (const auto& t : s.top) {
    top.emplace_back(json::object{
        {"id", t.id}, {"title", t.title}, {"start", format_time(t.start)}, {"score", t.score}});
  }
  out["top"] = std::move(top);
  out["computed_at"] = format_time(s.computed_at);
  return out;
}

Result<DailySummary> summary_from_json(const json::value& value) {
  const auto* o = value.if_object();
  if (!o) return Errc::corrupt_data;
  auto text = [o](std::string_view name) -> const json::string* {
    const auto* v = o->if_contains(name);
    return v ? v->if_string() : nullptr;
  };
  DailySummary s;
  const auto* location = text("location");
  const auto* day = text("day");
  const auto* total = o->if_contains("total");
  const auto* per = o->if_contains("per_category");
  const auto* top = o->if_contains("top");
  const auto* computed = text("computed_at");
  if (!location || !day || !total || !total->is_number() || !per || !per->is_object() || !top ||
      !top->is_array() || !computed) {
    return Errc::corrupt_data;
  }
  s.location = std::string(*location);
  auto d = parse_day(*day);
  auto at = parse_time(*computed);
  if (!d || !at) return Errc::corrupt_data;
  s.day = *d;
  s.computed_at = *at;
  boost::system::error_code ec;
  s.total = total->to_number<std::uint64_t>(ec);
  if (ec) return Errc::corrupt_data;
  for (const auto& [c, n] : per->get_object()) {
    const auto count = n.to_number<std::uint64_t>(ec);
    if (ec) return Errc::corrupt_data;
    s.per_category[std::string(c)] = count;
  }
  for (const char* name : {"first_start", "last_start"}) {
    if (const auto* t = text(name)) {
      auto parsed = parse_time(*t);
      if (!parsed) return Errc::corrupt_data;
      (std::string_view(name) == "first_start" ? s.first_start : s.last_start) = *parsed;
    }
  }
  for (const auto& item : top->get_array()) {
    const auto* t = item.if_object();
    if (!t) return Errc::corrupt_data;
    const auto* id = t->if_contains("id");
    const auto* title = t->if_contains("title");
    const auto* start = t->if_contains("start");
    const auto* score = t->if_contains("score");
    if (!id || !id->is_string() || !title || !title->is_string() || !start || !start->is_string() ||
        !score || !score->is_number()) {
      return Errc::corrupt_data;
    }
    auto st = parse_time(start->get_string());
    if (!st) return Errc::corrupt_data;
    s.top.push_back(DailySummary::Top{std::string(id->get_string()),
                                      std::string(title->get_string()), *st,
                                      score->to_number<double>()});
  }
  return s;
}

}  // namespace tiercache::calendar
