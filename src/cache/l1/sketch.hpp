#pragma once
// FrequencySketch: a 4-bit Count-Min sketch of how often keys were seen recently, with periodic
// halving ("reset") so that old popularity fades: TinyLFU's admission filter [1]. The layout is
// Caffeine's block variant: a key's four counters share one 64-byte block (one cache line).
// Thread-safety: not thread-safe; owned by one shard and used under its lock.
//
// [1] G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
//     ACM Transactions on Storage 13(4), 2017.

#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

namespace tiercache::cache::detail {

// Allocates on 64-byte boundaries, so that a block of the sketch is one cache line, not two.
template <class T>
struct CacheLineAllocator {
  static constexpr std::align_val_t kAlign{64};
  using value_type = T;
  CacheLineAllocator() = default;
  template <class U>
  // NOLINTNEXTLINE(google-explicit-constructor): allocators convert implicitly
  CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  // Unsized: clang (the fuzz build) has no sized deallocation unless asked for it.
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, kAlign); }
  friend bool operator==(const CacheLineAllocator&, const CacheLineAllocator&) = default;
};

class FrequencySketch {
 public:
  // Sizes the table for about max_entries distinct keys (one 64-bit word, 16 counters, each);
  // grows only, and growing forgets the counts. The sample period is 10 x the capacity.
  void ensure_capacity(std::size_t max_entries);

  // The estimated recent frequency of hash, 0..15 (never under the true count since the last
  // reset halved it; over it by collisions).
  unsigned frequency(std::uint64_t hash) const noexcept;
  // Counts one more occurrence of hash; every sample-period increments, halves all counters.
  void increment(std::uint64_t hash) noexcept;
  // Starts loading the block that increment(hash) and frequency(hash) will touch.
  void prefetch(std::uint64_t hash) const noexcept;

  std::size_t capacity() const noexcept { return table_.size(); }
  std::size_t sample_size() const noexcept { return sample_size_; }
  // The heap bytes of the table.
  std::size_t bytes() const noexcept;
  // The heap bytes of a table sized by ensure_capacity(max_entries).
  static std::size_t bytes_for(std::size_t max_entries) noexcept;

 private:
  void reset() noexcept;

  std::vector<std::uint64_t, CacheLineAllocator<std::uint64_t>> table_;
  std::uint64_t block_mask_ = 0;
  std::size_t sample_size_ = 0;
  std::size_t size_ = 0;  // increments since the last reset
};

}  // namespace tiercache::cache::detail
