#pragma once
// ExpiryHeap: one shard's nodes ordered by stale_until, soonest first (an indexed binary
// min-heap; each node knows its slot, so removing any node is O(log n)). The sweep pops from the
// top while the top has expired. Its array is charged to the shard's byte budget.
// Thread-safety: not thread-safe; used under its shard's lock.

#include "cache/l1/charge.hpp"
#include "cache/l1/node.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tiercache::cache::detail {

class ExpiryHeap {
 public:
  Node* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  std::size_t size() const noexcept { return heap_.size(); }
  // The bytes the array will take after pushing one more node.
  std::size_t bytes_after_push() const noexcept {
    if (heap_.size() < heap_.capacity()) return bytes();
    const std::size_t grown = heap_.capacity() == 0 ? 1 : 2 * heap_.capacity();
    return malloc_chunk(grown * sizeof(Node*));
  }
  std::size_t bytes() const noexcept { return malloc_chunk(heap_.capacity() * sizeof(Node*)); }

  void push(Node* n) {
    n->heap_index = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(n);
    up(heap_.size() - 1);
  }
  void remove(Node* n) noexcept {
    const std::size_t i = n->heap_index;
    Node* last = heap_.back();
    heap_.pop_back();
    if (last == n) return;
    place(i, last);
    if (i > 0 && before(heap_[i], heap_[(i - 1) / 2])) {
      up(i);
    } else {
      down(i);
    }
  }
  // Re-sorts n after its stale_until changed.
  void update(Node* n) noexcept {
    const std::size_t i = n->heap_index;
    up(i);
    down(n->heap_index);
  }
  void clear() noexcept { heap_.clear(); }

 private:
  static bool before(const Node* a, const Node* b) noexcept {
    return a->stale_until < b->stale_until;
  }
  void place(std::size_t i, Node* n) noexcept {
    heap_[i] = n;
    n->heap_index = static_cast<std::uint32_t>(i);
  }
  void up(std::size_t i) noexcept {
    Node* n = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(n, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, n);
  }
  void down(std::size_t i) noexcept {
    Node* n = heap_[i];
    const std::size_t count = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= count) break;
      if (child + 1 < count && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], n)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, n);
  }

  std::vector<Node*> heap_;
};

}  // namespace tiercache::cache::detail
