// store(): what one store writes, in this order, and why.
//
//   1. the day buckets, one per day of the range, in one MULTI (cache set_many): the events
//      touching that day, "[]" for a day without any. Written first: the index never points at
//      a bucket that was not written.
//   2. the coverage index, by compare-and-set (calendar/coverage.hpp): from here on every
//      instance answers the range (tracking evicts their L1 copies of the index).
//   3. one pipelined request on the location's slot: the day rankings (ZADD by start and by
//      score), the days set, the history stream (XADD MAXLEN ~), and a script that extends
//      their TTLs to the longest data they rank (never shortens them).
//   4. the cleanup schedule (ZADD LT on "<prefix>:locations"): a global key, its own request.
//   5. the daily summaries of the range's days, from the day views (buckets mostly in L1).
// A failure after step 1 leaves unreferenced buckets (they expire); after step 2 the events
// are served, and a ranking or summary missing is mended by the next store or read.

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/calendar/error.hpp"

#include "calendar/calendar_impl.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <set>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr std::size_t kMaxIdSize = 256;
constexpr std::size_t kHistoryIds = 20;

// Raises each key's TTL to ARGV[1] ms when it has less (or none); never lowers one.
constexpr std::string_view kExtendTtl = R"lua(
for _, key in ipairs(KEYS) do
  local left = redis.call('PTTL', key)
  if left == -1 or (left >= 0 and left < tonumber(ARGV[1])) then
    redis.call('PEXPIRE', key, ARGV[1])
  end
end
return 0)lua";

struct Prepared {
  std::string location;
  std::vector<std::string> categories;
  milliseconds ttl{};
};

Result<Prepared> fail(Errc code, std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return code;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Checks everything a store needs and normalizes the events' categories in place.
Result<Prepared> prepare(const Options& o, std::string_view location, DateRange range,
                         std::vector<Event>& events, const StoreOptions& store, std::string* why) {
  Prepared p;
  auto loc = detail::normalize_location(location, o.max_location_size);
  if (!loc) {
    return fail(Errc::invalid_location, why,
                fmt::format("location must be non-empty text of at most {} bytes without "
                            "control characters",
                            o.max_location_size));
  }
  p.location = std::move(*loc);
  if (range.to < range.from) {
    return fail(Errc::invalid_range, why,
                fmt::format("the range ends ({}) before it starts ({})", format_day(range.to),
                            format_day(range.from)));
  }
  if (range.days() > o.max_range_days) {
    return fail(Errc::range_too_long, why,
                fmt::format("the range spans {} days; at most {} are allowed", range.days(),
                            o.max_range_days));
  }
  p.ttl = store.ttl.value_or(o.default_ttl);
  if (p.ttl <= milliseconds(0) || p.ttl > o.max_ttl) {
    return fail(Errc::invalid_ttl, why,
                fmt::format("ttl must be between 1 ms and {} ms, got {} ms", o.max_ttl.count(),
                            p.ttl.count()));
  }
  auto cats = detail::normalize_categories(store.categories);
  if (!cats) {
    return fail(Errc::invalid_argument, why,
                "categories must be non-empty names of at most 64 bytes, without commas");
  }
  p.categories = std::move(*cats);
  if (events.size() > o.max_events_per_store) {
    return fail(
        Errc::invalid_event, why,
        fmt::format("{} events in one store; at most {}", events.size(), o.max_events_per_store));
  }
  std::set<std::string_view> ids;
  for (auto& e : events) {
    const std::string named = fmt::format("event \"{}\": ", e.id);
    if (e.id.empty() || e.id.size() > kMaxIdSize || has_control(e.id)) {
      return fail(Errc::invalid_event, why,
                  fmt::format("every event needs an id of 1 to {} bytes without control "
                              "characters",
                              kMaxIdSize));
    }
    if (!ids.insert(e.id).second) return fail(Errc::invalid_event, why, named + "duplicate id");
    if (e.end && *e.end < e.start) {
      return fail(Errc::invalid_event, why, named + "end is before start");
    }
    if (!std::isfinite(e.score)) {
      return fail(Errc::invalid_event, why, named + "score is not finite");
    }
    auto ec = detail::normalize_categories(e.categories);
    if (!ec) {
      return fail(Errc::invalid_event, why,
                  named + "categories must be non-empty names of at most 64 bytes, no commas");
    }
    e.categories = std::move(*ec);
    if (!p.categories.empty() && !detail::matches(e, p.categories)) {
      return fail(Errc::invalid_event, why,
                  named + "carries none of the stored categories (" +
                      fmt::format("{}", fmt::join(p.categories, ", ")) + ")");
    }
    if (day_of(e.last_instant()) < range.from || range.to < day_of(e.start)) {
      return fail(
          Errc::invalid_event, why,
          named + fmt::format("starts {} and does not touch the range {}..{}", format_time(e.start),
                              format_day(range.from), format_day(range.to)));
    }
    if (json::serialize(to_json(e)).size() > o.max_event_bytes) {
      return fail(Errc::invalid_event, why,
                  named + fmt::format("larger than {} bytes as JSON", o.max_event_bytes));
    }
  }
  // The ids' views point into `events`, which no longer changes size.
  return p;
}

}  // namespace

std::optional<std::string> store_problem(const Options& options, std::string_view location,
                                         DateRange range, const std::vector<Event>& events,
                                         const StoreOptions& store) {
  auto copy = events;
  std::string why;
  if (prepare(options, location, range, copy, store, &why)) return std::nullopt;
  return why;
}

