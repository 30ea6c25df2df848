// The calendar cache's shared steps and its reads (get, top_events, daily_summary). The data
// model, and what each operation costs in round trips, is in docs/decisions/0014-calendar-cache.md;
// the coverage rules in calendar/coverage.hpp.
//
// Every read goes through the location's coverage index first: a cache entry, so on the hot path
// it comes from L1 and costs no round trip, and tracking evicts it in every instance when any
// instance rewrites it. Buckets are read only when the index says they answer, and a bucket that
// is gone (expired, evicted, invalidated) makes its day a miss rather than an empty day. That is
// what makes invalidation simple: dropping a day from the index is enough to stop every instance
// from answering it; unlinking its keys afterwards only frees memory.

#include "tiercache/calendar/calendar_cache.hpp"

#include "tiercache/cache/error.hpp"
#include "tiercache/calendar/error.hpp"

#include "calendar/calendar_impl.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace tiercache::calendar {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr int kIndexAttempts = 8;

cache::Options cache_options(const Options& o) {
  cache::Options c;
  c.ns = o.prefix;
  c.default_ttl = o.default_ttl;
  // Calendar data are never served past their TTL: a stale day would be a wrong answer.
  c.default_grace = milliseconds(0);
  c.max_ttl = std::max({o.max_ttl, o.summary_ttl, o.default_ttl});
  c.l1_bytes = o.l1_bytes;
  c.clock = o.clock;
  return c;
}

void check(const Options& o) {
  auto bad = [](const std::string& what) {
    throw std::invalid_argument("calendar::Options: " + what);
  };
  if (o.default_ttl <= milliseconds(0) || o.max_ttl < o.default_ttl) {
    bad("default_ttl must be > 0 and <= max_ttl");
  }
  if (o.summary_ttl <= milliseconds(0)) bad("summary_ttl must be > 0");
  if (o.max_range_days < 1) bad("max_range_days must be >= 1");
  if (o.invalidation_channel.empty()) bad("invalidation_channel must not be empty");
  if (o.history_max_len == 0 || o.history_ttl <= milliseconds(0)) {
    bad("history_max_len and history_ttl must be > 0");
  }
  if (o.max_index_records == 0 || o.cleanup_batch == 0) {
    bad("max_index_records and cleanup_batch must be > 0");
  }
  if (o.clock == nullptr) bad("clock must not be null");
}

}  // namespace

namespace detail {

Result<std::vector<Event>> parse_bucket(std::string_view bytes) {
  boost::system::error_code ec;
  const json::value v = json::parse(bytes, ec);
  if (ec) return Errc::corrupt_data;
  auto events = events_from_json(v);
  if (!events) return Errc::corrupt_data;
  return events;
}

std::string reply_text(resp::ReplyView reply) {
  if (reply.type() == resp::Type::integer) return std::to_string(reply.integer());
  return std::string(reply.str());
}

}  // namespace detail

CalendarCache::Impl::Impl(std::shared_ptr<redis::AnyClient> redis, Options options)
    : options_(std::move(options)),
      clock_(*options_.clock),
      redis_(std::move(redis)),
      // Without L1 every read gets new Entry objects: a kept view could never be served.
      day_view_cache_(options_.l1_bytes == 0 ? 0 : options_.day_view_bytes) {
  check(options_);
  if (!redis_) {
    throw std::invalid_argument(
        "calendar::CalendarCache needs Redis: its rankings, history and notices live there");
  }
  cache_ = std::make_unique<cache::Cache>(redis_, cache_options(options_));
  last_flush_ = clock_.now();
}

std::int64_t CalendarCache::Impl::now_ms() const {
  return std::chrono::duration_cast<milliseconds>(clock_.wall_now().time_since_epoch()).count();
}

Result<void> CalendarCache::Impl::check_range(DateRange range) const {
  if (range.to < range.from) return Errc::invalid_range;
  if (range.days() > options_.max_range_days) return Errc::range_too_long;
  return {};
}

asio::awaitable<Result<resp::Reply>> CalendarCache::Impl::exec(resp::Request request) {
  auto r = co_await redis_->exec(std::move(request));
  if (!r) {
    spdlog::debug("calendar {}: redis: {}", options_.prefix, r.error().message());
    co_return cache::Errc::redis_unavailable;
  }
  auto failed = [](resp::ReplyView v) { return v.is_error(); };
  const bool error = r->is_error() ||
                     (r->type() == resp::Type::array && std::any_of(r->begin(), r->end(), failed));
  if (error) {
    spdlog::warn("calendar {}: redis refused a command: {}", options_.prefix, resp::to_display(*r));
    co_return Errc::corrupt_data;
  }
  co_return std::move(*r);
}

