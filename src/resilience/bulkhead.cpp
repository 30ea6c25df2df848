#include "tiercache/resilience/bulkhead.hpp"

#include <stdexcept>

namespace tiercache::resilience {

Bulkhead::Bulkhead(std::size_t max_in_flight) : max_(max_in_flight) {
  if (max_in_flight == 0) throw std::invalid_argument("Bulkhead: max_in_flight must be >= 1");
}

bool Bulkhead::try_enter() noexcept {
  // A CAS, not fetch_add-then-undo: an undo would let a burst of losers push the count past the
  // bound for a moment and make callers that should fit fail too.
  std::size_t n = in_flight_.load(std::memory_order_relaxed);
  do {
    if (n >= max_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!in_flight_.compare_exchange_weak(n, n + 1, std::memory_order_acquire,
                                             std::memory_order_relaxed));
  admitted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace tiercache::resilience
