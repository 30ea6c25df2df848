#include "tiercache/metrics/counter.hpp"

namespace tiercache::metrics {

Counter::Counter()
    : cells_(std::make_unique<Cell[]>(detail::shard_count())), mask_(detail::shard_count() - 1) {}

std::uint64_t Counter::value() const noexcept {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i <= mask_; ++i) sum += cells_[i].value.load(std::memory_order_relaxed);
  return sum;
}

void Counter::reset() noexcept {
  for (std::size_t i = 0; i <= mask_; ++i) cells_[i].value.store(0, std::memory_order_relaxed);
}

}  // namespace tiercache::metrics
