#include "calendar/coverage.hpp"

#include "tiercache/calendar/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>

namespace tiercache::calendar::detail {
namespace {

namespace json = boost::json;

std::int64_t day_number(Day d) { return d.time_since_epoch().count(); }
Day day_from_number(std::int64_t n) { return Day(std::chrono::days(n)); }

}  // namespace

bool CoverageRecord::holds(std::string_view category) const noexcept {
  return all() || std::binary_search(categories.begin(), categories.end(), category);
}

std::string CoverageIndex::to_json() const {
  json::array out;
  for (const auto& r : records) {
    json::array cats;
    for (const auto& c : r.categories) cats.emplace_back(c);
    out.emplace_back(json::object{{"f", day_number(r.range.from)},
                                  {"t", day_number(r.range.to)},
                                  {"c", std::move(cats)},
                                  {"k", r.catkey},
                                  {"s", r.stored_ms},
                                  {"e", r.expires_ms}});
  }
  return json::serialize(json::object{{"v", 1}, {"r", std::move(out)}});
}

Result<CoverageIndex> CoverageIndex::parse(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const auto* obj = ec ? nullptr : v.if_object();
  const auto* recs = obj ? obj->if_contains("r") : nullptr;
  if (!recs || !recs->is_array()) return Errc::corrupt_data;
  CoverageIndex index;
  for (const auto& item : recs->get_array()) {
    const auto* o = item.if_object();
    if (!o) return Errc::corrupt_data;
    const auto* f = o->if_contains("f");
    const auto* t = o->if_contains("t");
    const auto* c = o->if_contains("c");
    const auto* k = o->if_contains("k");
    const auto* s = o->if_contains("s");
    const auto* e = o->if_contains("e");
    if (!f || !t || !c || !k || !s || !e || !f->is_int64() || !t->is_int64() || !c->is_array() ||
        !k->is_string() || !s->is_int64() || !e->is_int64()) {
      return Errc::corrupt_data;
    }
    CoverageRecord r;
    r.range = DateRange{day_from_number(f->get_int64()), day_from_number(t->get_int64())};
    for (const auto& name : c->get_array()) {
      if (!name.is_string()) return Errc::corrupt_data;
      r.categories.emplace_back(name.get_string());
    }
    r.catkey = std::string(k->get_string());
    r.stored_ms = s->get_int64();
    r.expires_ms = e->get_int64();
    if (r.range.to < r.range.from) return Errc::corrupt_data;
    index.records.push_back(std::move(r));
  }
  return index;
}

std::size_t CoverageIndex::prune(std::int64_t now_ms) {
  const auto before = records.size();
  std::erase_if(records, [now_ms](const CoverageRecord& r) { return !r.live(now_ms); });
  return before - records.size();
}

void CoverageIndex::add(CoverageRecord record, std::size_t max_records) {
  std::vector<CoverageRecord> kept;
  kept.reserve(records.size() + 2);
  const DateRange cut = record.range;
  for (auto& r : records) {
    if (r.catkey != record.catkey || r.range.to < cut.from || cut.to < r.range.from) {
      kept.push_back(std::move(r));
      continue;
    }
    if (r.range.from < cut.from) {
      CoverageRecord left = r;
      left.range.to = cut.from - std::chrono::days(1);
      kept.push_back(std::move(left));
    }
    if (cut.to < r.range.to) {
      CoverageRecord right = r;
      right.range.from = cut.to + std::chrono::days(1);
      kept.push_back(std::move(right));
    }
  }
  kept.push_back(std::move(record));
  if (max_records > 0 && kept.size() > max_records) {
    // The newest record (just added) stays; of the others, those expiring first go.
    std::stable_sort(kept.begin(), kept.end() - 1,
                     [](const auto& a, const auto& b) { return a.expires_ms > b.expires_ms; });
    kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(max_records - 1), kept.end() - 1);
  }
  records = std::move(kept);
}

