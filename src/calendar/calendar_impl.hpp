#pragma once
// CalendarCache::Impl: the state every calendar coroutine shares (the cache of its entries, the
// Redis client for its sorted sets and streams, counters, the popularity buffer) and the steps
// the public operations are made of. Split by concern: calendar_cache.cpp (reads), store.cpp,
// invalidate.cpp (invalidation, history, notices), upkeep.cpp (popularity, warm, cleanup, stats).

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/calendar/calendar_cache.hpp"
#include "tiercache/calendar/notice.hpp"

#include "calendar/coverage.hpp"
#include "calendar/day_view_cache.hpp"
#include "calendar/keys.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace tiercache::calendar {

class CalendarCache::Impl : public std::enable_shared_from_this<CalendarCache::Impl> {
 public:
  Impl(std::shared_ptr<redis::AnyClient> redis, Options options);

  // A location's index as read, with the cache entry's version for compare-and-set.
  struct LoadedIndex {
    detail::CoverageIndex index;
    std::uint64_t version = 0;
    bool exists = false;  // a live entry was there (else a write must be set_if_absent)
  };
  // The events of a day as its layers say (shared, immutable: see day_view_cache.hpp); null when
  // a layer's bucket is gone or damaged.
  using DayViews = std::map<Day, detail::DayView>;

  std::int64_t now_ms() const;
  TimePoint now() const { return TimePoint(std::chrono::milliseconds(now_ms())); }
  Result<void> check_range(DateRange range) const;
  Result<std::string> normalize(std::string_view location) const {
    return detail::normalize_location(location, options_.max_location_size);
  }

  // Sends a request; a transport failure is cache::Errc::redis_unavailable, an error reply (of
  // any command in it) calendar::Errc::corrupt_data, logged.
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec(resp::Request request);

  [[nodiscard]] asio::awaitable<Result<LoadedIndex>> read_index(detail::Keys keys);
  // Reads the index, prunes expired records, applies `change` (false: nothing to write) and
  // writes it back by compare-and-set, again on a lost race. Returns the index as written.
  [[nodiscard]] asio::awaitable<Result<detail::CoverageIndex>> update_index(
      detail::Keys keys, std::function<bool(detail::CoverageIndex&)> change);
  // The day views of `days` from the index's layers: one get_many of their buckets.
  [[nodiscard]] asio::awaitable<Result<DayViews>> day_views(detail::Keys keys,
                                                            detail::CoverageIndex index,
                                                            std::vector<Day> days);
  // Writes the summaries of these days' views (skipping days whose view is gone).
  [[nodiscard]] asio::awaitable<Result<void>> write_summaries(detail::Keys keys, DayViews views,
                                                              std::int64_t expires_ms);
  // The Redis keys of cache entries (the cache's namespace version prefixed).
  [[nodiscard]] asio::awaitable<Result<std::vector<std::string>>> redis_keys(
      std::vector<std::string> keys);

  [[nodiscard]] asio::awaitable<Result<std::size_t>> store(std::string location, DateRange range,
                                                           std::vector<Event> events,
                                                           StoreOptions options);
  [[nodiscard]] asio::awaitable<Result<void>> record_history(detail::Keys keys,
                                                             std::vector<std::string> fields);
  [[nodiscard]] asio::awaitable<Result<void>> publish(InvalidationNotice notice);

  // Counts a get of the location; when the batch is full or old, starts sending the pending
  // counts in the background (never awaited by the reader).
  void count_get(std::string location);
  [[nodiscard]] static asio::awaitable<void> flush_in_background(std::shared_ptr<Impl> self);
  [[nodiscard]] asio::awaitable<Result<void>> flush_popularity();
  [[nodiscard]] asio::awaitable<Result<bool>> covered(std::string location, DateRange range);
  // One location of warm(): skipped when covered, else loaded and stored; recorded in *report.
  [[nodiscard]] asio::awaitable<void> warm_one(std::string location, DateRange range,
                                               EventLoader loader, StoreOptions options,
                                               WarmReport* report);

  Options options_;
  const Clock& clock_;
  std::shared_ptr<redis::AnyClient> redis_;
  std::unique_ptr<cache::Cache> cache_;
  detail::DayViewCache day_view_cache_;

  struct Counters {
    std::atomic<std::uint64_t> hits{0}, misses{0}, stores{0}, events_stored{0}, invalidations{0},
        warm_loads{0}, cleanup_runs{0};
  } counters_;

  std::mutex popularity_mu_;
  std::map<std::string, std::uint64_t> pending_gets_ TIERCACHE_GUARDED_BY(popularity_mu_);
  std::size_t pending_count_ TIERCACHE_GUARDED_BY(popularity_mu_) = 0;
  Clock::time_point last_flush_ TIERCACHE_GUARDED_BY(popularity_mu_){};
  std::atomic<bool> flush_in_flight_{false};
};

namespace detail {
// Parses a bucket's bytes (a JSON array of events); corrupt_data when they are not.
[[nodiscard]] Result<std::vector<Event>> parse_bucket(std::string_view bytes);
// A Redis reply's string or integer as text.
std::string reply_text(resp::ReplyView reply);
}  // namespace detail

}  // namespace tiercache::calendar