asio::awaitable<Result<CalendarCache::Impl::LoadedIndex>> CalendarCache::Impl::read_index(
    detail::Keys keys) {
  auto r = co_await cache_->get(keys.index());
  if (!r) co_return r.error();
  LoadedIndex out;
  if (!r->hit()) {
    if (r->error == cache::Errc::redis_unavailable) co_return r->error;
    co_return out;
  }
  out.exists = true;
  out.version = r->entry->version;
  auto parsed = detail::CoverageIndex::parse(r->value());
  if (parsed) {
    out.index = std::move(*parsed);
  } else {
    spdlog::warn("calendar {}: the index of '{}' is damaged; it starts again empty",
                 options_.prefix, keys.location());
  }
  co_return out;
}

asio::awaitable<Result<detail::CoverageIndex>> CalendarCache::Impl::update_index(
    detail::Keys keys, std::function<bool(detail::CoverageIndex&)> change) {
  for (int attempt = 0; attempt < kIndexAttempts; ++attempt) {
    auto loaded = co_await read_index(keys);
    if (!loaded) co_return loaded.error();
    detail::CoverageIndex index = std::move(loaded->index);
    const std::int64_t now = now_ms();
    const bool pruned = index.prune(now) > 0;
    const bool changed = change(index);
    if (!changed && !pruned) co_return index;
    cache::WriteOptions write;
    // An empty index lives a minute: long enough to win races against stale readers' rewrites.
    const std::int64_t until = index.max_expiry().value_or(now + 60'000);
    write.ttl = milliseconds(std::max<std::int64_t>(until - now, 1));
    write.grace = milliseconds(0);
    write.tags = {keys.tag()};
    write.priority = cache::Priority::high;
    write.codec = cache::Codec::json;
    Result<bool> written = false;
    if (loaded->exists) {
      written =
          co_await cache_->compare_and_set(keys.index(), loaded->version, index.to_json(), write);
    } else {
      written = co_await cache_->set_if_absent(keys.index(), index.to_json(), write);
    }
    if (!written && written.error() != cache::Errc::contention) co_return written.error();
    if (written && *written) co_return index;
  }
  co_return Errc::contention;
}

asio::awaitable<Result<CalendarCache::Impl::DayViews>> CalendarCache::Impl::day_views(
    detail::Keys keys, detail::CoverageIndex index, std::vector<Day> days) {
  const std::int64_t now = now_ms();
  std::map<Day, std::vector<std::string>> layer_names;  // each day's buckets, oldest layer first
  std::map<Day, std::vector<const detail::CoverageRecord*>> layers;
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const Day d : days) {
    auto& l = layers[d];
    l = index.layers(d, now);
    auto& ln = layer_names[d];
    for (const auto* r : l) {
      auto name = keys.bucket(d, r->catkey);
      ln.push_back(name);
      if (seen.insert(name).second) names.push_back(std::move(name));
    }
  }
  std::map<std::string, std::shared_ptr<const cache::Entry>> entries;
  if (!names.empty()) {
    auto got = co_await cache_->get_many(names);
    if (!got) co_return got.error();
    for (std::size_t i = 0; i < names.size(); ++i) {
      auto& r = (*got)[i];
      if (!r.hit()) {
        if (r.error == cache::Errc::redis_unavailable) co_return r.error;
        continue;
      }
      entries.emplace(names[i], std::move(r.entry));
    }
  }
  // Buckets decoded for this call (a bucket shared by several days' views is decoded once).
  std::map<std::string, std::optional<std::vector<Event>>> decoded;
  const auto decode = [&](const std::string& name) -> const std::optional<std::vector<Event>>& {
    auto [it, fresh] = decoded.try_emplace(name);
    if (!fresh) return it->second;
    auto events = detail::parse_bucket(entries.at(name)->value);
    if (events) {
      it->second = std::move(*events);
    } else {
      spdlog::warn("calendar {}: bucket {} is damaged; its day counts as missing", options_.prefix,
                   name);
    }
    return it->second;
  };
  DayViews views;
  for (const Day d : days) {
    const auto& l = layers[d];
    const auto& ln = layer_names[d];
    detail::BucketEntries sources;
    std::string view_key;
    bool whole = !l.empty();
    for (const auto& name : ln) {
      const auto it = entries.find(name);
      if (it == entries.end()) {
        whole = false;
        break;
      }
      sources.push_back(it->second);
      view_key += name;
      view_key += '\n';
    }
    if (!whole) {
      views[d] = nullptr;
      continue;
    }
    if (auto kept = day_view_cache_.find(view_key, sources)) {
      views[d] = std::move(kept);
      continue;
    }
    std::vector<detail::Layer> parts;
    for (std::size_t i = 0; i < l.size() && whole; ++i) {
      const auto& events = decode(ln[i]);
      if (!events) {
        whole = false;
        break;
      }
      parts.push_back(detail::Layer{l[i], *events});
    }
    if (!whole) {
      views[d] = nullptr;
      continue;
    }
    auto view = std::make_shared<const std::vector<Event>>(detail::day_view(parts));
    day_view_cache_.insert(view_key, sources, view);
    views[d] = std::move(view);
  }
  co_return views;
}

