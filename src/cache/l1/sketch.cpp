#include "cache/l1/sketch.hpp"

#include "cache/l1/charge.hpp"

#include <algorithm>
#include <bit>

namespace tiercache::cache::detail {
namespace {

constexpr std::uint64_t kResetMask = 0x7777'7777'7777'7777ULL;
constexpr std::uint64_t kOneMask = 0x1111'1111'1111'1111ULL;

// Two independent remixes of the key's hash: one picks the block, the other the four counters.
constexpr std::uint64_t spread(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51'afd7'ed55'8ccdULL;
  x ^= x >> 33;
  return x;
}
constexpr std::uint64_t rehash(std::uint64_t x) noexcept {
  x *= 0x9e37'79b9'7f4a'7c15ULL;
  x ^= x >> 29;
  return x;
}

struct Slot {
  std::size_t word;
  unsigned shift;
};

// Counter i (0..3) of a key: block b holds 8 words; counter i lives in word pair i (offset 0 or
// 1 chosen by the hash) at one of 16 nibbles.
Slot slot_of(std::uint64_t block, std::uint64_t counter_hash, unsigned i) noexcept {
  const std::uint64_t h = counter_hash >> (i << 3);
  const auto nibble = static_cast<unsigned>((h >> 1) & 15U);
  const auto offset = static_cast<std::size_t>(h & 1U);
  return {static_cast<std::size_t>(block) + offset + (std::size_t{i} << 1), nibble << 2};
}

std::size_t words_for(std::size_t max_entries) noexcept {
  return std::bit_ceil(std::max<std::size_t>(max_entries, 8));
}

// The chunk of an allocation of n bytes on a 64-byte boundary: glibc's memalign may also keep up
// to one alignment's worth of slack in front of it.
std::size_t aligned_chunk(std::size_t n) noexcept { return n == 0 ? 0 : malloc_chunk(n) + 64; }

}  // namespace

void FrequencySketch::ensure_capacity(std::size_t max_entries) {
  const std::size_t words = words_for(max_entries);
  if (words <= table_.size()) return;
  table_.assign(words, 0);
  table_.shrink_to_fit();
  block_mask_ = (words >> 3) - 1;
  sample_size_ = 10 * words;
  size_ = 0;
}

unsigned FrequencySketch::frequency(std::uint64_t hash) const noexcept {
  if (table_.empty()) return 0;
  const std::uint64_t block_hash = spread(hash);
  const std::uint64_t counter_hash = rehash(block_hash);
  const std::uint64_t block = (block_hash & block_mask_) << 3;
  unsigned freq = 15;
  for (unsigned i = 0; i < 4; ++i) {
    const Slot s = slot_of(block, counter_hash, i);
    freq = std::min(freq, static_cast<unsigned>((table_[s.word] >> s.shift) & 15U));
  }
  return freq;
}

void FrequencySketch::increment(std::uint64_t hash) noexcept {
  if (table_.empty()) return;
  const std::uint64_t block_hash = spread(hash);
  const std::uint64_t counter_hash = rehash(block_hash);
  const std::uint64_t block = (block_hash & block_mask_) << 3;
  bool added = false;
  for (unsigned i = 0; i < 4; ++i) {
    const Slot s = slot_of(block, counter_hash, i);
    const std::uint64_t mask = std::uint64_t{15} << s.shift;
    if ((table_[s.word] & mask) != mask) {
      table_[s.word] += std::uint64_t{1} << s.shift;
      added = true;
    }
  }
  if (added && ++size_ == sample_size_) reset();
}

void FrequencySketch::prefetch(std::uint64_t hash) const noexcept {
  if (table_.empty()) return;
  const std::size_t block = static_cast<std::size_t>(spread(hash) & block_mask_) << 3;
  __builtin_prefetch(&table_[block], 1);  // a block is one cache line (CacheLineAllocator)
}

void FrequencySketch::reset() noexcept {
  std::size_t odd = 0;
  for (auto& word : table_) {
    odd += static_cast<std::size_t>(std::popcount(word & kOneMask));
    word = (word >> 1) & kResetMask;
  }
  const std::size_t lost = odd >> 2;  // halving truncates odd counters
  size_ = size_ > lost ? (size_ - lost) >> 1 : 0;
}

std::size_t FrequencySketch::bytes() const noexcept {
  return aligned_chunk(table_.capacity() * sizeof(std::uint64_t));
}

std::size_t FrequencySketch::bytes_for(std::size_t max_entries) noexcept {
  return aligned_chunk(words_for(max_entries) * sizeof(std::uint64_t));
}

}  // namespace tiercache::cache::detail
