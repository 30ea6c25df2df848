#pragma once
// DayViewCache: the parsed day views of the calendar (a day's events once its buckets are decoded
// and layered), kept in process so a read answered from L1 does not decode the buckets' JSON
// again. A view is kept under the names of the buckets it was built from, with the identity of
// the cache entries (cache::Entry, immutable) they held; it is served only to a read that got
// exactly those entries from the cache again. Bounded in bytes (approximate), CLOCK eviction.
// Use: if (auto v = views.find(key, entries)) return v; ... views.insert(key, entries, built);
// Thread-safety: safe from any thread (sharded, a short critical section per call).

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/calendar/event.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tiercache::calendar::detail {

using DayView = std::shared_ptr<const std::vector<Event>>;
// The entries of a day's buckets, in layer order, as the cache answered them.
using BucketEntries = std::vector<std::shared_ptr<const cache::Entry>>;

struct DayViewCounters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // a view built (its buckets decoded)
  std::uint64_t evictions = 0;
  std::uint64_t bytes = 0;  // approximate: see DayViewCache::weigh
  std::uint64_t entries = 0;
};

class DayViewCache {
 public:
  // max_bytes 0: nothing is kept (find always misses, insert drops).
  explicit DayViewCache(std::size_t max_bytes);

  // The view kept under `key` when it was built from these very entries (same objects, in the
  // same order); else null (counted as a miss: the caller builds it and inserts it).
  DayView find(const std::string& key, const BucketEntries& entries);
  // Keeps `view`, built from `entries`, under `key` (replacing what was there), then evicts
  // until the shard is back under its share of the bound.
  void insert(const std::string& key, const BucketEntries& entries, DayView view);

  DayViewCounters counters() const;
  // Approximate bytes a view holds: its events' strings and vectors, and the entries' sizes.
  static std::size_t weigh(const std::vector<Event>& events);

 private:
  struct Slot {
    // Owner identity of the entries the view was built from. weak_ptr: the view never keeps a
    // bucket's bytes alive, and its control block cannot be reused while we hold it (no ABA).
    std::vector<std::weak_ptr<const cache::Entry>> sources;
    DayView view;
    std::size_t bytes = 0;
    std::atomic<bool> referenced{false};
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::unique_ptr<Slot>> slots TIERCACHE_GUARDED_BY(mu);
    std::deque<std::string> clock TIERCACHE_GUARDED_BY(mu);  // insertion order, second chance
    std::size_t bytes TIERCACHE_GUARDED_BY(mu) = 0;
  };
  static constexpr std::size_t kShards = 8;

  Shard& shard_of(const std::string& key);
  void evict(Shard& shard) TIERCACHE_REQUIRES(shard.mu);

  const std::size_t shard_bytes_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, evictions_{0};
};

}  // namespace tiercache::calendar::detail
