#include "cache/l1/charge.hpp"

#include "cache/l1/node.hpp"

#include <memory>
#include <new>
#include <vector>

namespace tiercache::cache::detail {
namespace {

// Counts into a thread_local so that the allocator stays empty, like std::allocator, and the
// control block it measures has the same layout as make_shared's.
thread_local std::size_t counted_bytes = 0;

template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>& /*other*/) noexcept {}
  T* allocate(std::size_t n) {
    counted_bytes += n * sizeof(T);
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }
  template <class U>
  bool operator==(const CountingAllocator<U>& /*other*/) const noexcept {
    return true;
  }
};

template <class T>
std::size_t vector_bytes(const std::vector<T>& v) noexcept {
  return malloc_chunk(v.capacity() * sizeof(T));
}

}  // namespace

std::size_t heap_bytes(const std::string& s) noexcept {
  const auto* object = reinterpret_cast<const char*>(&s);
  const bool inline_text = s.data() >= object && s.data() < object + sizeof(s);
  return inline_text ? 0 : malloc_chunk(s.capacity() + 1);
}

std::size_t heap_bytes_for_copy(std::size_t size) noexcept {
  static const std::size_t inline_capacity = std::string().capacity();
  return size <= inline_capacity ? 0 : malloc_chunk(size + 1);
}

std::size_t shared_entry_block() noexcept {
  static const std::size_t bytes = [] {
    counted_bytes = 0;
    { auto probe = std::allocate_shared<Entry>(CountingAllocator<Entry>{}); }
    return counted_bytes;
  }();
  return bytes;
}

std::size_t entry_charge(std::string_view key, const Entry& entry) noexcept {
  std::size_t bytes = malloc_chunk(sizeof(Node)) + heap_bytes_for_copy(key.size());
  bytes += malloc_chunk(shared_entry_block()) + heap_bytes(entry.value);
  for (const auto* list : {&entry.tags, &entry.dependencies}) {
    bytes += vector_bytes(*list);
    for (const auto& s : *list) bytes += heap_bytes(s);
  }
  return bytes;
}

}  // namespace tiercache::cache::detail
