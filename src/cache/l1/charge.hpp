#pragma once
// Byte accounting for L1: what an entry and L1's own structures cost the process, computed from
// the allocations they make and glibc malloc's chunk rounding, not guessed from counts.
// Thread-safety: pure functions; safe from any thread.

#include "tiercache/cache/entry.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace tiercache::cache::detail {

// The chunk glibc malloc carves for a request of n bytes: n plus its 8-byte size field, rounded
// up to 16, at least 32. (n = 0: nothing was allocated.)
constexpr std::size_t malloc_chunk(std::size_t n) noexcept {
  if (n == 0) return 0;
  const std::size_t chunk = (n + 8 + 15) & ~std::size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// The heap bytes a string owns beyond its object: none while its text fits in the object (SSO).
std::size_t heap_bytes(const std::string& s) noexcept;

// The heap bytes a std::string holding `size` characters allocates when built from a view.
std::size_t heap_bytes_for_copy(std::size_t size) noexcept;

// The size of the block std::make_shared<Entry> allocates (Entry + control block), measured
// once with a counting allocator of the same layout.
std::size_t shared_entry_block() noexcept;

// What one entry under key costs: the node (with the key copied into it), the Entry's block and
// everything the Entry owns on the heap. L1::charge.
std::size_t entry_charge(std::string_view key, const Entry& entry) noexcept;

}  // namespace tiercache::cache::detail
