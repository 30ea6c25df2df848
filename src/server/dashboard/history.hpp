#pragma once
// History: the dashboard's memory of the last 15 minutes. A sampler on a strand reads, every
// interval, the sources /v1/stats and /v1/health read (namespaces' counters and latency
// histograms, L1 bytes and entries, rate limiters' decisions) plus one Redis INFO and, every few
// samples, the calendar's most asked locations; it keeps the samples in a bounded ring. A page
// opened at any time draws the whole window at once from GET /v1/dashboard (report()).
// It also holds the daemon's slow-operation log: RestApi records every request that takes longer
// than its threshold.
// Use: services.dashboard = History::start(io.get_executor(), services);  // after the namespaces
//      auto body = services.dashboard->report(since);  ...  services.dashboard->stop();
// Thread-safety: safe from any thread. The sampler runs on its own strand; report() takes a
// mutex the sampler holds only to swap in a finished sample (never across a Redis round trip).

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/calendar/reports.hpp"
#include "tiercache/metrics/slow_log.hpp"
#include "tiercache/ratelimit/limiter.hpp"
#include "tiercache/redis/any_client.hpp"

#include "server/dashboard/sample.hpp"
#include "server/services.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tiercache::server::dashboard {

namespace asio = boost::asio;

struct HistoryOptions {
  // Time between samples. Default: 2 s (the page refreshes as often).
  std::chrono::milliseconds interval = std::chrono::seconds(2);
  // Samples kept: the window is interval * capacity. Default: 450 (15 minutes at 2 s); each
  // sample is a few hundred bytes plus ~150 per namespace.
  std::size_t capacity = 450;
  // The calendar's most asked locations are read every this many samples (one ZREVRANGE).
  // Default: 5 (every 10 s); popularity moves slowly.
  std::size_t calendar_every = 5;
  // How many of them. Default: 10.
  std::size_t top_locations = 10;
  // The slow-operation log: requests at least threshold long. Default: 128 kept, 100 ms.
  metrics::SlowLogOptions slow_log{};
};

class History : public std::enable_shared_from_this<History> {
 public:
  // Creates the history and starts its sampler (the first sample after one interval).
  // REQUIRES: services.namespaces and services.config are set; services outlives the sampler
  // (stop() before the daemon's threads are joined).
  static std::shared_ptr<History> start(asio::any_io_executor executor, const Services& services,
                                        HistoryOptions options = {});
  History(asio::any_io_executor executor, const Services& services, HistoryOptions options);
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Ends the sampler: cancels its timer; a sample in flight finishes (within the Redis client's
  // request timeout) and is the last. Idempotent.
  void stop();

  // GET /v1/dashboard's body: the current counters (as /v1/stats computes them), the latest
  // Redis figures and calendar ranking the sampler saw, the slow-operation log, and the samples
  // with seq > since. No Redis round trip.
  boost::json::object report(std::uint64_t since) const;

  metrics::SlowLog& slow_log() noexcept { return slow_log_; }
  const HistoryOptions& options() const noexcept { return options_; }

 private:
  // What the previous sample read, cumulative, to turn into rates.
  struct Previous {
    cache::CacheStats stats{};
    std::uint64_t writes = 0;
    std::vector<std::uint64_t> latency_counts{};
  };
  struct RedisNow {
    bool reachable = false;
    std::string error{};
    std::string version{};
    std::uint64_t used_memory = 0, used_memory_peak = 0, maxmemory = 0, evicted_keys = 0, keys = 0;
    std::string maxmemory_policy{};
    std::int64_t unix_ms = 0;
  };
  struct CalendarNow {
    std::vector<calendar::LocationPopularity> top{};
    std::string error{};
    std::int64_t unix_ms = 0;  // 0: not read yet
  };

  static asio::awaitable<void> run(std::shared_ptr<History> self);
  asio::awaitable<void> take_sample();
  asio::awaitable<std::optional<RedisNow>> read_redis();
  asio::awaitable<void> read_calendar();
  boost::json::object status_json() const TIERCACHE_REQUIRES(mu_);
  boost::json::object redis_json() const TIERCACHE_REQUIRES(mu_);
  boost::json::value calendar_json() const TIERCACHE_REQUIRES(mu_);

  const Services& services_;
  const HistoryOptions options_;
  // Copies taken at start: the daemon clears its own while shutting down.
  std::shared_ptr<redis::AnyClient> redis_;
  std::map<std::string, ratelimit::Limiter, std::less<>> limiters_;
  calendar::CalendarCache* calendar_;
  metrics::SlowLog slow_log_;
  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;  // on strand_
  std::atomic<bool> stopping_{false};

  // The sampler's own (strand_ only).
  std::map<std::string, Previous, std::less<>> previous_;
  std::map<std::string, ratelimit::Limiter::Stats, std::less<>> previous_limits_;
  std::optional<std::uint64_t> previous_evicted_keys_;
  std::chrono::steady_clock::time_point previous_time_;
  std::uint64_t next_seq_ = 1;

  mutable std::mutex mu_;
  SampleRing ring_ TIERCACHE_GUARDED_BY(mu_);
  std::optional<RedisNow> redis_now_ TIERCACHE_GUARDED_BY(mu_);
  CalendarNow calendar_now_ TIERCACHE_GUARDED_BY(mu_);
};

}  // namespace tiercache::server::dashboard
