#pragma once
// Clock: where every layer reads the time, injected so TTL, breaker and backoff tests need no sleep
// (Caffeine's Ticker). Use Clock::real() in production and ManualClock in tests.
// Thread-safety: both implementations are safe from any thread.

#include <atomic>
#include <chrono>

namespace tiercache {

class Clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  // A monotonic time: for durations, deadlines and ages within this process.
  virtual time_point now() const noexcept = 0;
  // Wall-clock time: for timestamps stored in Redis and compared across machines.
  virtual std::chrono::system_clock::time_point wall_now() const noexcept = 0;

  // The process-wide clock backed by std::chrono::steady_clock and system_clock.
  static const Clock& real() noexcept;
};

// A clock that moves only when told to. Starts at an arbitrary fixed point.
class ManualClock final : public Clock {
 public:
  time_point now() const noexcept override { return time_point(duration(nanos_.load())); }
  std::chrono::system_clock::time_point wall_now() const noexcept override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            duration(wall_base_ + nanos_.load())));
  }
  void advance(duration d) noexcept { nanos_.fetch_add(d.count()); }

 private:
  static constexpr duration::rep wall_base_ = 1'700'000'000'000'000'000;  // 2023-11-14
  std::atomic<duration::rep> nanos_{1'000'000'000};
};

}  // namespace tiercache
