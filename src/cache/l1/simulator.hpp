#pragma once
// Trace replay for L1's policy, as Caffeine's simulator/: synthetic traces (Zipf, Zipf with
// one-time scans, a loop just larger than the cache) replayed through L1 and through a plain
// byte-bounded LRU with the same budget and the same per-entry charge. Used by the policy
// tests (qualitative facts) and bench/cache/l1_bench.cpp (the figures).
// Thread-safety: not thread-safe; each replay owns its caches.

#include "tiercache/base/clock.hpp"
#include "tiercache/cache/entry.hpp"
#include "tiercache/cache/l1.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace tiercache::cache::detail::sim {

using Trace = std::vector<std::uint64_t>;  // key ids, in access order

// length accesses drawn from Zipf(s) over keys ids (rank 0 most popular), deterministic by seed.
inline Trace zipf_trace(std::size_t keys, double s, std::size_t length, std::uint64_t seed) {
  std::vector<double> cdf(keys);
  double sum = 0;
  for (std::size_t i = 0; i < keys; ++i) {
    sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
    cdf[i] = sum;
  }
  std::mt19937_64 rng(seed);
  // Ranks map to scattered ids, so that popularity does not follow the hash's low bits.
  std::vector<std::uint64_t> id(keys);
  for (std::size_t i = 0; i < keys; ++i) id[i] = i;
  std::shuffle(id.begin(), id.end(), rng);
  Trace trace(length);
  for (auto& t : trace) {
    const double u = std::uniform_real_distribution<double>(0, sum)(rng);
    const auto rank =
        static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    t = id[std::min(rank, keys - 1)];
  }
  return trace;
}

// Zipf(s) accesses interrupted every `every` accesses by a scan of `scan` keys never seen before
// (a batch job, a crawler): each is read once and never again.
inline Trace scan_trace(std::size_t keys, double s, std::size_t length, std::size_t every,
                        std::size_t scan, std::uint64_t seed) {
  const Trace base = zipf_trace(keys, s, length, seed);
  Trace trace;
  trace.reserve(length + (length / every + 1) * scan);
  std::uint64_t fresh = keys;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (i % every == 0) {
      for (std::size_t j = 0; j < scan; ++j) trace.push_back(fresh++);
    }
    trace.push_back(base[i]);
  }
  return trace;
}

// 0, 1, ..., loop-1, 0, 1, ... for length accesses.
inline Trace loop_trace(std::size_t loop, std::size_t length) {
  Trace trace(length);
  for (std::size_t i = 0; i < length; ++i) trace[i] = i % loop;
  return trace;
}

inline std::string key_of(std::uint64_t id) { return "trace:key:" + std::to_string(id); }

// The entry every replay stores: value_bytes of payload, never expiring.
inline std::shared_ptr<const Entry> trace_entry(const Clock& clock, std::size_t value_bytes) {
  Entry e;
  e.value.assign(value_bytes, 'v');
  e.created = clock.wall_now();
  e.fresh_until = e.stale_until = clock.wall_now() + std::chrono::hours(24 * 365);
  return std::make_shared<const Entry>(std::move(e));
}

// A byte budget that holds about `entries` trace entries as L1 charges them.
inline std::size_t budget_for(std::size_t entries, std::size_t value_bytes) {
  ManualClock clock;
  return entries * L1::charge(key_of(1'000'000), *trace_entry(clock, value_bytes));
}

// Plain LRU bounded by the sum of L1::charge over its entries (no structural overhead: a
// handicap L1 does not get, so that a win is not an artefact of accounting).
class LruSim {
 public:
  explicit LruSim(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // Returns whether key was present; otherwise inserts it.
  bool access(std::uint64_t key, std::size_t charge) {
    if (auto it = index_.find(key); it != index_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    order_.push_front({key, charge});
    index_[key] = order_.begin();
    used_ += charge;
    while (used_ > max_bytes_ && !order_.empty()) {
      used_ -= order_.back().charge;
      index_.erase(order_.back().key);
      order_.pop_back();
    }
    return false;
  }

 private:
  struct Item {
    std::uint64_t key;
    std::size_t charge;
  };
  std::size_t max_bytes_;
  std::size_t used_ = 0;
  std::list<Item> order_;
  std::unordered_map<std::uint64_t, std::list<Item>::iterator> index_;
};

struct Ratios {
  double l1 = 0;
  double lru = 0;
};

// Replays trace through an L1 with one shard (so the budget is not split) and through LruSim,
// both with max_bytes; a miss is followed by a put, as cache-aside does.
inline Ratios replay(const Trace& trace, std::size_t max_bytes, std::size_t value_bytes,
                     L1Options options = {}) {
  ManualClock clock;
  const auto entry = trace_entry(clock, value_bytes);
  options.max_bytes = max_bytes;
  options.shards = 1;
  L1 l1(options, clock);
  LruSim lru(max_bytes);
  std::size_t l1_hits = 0;
  std::size_t lru_hits = 0;
  for (const std::uint64_t id : trace) {
    const std::string key = key_of(id);
    if (l1.get(key) != nullptr) {
      ++l1_hits;
    } else {
      (void)l1.put(key, entry);
    }
    if (lru.access(id, L1::charge(key, *entry))) ++lru_hits;
  }
  const auto n = static_cast<double>(trace.size());
  return {static_cast<double>(l1_hits) / n, static_cast<double>(lru_hits) / n};
}

}  // namespace tiercache::cache::detail::sim