asio::awaitable<Result<std::vector<std::string>>> CalendarCache::Impl::redis_keys(
    std::vector<std::string> keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (auto& k : keys) {
    auto rk = co_await cache_->redis_key(std::move(k));
    if (!rk) co_return rk.error();
    out.push_back(std::move(*rk));
  }
  co_return out;
}

asio::awaitable<Result<void>> CalendarCache::Impl::write_summaries(detail::Keys keys,
                                                                   DayViews views,
                                                                   std::int64_t expires_ms) {
  const TimePoint at = now();
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& [day, view] : views) {
    if (!view) continue;
    const auto s = summarize(keys.location(), day, *view, options_.summary_top, at);
    items.emplace_back(keys.summary(day), json::serialize(to_json(s)));
  }
  if (items.empty()) co_return Result<void>{};
  cache::WriteOptions write;
  const auto left = milliseconds(std::max<std::int64_t>(expires_ms - now_ms(), 1));
  write.ttl = std::min(options_.summary_ttl, left);
  write.grace = milliseconds(0);
  write.tags = {keys.tag()};
  write.codec = cache::Codec::json;
  co_return co_await cache_->set_many(std::move(items), write);
}

CalendarCache::CalendarCache(std::shared_ptr<redis::AnyClient> redis, Options options)
    : impl_(std::make_shared<Impl>(std::move(redis), std::move(options))) {}

// Stops the client, as the cache would: coroutines still running then fail fast.
CalendarCache::~CalendarCache() { impl_->redis_->stop(); }

const Options& CalendarCache::options() const noexcept { return impl_->options_; }
bool CalendarCache::tracking() const noexcept { return impl_->cache_->tracking(); }

Result<std::string> CalendarCache::normalize_location(std::string_view location) const {
  return impl_->normalize(location);
}

CalendarStats CalendarCache::counters() const {
  const auto& c = impl_->counters_;
  CalendarStats s;
  s.hits = c.hits.load(std::memory_order_relaxed);
  s.misses = c.misses.load(std::memory_order_relaxed);
  s.stores = c.stores.load(std::memory_order_relaxed);
  s.events_stored = c.events_stored.load(std::memory_order_relaxed);
  s.invalidations = c.invalidations.load(std::memory_order_relaxed);
  s.warm_loads = c.warm_loads.load(std::memory_order_relaxed);
  s.cleanup_runs = c.cleanup_runs.load(std::memory_order_relaxed);
  const auto views = impl_->day_view_cache_.counters();
  s.day_view_hits = views.hits;
  s.day_view_misses = views.misses;
  s.day_view_evictions = views.evictions;
  s.day_view_bytes = views.bytes;
  s.day_view_entries = views.entries;
  return s;
}