std::vector<std::pair<Day, std::string>> CoverageIndex::subtract(DateRange range) {
  std::vector<std::pair<Day, std::string>> dropped;
  std::vector<CoverageRecord> kept;
  for (auto& r : records) {
    if (r.range.to < range.from || range.to < r.range.from) {
      kept.push_back(std::move(r));
      continue;
    }
    const Day first = std::max(r.range.from, range.from);
    const Day last = std::min(r.range.to, range.to);
    for (Day d = first; d <= last; d += std::chrono::days(1)) dropped.emplace_back(d, r.catkey);
    if (r.range.from < range.from) {
      CoverageRecord left = r;
      left.range.to = range.from - std::chrono::days(1);
      kept.push_back(std::move(left));
    }
    if (range.to < r.range.to) {
      CoverageRecord right = r;
      right.range.from = range.to + std::chrono::days(1);
      kept.push_back(std::move(right));
    }
  }
  records = std::move(kept);
  return dropped;
}

std::optional<std::int64_t> CoverageIndex::min_expiry() const {
  std::optional<std::int64_t> out;
  for (const auto& r : records) out = out ? std::min(*out, r.expires_ms) : r.expires_ms;
  return out;
}

std::optional<std::int64_t> CoverageIndex::max_expiry() const {
  std::optional<std::int64_t> out;
  for (const auto& r : records) out = out ? std::max(*out, r.expires_ms) : r.expires_ms;
  return out;
}

std::vector<Day> CoverageIndex::missing(DateRange range, const std::vector<std::string>& categories,
                                        std::int64_t now_ms) const {
  std::vector<Day> out;
  for (Day d = range.from; d <= range.to; d += std::chrono::days(1)) {
    auto held = [&](auto&& pred) {
      return std::any_of(records.begin(), records.end(), [&](const CoverageRecord& r) {
        return r.live(now_ms) && r.range.contains(d) && pred(r);
      });
    };
    const bool covered =
        categories.empty()
            ? held([](const CoverageRecord& r) { return r.all(); })
            : std::all_of(categories.begin(), categories.end(), [&](const std::string& c) {
                return held([&c](const CoverageRecord& r) { return r.holds(c); });
              });
    if (!covered) out.push_back(d);
  }
  return out;
}

std::vector<const CoverageRecord*> CoverageIndex::layers(Day day, std::int64_t now_ms) const {
  std::vector<const CoverageRecord*> out;
  for (const auto& r : records) {
    if (r.live(now_ms) && r.range.contains(day)) out.push_back(&r);
  }
  std::sort(out.begin(), out.end(), [](const CoverageRecord* a, const CoverageRecord* b) {
    return a->stored_ms != b->stored_ms ? a->stored_ms < b->stored_ms : a->catkey < b->catkey;
  });
  for (std::size_t i = out.size(); i-- > 0;) {
    if (out[i]->all()) {
      out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  return out;
}

bool matches(const Event& event, const std::vector<std::string>& categories) {
  if (categories.empty()) return true;
  return std::any_of(event.categories.begin(), event.categories.end(), [&](const std::string& c) {
    return std::find(categories.begin(), categories.end(), c) != categories.end();
  });
}

std::vector<Event> day_view(std::span<const Layer> layers) {
  std::map<std::string, const Event*> by_id;
  for (const auto& layer : layers) {
    const CoverageRecord& r = *layer.record;
    if (r.all()) {
      by_id.clear();
    } else {
      std::erase_if(by_id, [&r](const auto& item) { return matches(*item.second, r.categories); });
    }
    for (const auto& e : layer.events) {
      if (r.all() || matches(e, r.categories)) by_id[e.id] = &e;
    }
  }
  std::vector<Event> out;
  out.reserve(by_id.size());
  for (const auto& [id, e] : by_id) out.push_back(*e);
  std::sort(out.begin(), out.end(), [](const Event& a, const Event& b) {
    return a.start != b.start ? a.start < b.start : a.id < b.id;
  });
  return out;
}

}  // namespace tiercache::calendar::detail
