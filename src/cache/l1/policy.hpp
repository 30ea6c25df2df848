#pragma once
// Policy: which entry of a shard leaves first. W-TinyLFU [1][2] weighted by bytes, one set of
// queues per priority class, the lowest non-empty class evicted first. policy.cpp explains it.
// Use: add() a new node, on_hit() a read (on_hits() a batch of them), remove() a node leaving
// for another reason; to make room: overflow_windows(), then select_victim() until the shard
// fits, then admit_candidates().
// Thread-safety: not thread-safe; owned by one shard and used under its lock.

#include "cache/l1/node.hpp"
#include "cache/l1/sketch.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace tiercache::cache::detail {

class Policy {
 public:
  static constexpr std::size_t kClasses = 3;  // Priority::low, normal, high

  struct Victim {
    Node* node = nullptr;
    bool rejected = false;  // node is a new arrival that lost admission to a main-space entry
  };

  // capacity: the shard's budget in bytes, which the window and the protected segment are
  // shares of. Grows the sketch to its minimum size.
  void configure(std::size_t capacity, double window_fraction, bool adaptive);

  void add(Node* n);
  void on_hit(Node* n) noexcept;
  // on_hit for each node in order, after prefetching what they will write (their queue
  // neighbours and sketch blocks), so that their cache misses overlap instead of queueing.
  void on_hits(std::span<Node* const> nodes) noexcept;
  void on_miss() noexcept { record(false); }
  void remove(Node* n) noexcept;

  void overflow_windows() noexcept;
  Victim select_victim() noexcept;
  void admit_candidates() noexcept;

  // Keeps the sketch at least as large as the number of entries (it grows by doubling).
  void ensure_sketch(std::size_t entries) { sketch_.ensure_capacity(entries); }
  std::size_t sketch_bytes() const noexcept { return sketch_.bytes(); }
  std::size_t sketch_bytes_after(std::size_t entries) const noexcept;
  std::size_t window_max() const noexcept { return window_max_; }
  unsigned frequency(std::uint64_t hash) const noexcept { return sketch_.frequency(hash); }

 private:
  struct Queues {
    NodeList window, candidate, probation, protect;
    bool empty() const noexcept {
      return window.empty() && candidate.empty() && probation.empty() && protect.empty();
    }
  };

  NodeList& list_of(Node* n) noexcept;
  bool admit(const Node* candidate, const Node* victim) noexcept;
  void record(bool hit) noexcept;
  void climb() noexcept;
  void resize_window(double bytes) noexcept;
  void demote_protected(Queues& q) noexcept;

  std::array<Queues, kClasses> classes_{};
  FrequencySketch sketch_;
  std::size_t capacity_ = 0;
  std::size_t window_max_ = 0;
  std::size_t protected_max_ = 0;
  bool adaptive_ = true;
  // Hill climber [2]: hits and misses in the current sample, the previous sample's hit ratio,
  // and the next step in bytes (its sign is the direction).
  std::size_t sample_hits_ = 0;
  std::size_t sample_misses_ = 0;
  double previous_hit_ratio_ = 0.0;
  double step_ = 0.0;
  std::uint64_t random_ = 0x2545'f491'4f6c'dd1dULL;
};

}  // namespace tiercache::cache::detail
