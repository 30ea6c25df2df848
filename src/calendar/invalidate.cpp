// Invalidation, history and notices.
//
// invalidate_range drops the days from the location's coverage index (compare-and-set of its
// cache entry): from then on no instance answers them, since every read starts at the index and
// tracking evicts the old index from every L1. The days' buckets, summaries and rankings are
// then unlinked to free memory; a reader that fetched the old index just before may still
// answer from buckets it holds, the bounded window DESIGN.md promises.
// invalidate_location bumps the location's cache tag: index, buckets and summaries of every
// instance are dead in O(1) (decision 0003). Its rankings are plain keys: unlinked by day, as
// listed in its days set.
// Both then XADD to the location's history and PUBLISH a notice (notice.hpp): the history is
// kept, so a location's story survives its invalidation.

#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/calendar/error.hpp"

#include "calendar/calendar_impl.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <set>

namespace tiercache::calendar {
namespace {

constexpr std::size_t kUnlinkBatch = 500;

void push_unlinks(resp::Request& req, const std::vector<std::string>& keys) {
  for (std::size_t at = 0; at < keys.size(); at += kUnlinkBatch) {
    const auto end = std::min(keys.size(), at + kUnlinkBatch);
    std::vector<std::string_view> batch(keys.begin() + static_cast<std::ptrdiff_t>(at),
                                        keys.begin() + static_cast<std::ptrdiff_t>(end));
    req.push_range("UNLINK", "", batch);
  }
}

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

// One XRANGE element: [id, [field, value, ...]] (a map under RESP3 for some servers).
std::optional<HistoryEntry> parse_entry(resp::ReplyView item) {
  if (item.size() != 2) return std::nullopt;
  HistoryEntry h;
  h.id = std::string(item.at(0).str());
  std::int64_t ms = 0;
  const auto dash = h.id.find('-');
  std::from_chars(h.id.data(), h.id.data() + (dash == std::string::npos ? h.id.size() : dash), ms);
  h.at = TimePoint(std::chrono::milliseconds(ms));
  const auto fields = item.at(1);
  std::string from, to;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const auto name = fields.at(i).str();
    const auto value = fields.at(i + 1).str();
    if (name == "op") {
      h.op = std::string(value);
    } else if (name == "from") {
      from = std::string(value);
    } else if (name == "to") {
      to = std::string(value);
    } else if (name == "categories") {
      h.categories = split(value);
    } else if (name == "events") {
      std::from_chars(value.data(), value.data() + value.size(), h.events);
    } else if (name == "ids") {
      h.event_ids = split(value);
    } else if (name == "ttl_ms") {
      std::from_chars(value.data(), value.data() + value.size(), h.ttl_ms);
    }
  }
  if (!from.empty() && !to.empty()) {
    if (auto r = parse_range(from, to)) h.range = *r;
  }
  return h;
}

}  // namespace

