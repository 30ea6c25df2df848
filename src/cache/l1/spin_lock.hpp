#pragma once
// SpinLock: the lock of one L1 shard, held for tens of nanoseconds per call (the hit that
// replays the shard's read buffer, one in 16, for its 16 policy updates). Test-and-test-and-set
// with a pause, then yielding the core, so that a holder preempted on an oversubscribed machine
// is not starved by its waiters. Satisfies Lockable, for std::lock_guard.
// Thread-safety: safe from any thread.

#include <atomic>
#include <thread>

namespace tiercache::cache::detail {

class SpinLock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < kSpinsBeforeYield) {
          pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  static constexpr unsigned kSpinsBeforeYield = 64;
  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::atomic<bool> locked_{false};
};

}  // namespace tiercache::cache::detail
