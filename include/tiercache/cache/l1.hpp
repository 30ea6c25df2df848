#pragma once
// L1: the in-process tier. A concurrent map from key to shared_ptr<const Entry>, bounded in bytes
// (key, value, tags, dependencies and a measured per-entry overhead), expiring each entry at its
// stale_until, admitting and evicting by W-TinyLFU with priorities (src/cache/l1/policy.cpp).
// Use: L1 l1(L1Options{.max_bytes = 64 << 20}, clock); l1.put(key, entry); auto e = l1.get(key);
// Thread-safety: safe from any thread. Sharded; a call holds one shard's lock for its lookup.

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tiercache::cache {

namespace detail {
class Shard;
}

// Why an entry left L1; passed to the removal listener.
enum class RemovalCause : std::uint8_t {
  size,      // evicted, or refused admission, to keep L1 within its byte bound
  expired,   // its stale_until passed
  erased,    // erase, erase_if, clear or fence removed it
  replaced,  // a put of the same key replaced it
};

// What became of a put.
enum class PutResult : std::uint8_t {
  admitted,      // stored in the admission window; get returns it until it expires or is
                 // removed (it may still lose TinyLFU admission when it leaves the window)
  too_large,     // its charge exceeds one shard's budget (L1::max_entry_bytes()); not stored
  rejected,      // evicted within its own put (larger than the window and less frequent than
                 // the victim, or the lowest priority in a full shard); not stored
  expired,       // its stale_until has already passed; not stored
  stale_ticket,  // put_if_current only: the key changed since begin_load; not stored
};

// Counters since construction, summed over shards. Each shard's figures are exact; the sum is
// taken shard by shard, so it is not one atomic snapshot while other threads run.
struct L1Stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // absent or expired
  std::uint64_t puts = 0;    // entries stored (put and put_if_current)
  std::uint64_t rejected_too_large = 0;
  std::uint64_t rejected_expired = 0;     // puts of an already expired entry
  std::uint64_t stale_fills = 0;          // put_if_current refused: the ticket was overtaken
  std::uint64_t admissions_rejected = 0;  // new entries that lost TinyLFU admission (also in
                                          // evicted_size: they left for room)
  std::uint64_t evicted_size = 0;
  std::uint64_t evicted_expired = 0;
  std::uint64_t removed_explicit = 0;
  std::uint64_t replaced = 0;

  double hit_ratio() const noexcept {
    const auto total = hits + misses;
    return total == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(total);
  }
};

// Called after an entry left L1, on the thread whose call removed it, with no lock held.
// It may call back into L1.
using RemovalListener = std::function<void(
    std::string_view key, const std::shared_ptr<const Entry>& entry, RemovalCause cause)>;

struct L1Options {
  // The bound on everything L1 holds: entries as charged by L1::charge, plus the hash tables,
  // expiry heaps, frequency sketches and fixed per-shard state. Default: 64 MiB.
  std::size_t max_bytes = std::size_t{64} << 20;
  // Number of shards, a power of two; 0 picks the smallest power of two >= 4 x the hardware
  // threads such that each shard keeps at least 256 KiB. More shards mean less lock contention,
  // but a smaller largest entry (max_bytes / shards) and a coarser per-shard bound. Default: 0.
  std::size_t shards = 0;
  // Initial share of each shard's budget given to the admission window (an LRU in front of the
  // TinyLFU filter). Default: 0.01, Caffeine's.
  double window_fraction = 0.01;
  // Resize the window by hill climbing on the sampled hit ratio (Caffeine's adaptive policy).
  // Default: true. Off, the window stays at window_fraction.
  bool adaptive_window = true;
  // Expired entries each put reclaims, besides the one it may find under its own key; bounds the
  // sweep a put does. Default: 8. evict_expired() reclaims all of them.
  std::size_t sweep_per_put = 8;
  // Told of every removal and its cause. Default: none.
  RemovalListener on_removal = nullptr;
};

// A read's claim, taken before it asks Redis, that its reply may fill L1. Any change to the
// key in between (put, erase, erase_if, clear, fence) makes the ticket stale, so a reply that
// an invalidation overtook is not cached (FusionCache #613). A plain value; dropping it is free.
class LoadTicket {
 public:
  const std::string& key() const noexcept { return key_; }

 private:
  friend class L1;
  std::string key_;
  std::uint64_t hash_ = 0;
  std::uint64_t seq_ = 0;    // the shard's change sequence when the load began
  std::uint64_t epoch_ = 0;  // the fence epoch when the load began
};

class L1 {
 public:
  // REQUIRES: clock outlives this L1. Throws std::invalid_argument when shards is not a power
  // of two or a shard's budget cannot hold its own fixed state.
  L1(L1Options options, const Clock& clock);
  ~L1();
  L1(const L1&) = delete;
  L1& operator=(const L1&) = delete;

  // The entry under key, or null when absent or expired (an expired one is reclaimed now).
  std::shared_ptr<const Entry> get(std::string_view key);

  // Stores entry under key with entry->priority, replacing any entry there and staling any
  // ticket of key. REQUIRES: entry is not null.
  [[nodiscard]] PutResult put(std::string_view key, std::shared_ptr<const Entry> entry);

  // Removes key's entry if any, and stales every ticket of key (tracking invalidations call
  // this even for absent keys). Returns whether an entry was removed.
  bool erase(std::string_view key);

  // Removes every entry for which pred(key, entry) holds and stales every outstanding ticket.
  // O(entries): visits one shard at a time under its lock. REQUIRES: pred does not call L1.
  std::size_t erase_if(const std::function<bool(std::string_view, const Entry&)>& pred);

  // Removes every entry and stales every outstanding ticket.
  void clear();

  // Records that a read of key is about to ask L2. Pass the ticket to put_if_current.
  LoadTicket begin_load(std::string_view key);
  // As put, unless key changed after begin_load (then stale_ticket and nothing changes).
  [[nodiscard]] PutResult put_if_current(const LoadTicket& ticket,
                                         std::shared_ptr<const Entry> entry);
  // Clears L1 and stales every ticket taken before, atomically for any put_if_current: for a
  // tracking link that dropped, after which no invalidation of what it read can be trusted.
  void fence();

  // Reclaims every expired entry now (a periodic sweep for an owner's timer); returns how many.
  // O(expired x log entries), one shard at a time.
  std::size_t evict_expired();

  // The bytes charged now, at most max_bytes() whenever no call is inside a shard.
  std::size_t size_bytes() const;
  std::size_t entries() const;
  std::size_t max_bytes() const noexcept { return options_.max_bytes; }
  std::size_t shard_count() const noexcept { return shard_mask_ + 1; }
  // The largest charge one entry may have: a shard's budget less its fixed state.
  std::size_t max_entry_bytes() const noexcept;
  L1Stats stats() const;

  // The bytes an entry under key is charged: the key, the value, tags and dependencies as
  // allocated, the make_shared block of the Entry and L1's node, each as glibc malloc rounds it.
  static std::size_t charge(std::string_view key, const Entry& entry);

 private:
  detail::Shard& shard_for(std::uint64_t hash) const noexcept;
  PutResult store(std::string_view key, std::uint64_t hash, std::shared_ptr<const Entry> entry,
                  const LoadTicket* ticket);

  L1Options options_;
  const Clock& clock_;
  bool real_clock_ = false;  // clock_ is Clock::real(): expiry checks may read the coarse clock
  std::uint64_t shard_mask_ = 0;
  std::unique_ptr<detail::Shard[]> shards_;
  std::atomic<std::uint64_t> epoch_{0};  // bumped by fence()
};

}  // namespace tiercache::cache