asio::awaitable<Result<void>> CalendarCache::Impl::record_history(detail::Keys keys,
                                                                  std::vector<std::string> fields) {
  std::vector<std::string> args{"MAXLEN", "~", std::to_string(options_.history_max_len), "*"};
  args.insert(args.end(), fields.begin(), fields.end());
  resp::Request req;
  req.push_range("XADD", keys.history(), args);
  req.push("PEXPIRE", keys.history(), options_.history_ttl.count());
  auto r = co_await exec(std::move(req));
  if (!r) co_return r.error();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CalendarCache::Impl::publish(InvalidationNotice notice) {
  resp::Request req;
  req.push("PUBLISH", options_.invalidation_channel, to_json_text(notice));
  auto r = co_await exec(std::move(req));
  if (!r) co_return r.error();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CalendarCache::invalidate_range(std::string location,
                                                              DateRange range) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  if (auto ok = self->check_range(range); !ok) co_return ok.error();
  const detail::Keys keys(self->options_.prefix, *loc);

  auto dropped = std::make_shared<std::vector<std::pair<Day, std::string>>>();
  std::function<bool(detail::CoverageIndex&)> cut = [dropped, range](detail::CoverageIndex& i) {
    *dropped = i.subtract(range);
    return !dropped->empty();
  };
  auto index = co_await self->update_index(keys, std::move(cut));
  if (!index) co_return index.error();

  // Free what the days held: buckets and summaries (cache entries), rankings (plain keys).
  std::vector<std::string> entries;
  std::set<Day> days;
  for (const auto& [day, catkey] : *dropped) {
    entries.push_back(keys.bucket(day, catkey));
    if (days.insert(day).second) entries.push_back(keys.summary(day));
  }
  auto unlink = co_await self->redis_keys(std::move(entries));
  if (!unlink) co_return unlink.error();
  std::vector<std::string> day_names;
  for (Day d = range.from; d <= range.to; d += std::chrono::days(1)) {
    unlink->push_back(keys.rank(d, Ranking::start_time));
    unlink->push_back(keys.rank(d, Ranking::score));
    day_names.push_back(format_day(d));
  }
  resp::Request req;
  push_unlinks(req, *unlink);
  req.push_range("ZREM", keys.days(), day_names);
  auto r = co_await self->exec(std::move(req));
  if (!r) co_return r.error();

  std::vector<std::string> fields{"op", "invalidate_range",  "from", format_day(range.from),
                                  "to", format_day(range.to)};
  auto h = co_await self->record_history(keys, std::move(fields));
  if (!h) co_return h.error();
  InvalidationNotice notice{.kind = InvalidationNotice::Kind::range,
                            .prefix = self->options_.prefix,
                            .location = *loc,
                            .range = range,
                            .at = self->now()};
  auto p = co_await self->publish(std::move(notice));
  if (!p) co_return p.error();
  self->counters_.invalidations.fetch_add(1, std::memory_order_relaxed);
  co_return Result<void>{};
}

asio::awaitable<Result<void>> CalendarCache::invalidate_location(std::string location) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  const detail::Keys keys(self->options_.prefix, *loc);
  std::vector<std::string> tags{keys.tag()};
  auto dropped = co_await self->cache_->invalidate_tags(std::move(tags));
  if (!dropped) co_return dropped.error();

  resp::Request list;
  list.push("ZRANGE", keys.days(), 0, -1);
  auto days = co_await self->exec(std::move(list));
  if (!days) co_return days.error();
  std::vector<std::string> unlink{keys.days()};
  for (const auto day : *days) {
    auto d = parse_day(day.str());
    if (!d) continue;
    unlink.push_back(keys.rank(*d, Ranking::start_time));
    unlink.push_back(keys.rank(*d, Ranking::score));
  }
  resp::Request req;
  push_unlinks(req, unlink);
  auto r = co_await self->exec(std::move(req));
  if (!r) co_return r.error();
  resp::Request unschedule;
  unschedule.push("ZREM", detail::locations_key(self->options_.prefix), *loc);
  auto u = co_await self->exec(std::move(unschedule));
  if (!u) co_return u.error();

  std::vector<std::string> fields{"op", "invalidate_location"};
  auto h = co_await self->record_history(keys, std::move(fields));
  if (!h) co_return h.error();
  InvalidationNotice notice{.kind = InvalidationNotice::Kind::location,
                            .prefix = self->options_.prefix,
                            .location = *loc,
                            .range = std::nullopt,
                            .at = self->now()};
  auto p = co_await self->publish(std::move(notice));
  if (!p) co_return p.error();
  self->counters_.invalidations.fetch_add(1, std::memory_order_relaxed);
  co_return Result<void>{};
}

asio::awaitable<Result<std::vector<HistoryEntry>>> CalendarCache::history(std::string location,
                                                                          TimePoint since,
                                                                          TimePoint until,
                                                                          std::size_t limit) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  if (limit == 0 || limit > 10000 || until < since || since.time_since_epoch().count() < 0) {
    co_return Errc::invalid_argument;
  }
  const detail::Keys keys(self->options_.prefix, *loc);
  resp::Request req;
  req.push("XRANGE", keys.history(), std::to_string(since.time_since_epoch().count()),
           std::to_string(until.time_since_epoch().count()), "COUNT", limit);
  auto r = co_await self->exec(std::move(req));
  if (!r) co_return r.error();
  std::vector<HistoryEntry> out;
  for (const auto item : *r) {
    if (auto h = parse_entry(item)) out.push_back(std::move(*h));
  }
  co_return out;
}

}  // namespace tiercache::calendar
