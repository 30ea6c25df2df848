#pragma once
// CalendarCache: events cached by location, date range and categories, on the two-tier cache
// (docs/decisions/0014-calendar-cache.md). A get is answered from every stored range that covers
// it, not only from an exact key; rankings, daily summaries, an update history and invalidation
// notices come along, plus popularity tracking, warming and cleanup.
// Use: auto redis = std::make_shared<redis::Client>(ex, redis::Config{.client_tracking = true});
//      calendar::CalendarCache cal(redis, {});              // starts the client
//      co_await cal.store("Paris", *calendar::parse_range("2026-05-01", "2026-05-07"), events);
//      auto r = co_await cal.get("paris", *calendar::parse_range("2026-05-03", "2026-05-05"));
// Thread-safety: safe from any thread. Every operation is a coroutine returning a Result.
//
// All coroutines below share these rules:
//   Completes with: the Result documented on each. Bad input fails with a calendar::Errc and
//     changes nothing; Redis trouble fails with cache::Errc::redis_unavailable (a get still
//     answers from the in-process tier when it holds the whole answer).
//   Cancellation: none of their own; each Redis round trip is bounded by the client's
//     request_timeout, and a call makes a bounded number of them.
//   Lifetimes: the CalendarCache must outlive the call; arguments are taken by value.
//   Example: tests/calendar/calendar_cache_test.cpp.
// Locations are normalized (trimmed, inner spaces squeezed, ASCII lower case): "  Paris " and
// "paris" are one location. Categories are trimmed and lower-cased.

#include "tiercache/base/result.hpp"
#include "tiercache/calendar/date.hpp"
#include "tiercache/calendar/event.hpp"
#include "tiercache/calendar/history.hpp"
#include "tiercache/calendar/lookup.hpp"
#include "tiercache/calendar/options.hpp"
#include "tiercache/calendar/reports.hpp"
#include "tiercache/calendar/summary.hpp"
#include "tiercache/redis/any_client.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::calendar {

namespace asio = boost::asio;

// Loads the events of a location for a range (warm). Write it as a named coroutine, or a
// non-coroutine lambda returning one: a capturing lambda must not itself be a coroutine. It may
// throw; the location then counts as failed.
using EventLoader =
    std::function<asio::awaitable<Result<std::vector<Event>>>(std::string location, DateRange)>;

// What warm() reports as it goes, and how it is stopped early (both optional). Both are called
// from the coroutine running warm(), between locations; keep them short and non-blocking.
struct WarmHooks {
  // After each location of the top n is done (loaded, skipped or failed): how many are done, of
  // how many, and the location.
  std::function<void(std::size_t done, std::size_t total, const std::string& location)> progress{};
  // Asked before each location: true stops warm(), which completes with what was done so far and
  // WarmReport::stopped set. A location already started is finished first.
  std::function<bool()> stop_requested{};
};

// Why a store would be refused, as a sentence naming the field (for tool results and HTTP 400s);
// nullopt when store() would accept it.
std::optional<std::string> store_problem(const Options& options, std::string_view location,
                                         DateRange range, const std::vector<Event>& events,
                                         const StoreOptions& store);

class CalendarCache {
 public:
  // REQUIRES: redis is not yet started (the cache installs its handlers, then starts it); give it
  // redis::Config::client_tracking = true so the in-process tier stays coherent across
  // instances. Throws std::invalid_argument on a bad option.
  CalendarCache(std::shared_ptr<redis::AnyClient> redis, Options options);
  ~CalendarCache();
  CalendarCache(const CalendarCache&) = delete;
  CalendarCache& operator=(const CalendarCache&) = delete;

