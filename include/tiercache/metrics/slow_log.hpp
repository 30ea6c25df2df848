#pragma once
// SlowLog: the last N operations that took at least a threshold (Redis's SLOWLOG, for the cache):
// when, what, which key (truncated), how long, and where (tier or detail). For the dashboard and
// the admin API; the count of slow operations can be exported through a callback counter.
// Use: SlowLog slow(SlowLogOptions{.threshold = 50ms}, clock);
//      slow.record("get_or_load", key, elapsed, "loader");   // one comparison when fast
//      for (const auto& e : slow.snapshot()) ...               // newest first
// Thread-safety: safe from any thread. record() under the threshold reads one atomic; above it,
// it takes a mutex for the copy into the ring (no allocation once the ring is warm).

#include "tiercache/base/clock.hpp"
#include "tiercache/base/thread_annotations.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tiercache::metrics {

struct SlowLogOptions {
  // Entries kept; the oldest is overwritten. Default: 128.
  std::size_t capacity = 128;
  // Operations at least this long are recorded. Default: 100 ms.
  Clock::duration threshold = std::chrono::milliseconds(100);
  // Keys longer than this are cut (at a UTF-8 character boundary) and marked truncated.
  // Default: 128 bytes.
  std::size_t max_key_bytes = 128;
};

struct SlowLogEntry {
  std::uint64_t id = 0;  // 1, 2, ... in the order recorded; gaps show overwritten entries
  std::chrono::system_clock::time_point time;  // when recorded (wall clock)
  std::string operation;
  std::string key;
  bool key_truncated = false;
  Clock::duration duration{};
  std::string detail;  // tier, endpoint, or what the caller finds useful
};

class SlowLog {
 public:
  // REQUIRES: options.capacity >= 1; clock outlives this.
  SlowLog(SlowLogOptions options, const Clock& clock);

  // Records the operation if duration >= threshold().
  void record(std::string_view operation, std::string_view key, Clock::duration duration,
              std::string_view detail = {}) {
    if (duration < Clock::duration(threshold_.load(std::memory_order_relaxed))) return;
    record_slow(operation, key, duration, detail);
  }

  void set_threshold(Clock::duration threshold) noexcept {
    threshold_.store(threshold.count(), std::memory_order_relaxed);
  }
  Clock::duration threshold() const noexcept {
    return Clock::duration(threshold_.load(std::memory_order_relaxed));
  }
  // Keys are kept up to this many bytes (SlowLogOptions::max_key_bytes); a caller that copies a
  // key in case it is slow needs max_key_bytes() + 1 of it for the entry to be the same.
  std::size_t max_key_bytes() const noexcept { return max_key_bytes_; }

  // The entries held, newest first.
  std::vector<SlowLogEntry> snapshot() const;
  // Slow operations recorded since construction (including those overwritten or cleared).
  std::uint64_t recorded() const noexcept;
  // Forgets every entry held; recorded() keeps counting.
  void clear();

 private:
  void record_slow(std::string_view operation, std::string_view key, Clock::duration duration,
                   std::string_view detail);

  const std::size_t max_key_bytes_;
  const Clock& clock_;
  std::atomic<Clock::duration::rep> threshold_;
  mutable std::mutex mu_;
  std::vector<SlowLogEntry> ring_ TIERCACHE_GUARDED_BY(mu_);
  std::size_t held_ TIERCACHE_GUARDED_BY(mu_) = 0;
  std::uint64_t next_id_ TIERCACHE_GUARDED_BY(mu_) = 1;
};

}  // namespace tiercache::metrics
