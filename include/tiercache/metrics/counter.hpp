#pragma once
// Counter: a count that only goes up (or back to zero on reset), one series of a counter family.
// Use: auto& hits = registry.counter("tiercache_cache_requests_total", "...", {"namespace"})
//                       .with({"users"});   // resolve once, keep the reference
//      hits.inc();                          // a relaxed atomic add on this thread's cell
// Thread-safety: safe from any thread, lock-free. value() sums the cells: concurrent with inc()
// it sees each increment either whole or not at all.

#include "tiercache/metrics/shard.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tiercache::metrics {

class Counter {
 public:
  Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc() noexcept { inc(1); }
  void inc(std::uint64_t n) noexcept {
    cells_[detail::this_thread_shard() & mask_].value.fetch_add(n, std::memory_order_relaxed);
  }

  // The sum of every inc() since construction or the last reset().
  std::uint64_t value() const noexcept;

  // Sets the count back to zero. An inc() racing with reset() is either kept or lost whole.
  void reset() noexcept;

 private:
  struct alignas(detail::kCacheLine) Cell {
    std::atomic<std::uint64_t> value{0};
  };
  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_;
};

}  // namespace tiercache::metrics
