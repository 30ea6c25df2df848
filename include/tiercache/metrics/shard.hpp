#pragma once
// Sharded cells for hot metrics: a value that many threads add to is spread over a few
// cache-line-sized cells, each thread adding to its own, and summed when read (LongAdder's idea,
// with a fixed cell per thread instead of Java's probing). bench/metrics/metrics_bench.cpp
// measures why: one shared atomic costs several times more per add once two threads contend.
// Thread-safety: shard_count() and this_thread_shard() are safe from any thread.

#include <cstddef>

namespace tiercache::metrics::detail {

// A cache line, the unit two threads must not share when they write.
inline constexpr std::size_t kCacheLine = 64;

// The number of cells per sharded value: the next power of two >= the hardware threads, capped
// at 16 (a 64-byte cell each). Fixed for the life of the process.
std::size_t shard_count() noexcept;

// A number for the calling thread, assigned round robin on first use; mask it with
// shard_count() - 1. Threads past shard_count() share cells (still correct, just contended).
std::size_t assign_thread_shard() noexcept;

inline std::size_t this_thread_shard() noexcept {
  // Constant-initialized, so access needs no guard; the first call of a thread assigns it.
  thread_local std::size_t shard = ~std::size_t{0};
  if (shard == ~std::size_t{0}) [[unlikely]] {
    shard = assign_thread_shard();
  }
  return shard;
}

}  // namespace tiercache::metrics::detail