asio::awaitable<Result<std::size_t>> CalendarCache::Impl::store(std::string location,
                                                                DateRange range,
                                                                std::vector<Event> events,
                                                                StoreOptions options) {
  std::string why;
  auto p = prepare(options_, location, range, events, options, &why);
  if (!p) {
    spdlog::debug("calendar {}: store refused: {}", options_.prefix, why);
    co_return p.error();
  }
  const detail::Keys keys(options_.prefix, p->location);
  const std::string catkey = detail::category_key(p->categories);
  const std::int64_t now = now_ms();
  const std::int64_t expires = now + p->ttl.count();

  // 1. Buckets.
  std::map<Day, std::vector<const Event*>> by_day;
  std::vector<std::string> texts;
  texts.reserve(events.size());
  for (const auto& e : events) texts.push_back(json::serialize(to_json(e)));
  std::vector<std::pair<std::string, std::string>> items;
  for (Day d = range.from; d <= range.to; d += std::chrono::days(1)) {
    std::string bucket = "[";
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!events[i].on(d)) continue;
      if (bucket.size() > 1) bucket += ',';
      bucket += texts[i];
      by_day[d].push_back(&events[i]);
    }
    bucket += ']';
    items.emplace_back(keys.bucket(d, catkey), std::move(bucket));
  }
  cache::WriteOptions write;
  write.ttl = p->ttl;
  write.grace = milliseconds(0);
  write.tags = {keys.tag()};
  write.priority = options.priority;
  write.codec = cache::Codec::json;
  auto stored = co_await cache_->set_many(std::move(items), write);
  if (!stored) co_return stored.error();

  // 2. Index.
  detail::CoverageRecord record{.range = range,
                                .categories = p->categories,
                                .catkey = catkey,
                                .stored_ms = now,
                                .expires_ms = expires};
  const std::size_t max_records = options_.max_index_records;
  std::function<bool(detail::CoverageIndex&)> add = [record,
                                                     max_records](detail::CoverageIndex& i) {
    i.add(record, max_records);
    return true;
  };
  auto index = co_await update_index(keys, std::move(add));
  if (!index) co_return index.error();

  // 3. Rankings, days, history, TTLs: one request on the location's slot.
  resp::Request req;
  std::vector<std::string> extend{keys.days()};
  std::vector<std::string> days_args{"GT"};
  for (const auto& [day, list] : by_day) {
    std::vector<std::string> by_start;
    std::vector<std::string> by_score;
    for (const Event* e : list) {
      by_start.push_back(std::to_string(e->start.time_since_epoch().count()));
      by_start.push_back(e->id);
      by_score.push_back(fmt::format("{}", e->score));
      by_score.push_back(e->id);
    }
    req.push_range("ZADD", keys.rank(day, Ranking::start_time), by_start);
    req.push_range("ZADD", keys.rank(day, Ranking::score), by_score);
    extend.push_back(keys.rank(day, Ranking::start_time));
    extend.push_back(keys.rank(day, Ranking::score));
    days_args.push_back(std::to_string(expires));
    days_args.push_back(format_day(day));
  }
  if (days_args.size() > 1) req.push_range("ZADD", keys.days(), days_args);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < events.size() && i < kHistoryIds; ++i) ids.push_back(events[i].id);
  std::vector<std::string> fields{"MAXLEN",
                                  "~",
                                  std::to_string(options_.history_max_len),
                                  "*",
                                  "op",
                                  "store",
                                  "from",
                                  format_day(range.from),
                                  "to",
                                  format_day(range.to),
                                  "categories",
                                  fmt::format("{}", fmt::join(p->categories, ",")),
                                  "events",
                                  std::to_string(events.size()),
                                  "ids",
                                  fmt::format("{}", fmt::join(ids, ",")),
                                  "ttl_ms",
                                  std::to_string(p->ttl.count())};
  req.push_range("XADD", keys.history(), fields);
  req.push("PEXPIRE", keys.history(), options_.history_ttl.count());
  std::vector<std::string> eval{std::string(kExtendTtl), std::to_string(extend.size())};
  eval.insert(eval.end(), extend.begin(), extend.end());
  eval.push_back(std::to_string(p->ttl.count()));
  req.push_range("EVAL", "", eval);
  auto ranked = co_await exec(std::move(req));
  if (!ranked) co_return ranked.error();

  // 4. Cleanup schedule.
  resp::Request schedule;
  schedule.push("ZADD", detail::locations_key(options_.prefix), "LT", expires, p->location);
  auto scheduled = co_await exec(std::move(schedule));
  if (!scheduled) co_return scheduled.error();

  // 5. Summaries.
  std::vector<Day> days;
  for (Day d = range.from; d <= range.to; d += std::chrono::days(1)) days.push_back(d);
  auto views = co_await day_views(keys, std::move(*index), std::move(days));
  if (!views) co_return views.error();
  auto summaries = co_await write_summaries(keys, std::move(*views), expires);
  if (!summaries) co_return summaries.error();

  counters_.stores.fetch_add(1, std::memory_order_relaxed);
  counters_.events_stored.fetch_add(events.size(), std::memory_order_relaxed);
  co_return events.size();
}

asio::awaitable<Result<std::size_t>> CalendarCache::store(std::string location, DateRange range,
                                                          std::vector<Event> events,
                                                          StoreOptions options) {
  auto self = impl_;
  co_return co_await self->store(std::move(location), range, std::move(events), std::move(options));
}

}  // namespace tiercache::calendar
