#include "tiercache/metrics/shard.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <thread>

namespace tiercache::metrics::detail {

std::size_t shard_count() noexcept {
  static const std::size_t count = [] {
    const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    return std::min<std::size_t>(std::bit_ceil(threads), 16);
  }();
  return count;
}

std::size_t assign_thread_shard() noexcept {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) & 0xffff;
}

}  // namespace tiercache::metrics::detail
