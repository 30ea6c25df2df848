#pragma once
// ExpiryClock: the time L1 checks stale_until against, cheaply. Reading the precise wall clock
// costs ~90 ns on the 2-core VM we measure on (more than the rest of a hit), the kernel's coarse
// clock ~20 ns; the coarse clock lags the precise one by at most one tick (1-10 ms). So a hit
// reads a bound: `low` <= now <= low + slack. An entry whose stale_until is past that window is
// certainly alive; only an entry within `slack` of its expiry pays for the precise clock. Exact:
// no entry is ever served at or after its stale_until by the injected clock.
// Thread-safety: safe from any thread (it only reads clocks).

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"

#include <chrono>
#include <ctime>

namespace tiercache::cache::detail {

class ExpiryClock {
 public:
  using time_point = Entry::time_point;

  struct Bound {
    time_point low;
  };

  // coarse: clock is Clock::real(), whose wall time the kernel's coarse clock trails.
  ExpiryClock(const Clock& clock, bool coarse) noexcept : clock_(clock), coarse_(coarse) {}

  // A time no later than now, and no earlier than now - slack.
  Bound bound() const noexcept {
    if (!coarse_) return {clock_.wall_now()};
    timespec ts{};
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return {time_point(std::chrono::duration_cast<time_point::duration>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)))};
  }
  // Whether an entry that stops at stale_until has expired, given a bound taken before.
  bool expired(time_point stale_until, Bound b) const noexcept {
    if (stale_until <= b.low) return true;
    if (!coarse_ || stale_until - b.low > kSlack) return false;
    return stale_until <= clock_.wall_now();
  }
  time_point now() const noexcept { return clock_.wall_now(); }

 private:
  // Far above a coarse tick, so that even a kernel that skips ticks cannot make it wrong.
  static constexpr std::chrono::seconds kSlack{1};
  const Clock& clock_;
  bool coarse_;
};

}  // namespace tiercache::cache::detail
