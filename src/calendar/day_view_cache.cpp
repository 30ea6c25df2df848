// The day view cache. Why it is exact, and what it costs:
//
// Coherence is the cache's, not ours. A read asks the cache (cache::Cache::get_many) for the
// day's buckets; the cache answers with immutable cache::Entry objects from its L1 (or freshly
// made from Redis). L1 is what tracking, tag and namespace versions, TTLs and evictions keep
// right: an invalidated or rewritten bucket is never handed out again as the same Entry object.
// A kept view names the Entry objects it was decoded from (weak_ptr, compared by owner: the
// control block lives as long as our weak_ptr does, so an address is never reused under us); it
// is served only when the cache has just answered with those very objects, in the same order. So
// a view is served exactly when re-decoding the same bytes would give it: never after an
// invalidation the cache has seen, and no later than the cache itself stops serving the bucket.
//
// A view whose entries are gone (L1 evicted or replaced them) can never be served again; the
// clock hand drops it first. Everything else is CLOCK (second chance): a hit sets a flag, no
// list is touched on the read path; eviction pops the oldest slot and gives flagged ones one more
// turn. The bound is approximate (weigh() estimates what the events' strings hold) and split
// evenly over the shards.

#include "calendar/day_view_cache.hpp"

#include <functional>

namespace tiercache::calendar::detail {
namespace {

bool same_owner(const std::weak_ptr<const cache::Entry>& kept,
                const std::shared_ptr<const cache::Entry>& now) {
  return !kept.owner_before(now) && !now.owner_before(kept) && !kept.expired();
}

bool same_sources(const std::vector<std::weak_ptr<const cache::Entry>>& kept,
                  const BucketEntries& now) {
  if (kept.size() != now.size()) return false;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (!now[i] || !same_owner(kept[i], now[i])) return false;
  }
  return true;
}

bool alive(const std::vector<std::weak_ptr<const cache::Entry>>& sources) {
  for (const auto& s : sources) {
    if (s.expired()) return false;
  }
  return true;
}

// What a slot costs besides its events: the key twice (map and clock), the map node, the slot.
constexpr std::size_t kSlotOverhead = 160;

}  // namespace

DayViewCache::DayViewCache(std::size_t max_bytes) : shard_bytes_(max_bytes / kShards) {}

DayViewCache::Shard& DayViewCache::shard_of(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

std::size_t DayViewCache::weigh(const std::vector<Event>& events) {
  std::size_t bytes = sizeof(std::vector<Event>) + events.capacity() * sizeof(Event);
  for (const auto& e : events) {
    bytes += e.id.capacity() + e.title.capacity() + e.location.capacity();
    bytes += e.categories.capacity() * sizeof(std::string);
    for (const auto& c : e.categories) bytes += c.capacity();
    // A json::object member: its key and value node; nested values are rare and small here.
    bytes += e.details.size() * 96;
  }
  return bytes;
}

DayView DayViewCache::find(const std::string& key, const BucketEntries& entries) {
  if (shard_bytes_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard& shard = shard_of(key);
  {
    std::lock_guard lock(shard.mu);
    const auto it = shard.slots.find(key);
    if (it != shard.slots.end() && same_sources(it->second->sources, entries)) {
      it->second->referenced.store(true, std::memory_order_relaxed);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second->view;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void DayViewCache::insert(const std::string& key, const BucketEntries& entries, DayView view) {
  if (shard_bytes_ == 0 || !view) return;
  auto slot = std::make_unique<Slot>();
  slot->sources.assign(entries.begin(), entries.end());
  slot->bytes = weigh(*view) + 2 * key.size() + kSlotOverhead;
  slot->view = std::move(view);
  if (slot->bytes > shard_bytes_) return;  // would push out everything else; not worth keeping
  Shard& shard = shard_of(key);
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.slots.try_emplace(key);
  if (inserted) {
    shard.clock.push_back(key);
  } else {
    shard.bytes -= it->second->bytes;
  }
  shard.bytes += slot->bytes;
  it->second = std::move(slot);
  evict(shard);
}

void DayViewCache::evict(Shard& shard) {
  // Each slot gets at most one second chance per pass, so this ends: 2 x size pops at most.
  std::size_t budget = 2 * shard.clock.size();
  while (shard.bytes > shard_bytes_ && !shard.clock.empty() && budget-- > 0) {
    std::string key = std::move(shard.clock.front());
    shard.clock.pop_front();
    const auto it = shard.slots.find(key);
    if (it == shard.slots.end()) continue;
    Slot& slot = *it->second;
    if (slot.referenced.exchange(false, std::memory_order_relaxed) && alive(slot.sources)) {
      shard.clock.push_back(std::move(key));
      continue;
    }
    shard.bytes -= slot.bytes;
    shard.slots.erase(it);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

DayViewCounters DayViewCache::counters() const {
  DayViewCounters c;
  c.hits = hits_.load(std::memory_order_relaxed);
  c.misses = misses_.load(std::memory_order_relaxed);
  c.evictions = evictions_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mu);
    c.bytes += shard.bytes;
    c.entries += shard.slots.size();
  }
  return c;
}

}  // namespace tiercache::calendar::detail
