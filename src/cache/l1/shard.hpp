#pragma once
// Shard: one lock's worth of L1: its table, expiry heap, policy, read buffer, byte budget, ticket
// sequence and counters. Removed nodes are handed back in a Graveyard, so that the caller notifies
// the listener and frees them after the lock is released. A hit only records its node in the read
// buffer; the policy replays a batch later. Policy, the read buffer, invariants: policy.cpp.
// Thread-safety: safe from any thread (one SpinLock guards everything in it).

#include "tiercache/cache/l1.hpp"

#include "cache/l1/expiry_clock.hpp"
#include "cache/l1/expiry_heap.hpp"
#include "cache/l1/node.hpp"
#include "cache/l1/policy.hpp"
#include "cache/l1/spin_lock.hpp"
#include "cache/l1/table.hpp"

#include <boost/container/small_vector.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace tiercache::cache::detail {

// Nodes that left a shard, with why; notifies the listener and frees them, lock released.
class Graveyard {
 public:
  Graveyard() = default;
  Graveyard(const Graveyard&) = delete;
  Graveyard& operator=(const Graveyard&) = delete;
  ~Graveyard() { bury(nullptr); }

  void add(Node* n, RemovalCause cause) { dead_.push_back({n, cause}); }
  void add(std::unique_ptr<Node> n) { dead_.push_back({n.release(), RemovalCause::size, false}); }
  // Calls listener (if any) for each removal, then frees the nodes.
  void bury(const RemovalListener* listener) noexcept {
    if (!dead_.empty()) bury_all(listener);
  }

 private:
  void bury_all(const RemovalListener* listener) noexcept;

  struct Dead {
    Node* node;
    RemovalCause cause;
    bool notify = true;
  };
  boost::container::small_vector<Dead, 4> dead_;
};

// What put_if_current checks under the shard lock.
struct TicketCheck {
  std::uint64_t seq;
  std::uint64_t epoch;
  const std::atomic<std::uint64_t>* current_epoch;
};

class alignas(64) Shard {
 public:
  Shard() = default;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;
  ~Shard();

  // Throws std::invalid_argument when capacity cannot hold the shard's fixed state.
  void configure(std::size_t capacity, const L1Options& options);

  std::shared_ptr<const Entry> get(std::string_view key, std::uint64_t hash,
                                   const ExpiryClock& clock, ExpiryClock::Bound now,
                                   Graveyard& out);
  // node: key, hash, entry and charge set. check: null for a plain put.
  PutResult put(std::unique_ptr<Node> node, Entry::time_point now, const TicketCheck* check,
                Graveyard& out);
  bool erase(std::string_view key, std::uint64_t hash, Graveyard& out);
  std::size_t erase_if(const std::function<bool(std::string_view, const Entry&)>& pred,
                       Graveyard& out);
  void clear(Graveyard& out);
  std::size_t evict_expired(Entry::time_point now, std::size_t limit, Graveyard& out);
  // The change sequence number a ticket begun now records.
  std::uint64_t ticket_seq();

  std::size_t used() const;
  std::size_t entries() const;
  void add_stats(L1Stats& sum) const;
  std::size_t max_entry_bytes() const noexcept { return max_entry_bytes_; }

  // The hits a shard buffers before it replays them into the policy. 16 was as fast as 32 and
  // 64 on l1_bench, with a shorter lock hold for the hit that replays.
  static constexpr std::size_t kReadBuffer = 16;
  // The sketch's estimate for hash as the policy sees it now: buffered hits not counted.
  unsigned frequency_for_test(std::uint64_t hash) const;

 private:
  static constexpr std::size_t kSlots = 256;

  std::size_t used_locked() const noexcept;
  std::uint64_t& slot(std::uint64_t hash) noexcept;
  void bump(std::uint64_t hash) noexcept { slot(hash) = ++seq_; }
  // Applies the buffered hits to the policy and empties the buffer. Every operation that reads
  // or changes the policy's queues, or unlinks a node, calls it first.
  void drain_reads() noexcept;
  void unlink(Node* n, RemovalCause cause, Graveyard& out) noexcept;
  void sweep(Entry::time_point now, std::size_t limit, Graveyard& out) noexcept;
  bool make_room(Entry::time_point now, const Node* incoming, Graveyard& out) noexcept;

  mutable SpinLock mu_;
  Table table_;                                // guarded by mu_
  ExpiryHeap heap_;                            // guarded by mu_
  Policy policy_;                              // guarded by mu_
  L1Stats stats_;                              // guarded by mu_
  std::size_t entry_bytes_ = 0;                // guarded by mu_: the sum of the nodes' charges
  std::uint64_t seq_ = 0;                      // guarded by mu_: changes so far
  std::uint64_t floor_ = 0;                    // guarded by mu_: tickets below it are stale
  std::array<std::uint64_t, kSlots> slots_{};  // guarded by mu_
  // Hits not yet applied to policy_, oldest first. Each node in it is alive and linked: every
  // path that unlinks a node drains the buffer first. Guarded by mu_.
  std::array<Node*, kReadBuffer> reads_{};
  std::size_t read_count_ = 0;  // guarded by mu_: the filled prefix of reads_
  std::size_t capacity_ = 0;
  std::size_t max_entry_bytes_ = 0;
  std::size_t sweep_per_put_ = 0;
};

}  // namespace tiercache::cache::detail