  // Stores `events` as everything known for (location, range, options.categories): for each day
  // of the range, what was stored before for the same category set is replaced (days without
  // events are stored as empty: "nothing happens" is an answer too). Then updates the location's
  // coverage index, the day rankings, the daily summaries of those days, the history stream.
  // Fails with invalid_location, invalid_range, range_too_long, invalid_ttl, invalid_argument
  // (a bad category) or invalid_event (see store_problem()); nothing is written then.
  [[nodiscard]] asio::awaitable<Result<std::size_t>> store(std::string location, DateRange range,
                                                           std::vector<Event> events,
                                                           StoreOptions options = {});

  // The events of the location touching the range, of any of `categories` (none: all), when
  // live stores cover every day for them; else a miss naming the missing days. Counts toward
  // the location's popularity. Fails with invalid_location, invalid_range, range_too_long,
  // invalid_argument (a bad category).
  [[nodiscard]] asio::awaitable<Result<Lookup>> get(std::string location, DateRange range,
                                                    std::vector<std::string> categories = {});

  // The first n events of the day by the ranking (sorted sets "<prefix>:rank:{loc}:<day>:start"
  // and ":score"), of any categories stored for that day. Fails as get() does, or with
  // invalid_argument when n is 0 or above 1000.
  [[nodiscard]] asio::awaitable<Result<TopEvents>> top_events(std::string location, Day day,
                                                              std::size_t n, Ranking by);

  // The day's summary: the stored one (refreshed by every store touching the day), else computed
  // again from the day's events when they are still covered; nullopt when nothing of the day is
  // cached.
  [[nodiscard]] asio::awaitable<Result<std::optional<DailySummary>>> daily_summary(
      std::string location, Day day);

  // Forgets the location's events on these days (every category), in every instance: the
  // coverage index drops them (its cache entry is rewritten, so other L1 copies are evicted by
  // tracking) and their keys are unlinked. Published and recorded in the history.
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_range(std::string location,
                                                               DateRange range);
  // Forgets everything of the location in O(1) (its cache tag's version goes up), then unlinks
  // its ranking keys. Published and recorded in the history (which itself is kept).
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_location(std::string location);

  // The location's changes recorded between two instants (inclusive), oldest first, at most
  // `limit` (1..10000; else invalid_argument).
  [[nodiscard]] asio::awaitable<Result<std::vector<HistoryEntry>>> history(std::string location,
                                                                           TimePoint since,
                                                                           TimePoint until,
                                                                           std::size_t limit);

  // The n most asked locations (fleet-wide; this process's pending counts are sent first).
  [[nodiscard]] asio::awaitable<Result<std::vector<LocationPopularity>>> popular_locations(
      std::size_t n);
  // Loads the n most asked locations for `range` through `loader` and stores what it returns
  // (with `options`), one location at a time; locations already covered for the range are
  // skipped. Completes with what was done; fails only on bad input or when Redis cannot say
  // which locations are popular. `hooks` report progress and can stop it between locations.
  [[nodiscard]] asio::awaitable<Result<WarmReport>> warm(std::size_t n, DateRange range,
                                                         EventLoader loader,
                                                         StoreOptions options = {},
                                                         WarmHooks hooks = {});

  // One bounded pass of upkeep (call it on a timer): visits at most Options::cleanup_batch
  // locations whose earliest data has expired and removes the expired coverage records, ranked
  // days and summaries from their indexes.
  [[nodiscard]] asio::awaitable<Result<CleanupReport>> cleanup();

  // counters() plus the number of locations and their memory (MEMORY USAGE sampling, bounded).
  [[nodiscard]] asio::awaitable<Result<CalendarStats>> stats();
  // This process's counters, without a round trip.
  CalendarStats counters() const;

  const Options& options() const noexcept;
  // Whether in-process copies are kept coherent by Redis's invalidation pushes (RESP3 and
  // client_tracking; else they live at most cache::Options::untracked_l1_ttl).
  bool tracking() const noexcept;
  // The normalized form of a location (what keys and results use); invalid_location when bad.
  [[nodiscard]] Result<std::string> normalize_location(std::string_view location) const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace tiercache::calendar
