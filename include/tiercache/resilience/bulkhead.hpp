#pragma once
// Bulkhead: a bound on work in flight (Redis calls per endpoint, loader calls). Over the bound a
// caller fails fast and is counted instead of queueing behind a slow dependency.
// Use: if (auto slot = bulkhead.try_acquire()) { ...work...; }   // the slot leaves on scope exit
//      else { return Errc::overloaded; }
// Thread-safety: safe from any thread, lock-free (a compare-and-swap on one counter).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace tiercache::resilience {

class Bulkhead {
 public:
  // REQUIRES: max_in_flight >= 1.
  explicit Bulkhead(std::size_t max_in_flight);
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  // A slot: true when admitted; leaves the bulkhead when destroyed or on leave().
  class [[nodiscard]] Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : bulkhead_(std::exchange(other.bulkhead_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        leave();
        bulkhead_ = std::exchange(other.bulkhead_, nullptr);
      }
      return *this;
    }
    ~Slot() { leave(); }
    explicit operator bool() const noexcept { return bulkhead_ != nullptr; }
    void leave() noexcept {
      if (auto* b = std::exchange(bulkhead_, nullptr)) b->leave();
    }

   private:
    friend class Bulkhead;
    explicit Slot(Bulkhead* b) : bulkhead_(b) {}
    Bulkhead* bulkhead_ = nullptr;
  };

  Slot try_acquire() noexcept { return try_enter() ? Slot(this) : Slot(); }

  // true and one more in flight if below the bound; else false, counted as rejected.
  bool try_enter() noexcept;
  // REQUIRES: a matching successful try_enter().
  void leave() noexcept { in_flight_.fetch_sub(1, std::memory_order_release); }

  std::size_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  std::size_t max_in_flight() const noexcept { return max_; }
  std::uint64_t admitted() const noexcept { return admitted_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const noexcept { return rejected_.load(std::memory_order_relaxed); }

 private:
  const std::size_t max_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace tiercache::resilience