asio::awaitable<Result<Lookup>> CalendarCache::get(std::string location, DateRange range,
                                                   std::vector<std::string> categories) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  if (auto ok = self->check_range(range); !ok) co_return ok.error();
  auto cats = detail::normalize_categories(categories);
  if (!cats) co_return cats.error();
  self->count_get(*loc);
  const detail::Keys keys(self->options_.prefix, *loc);
  auto loaded = co_await self->read_index(keys);
  if (!loaded) co_return loaded.error();
  Lookup out;
  out.location = *loc;
  out.range = range;
  out.missing_days = loaded->index.missing(range, *cats, self->now_ms());
  if (out.missing_days.empty()) {
    std::vector<Day> days;
    for (Day d = range.from; d <= range.to; d += std::chrono::days(1)) days.push_back(d);
    auto views = co_await self->day_views(keys, loaded->index, days);
    if (!views) co_return views.error();
    std::set<std::string> seen;
    for (auto& [day, view] : *views) {
      if (!view) {
        out.missing_days.push_back(day);
        continue;
      }
      for (const auto& e : *view) {
        if (detail::matches(e, *cats) && seen.insert(e.id).second) out.events.push_back(e);
      }
    }
  }
  if (!out.missing_days.empty()) {
    out.events.clear();
    self->counters_.misses.fetch_add(1, std::memory_order_relaxed);
    co_return out;
  }
  std::sort(out.events.begin(), out.events.end(), [](const Event& a, const Event& b) {
    return a.start != b.start ? a.start < b.start : a.id < b.id;
  });
  out.hit = true;
  self->counters_.hits.fetch_add(1, std::memory_order_relaxed);
  co_return out;
}

asio::awaitable<Result<TopEvents>> CalendarCache::top_events(std::string location, Day day,
                                                             std::size_t n, Ranking by) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  if (n == 0 || n > 1000) co_return Errc::invalid_argument;
  self->count_get(*loc);
  const detail::Keys keys(self->options_.prefix, *loc);
  TopEvents out;
  out.location = *loc;
  out.day = day;
  auto loaded = co_await self->read_index(keys);
  if (!loaded) co_return loaded.error();
  std::vector<Day> days{day};
  auto views = co_await self->day_views(keys, loaded->index, days);
  if (!views) co_return views.error();
  auto& view = (*views)[day];
  if (!view) co_return out;
  out.covered = true;
  std::map<std::string, const Event*> by_id;
  for (const auto& e : *view) by_id.emplace(e.id, &e);
  // Members of the sorted set whose event is no longer in the day (replaced by a later store)
  // are skipped, so a page may yield fewer than it holds: read on until n or the end.
  const std::size_t page = std::max<std::size_t>(2 * n, 32);
  for (std::size_t offset = 0; out.events.size() < n; offset += page) {
    resp::Request req;
    req.push(by == Ranking::start_time ? "ZRANGE" : "ZREVRANGE", keys.rank(day, by), offset,
             offset + page - 1);
    auto r = co_await self->exec(std::move(req));
    if (!r) co_return r.error();
    for (const auto member : *r) {
      auto it = by_id.find(std::string(member.str()));
      if (it == by_id.end()) continue;
      out.events.push_back(*it->second);
      by_id.erase(it);
      if (out.events.size() == n) break;
    }
    if (r->size() < page) break;
  }
  co_return out;
}

asio::awaitable<Result<std::optional<DailySummary>>> CalendarCache::daily_summary(
    std::string location, Day day) {
  auto self = impl_;
  auto loc = self->normalize(location);
  if (!loc) co_return loc.error();
  const detail::Keys keys(self->options_.prefix, *loc);
  auto loaded = co_await self->read_index(keys);
  if (!loaded) co_return loaded.error();
  const auto layers = loaded->index.layers(day, self->now_ms());
  if (layers.empty()) co_return std::optional<DailySummary>();
  std::int64_t expires = 0;
  for (const auto* l : layers) expires = std::max(expires, l->expires_ms);
  auto stored = co_await self->cache_->get(keys.summary(day));
  if (!stored) co_return stored.error();
  if (stored->hit()) {
    boost::system::error_code ec;
    const json::value v = json::parse(stored->value(), ec);
    if (!ec) {
      if (auto s = summary_from_json(v)) co_return std::optional<DailySummary>(std::move(*s));
    }
    spdlog::warn("calendar {}: the summary of '{}' {} is damaged; computing it again",
                 self->options_.prefix, *loc, format_day(day));
  }
  std::vector<Day> days{day};
  auto views = co_await self->day_views(keys, loaded->index, days);
  if (!views) co_return views.error();
  if (!(*views)[day]) co_return std::optional<DailySummary>();
  auto summary = summarize(*loc, day, *(*views)[day], self->options_.summary_top, self->now());
  auto written = co_await self->write_summaries(keys, std::move(*views), expires);
  if (!written) co_return written.error();
  co_return std::optional<DailySummary>(std::move(summary));
}

}  // namespace tiercache::calendar
