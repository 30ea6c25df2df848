#pragma once
// Table: the key index of one shard, an intrusive chained hash table of nodes (the chain link
// lives in the node, so an entry costs one allocation besides its Entry). Doubles at load 1 and
// never shrinks; its bucket array is charged to the shard's byte budget.
// Thread-safety: not thread-safe; used under its shard's lock.

#include "cache/l1/charge.hpp"
#include "cache/l1/node.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tiercache::cache::detail {

class Table {
 public:
  static constexpr std::size_t kInitialBuckets = 16;

  Table() : buckets_(kInitialBuckets, nullptr) {}

  Node* find(std::string_view key, std::uint64_t hash) const noexcept {
    for (Node* n = buckets_[index(hash)]; n != nullptr; n = n->chain) {
      if (n->hash == hash && n->key == key) return n;
    }
    return nullptr;
  }
  // The bytes the bucket array will take after inserting one more node.
  std::size_t bytes_after_insert() const noexcept {
    return size_ + 1 > buckets_.size() ? malloc_chunk(2 * buckets_.size() * sizeof(Node*))
                                       : bytes();
  }
  // REQUIRES: no node with n's key is present.
  void insert(Node* n) {
    if (size_ + 1 > buckets_.size()) grow();
    Node*& head = buckets_[index(n->hash)];
    n->chain = head;
    head = n;
    ++size_;
  }
  void remove(Node* n) noexcept {
    Node** link = &buckets_[index(n->hash)];
    while (*link != n) link = &(*link)->chain;
    *link = n->chain;
    n->chain = nullptr;
    --size_;
  }
  // Calls f(node) for every node; f may remove the node it is given.
  template <class F>
  void for_each(F&& f) {
    for (Node* head : buckets_) {
      for (Node* n = head; n != nullptr;) {
        Node* next = n->chain;
        f(n);
        n = next;
      }
    }
  }
  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return malloc_chunk(buckets_.capacity() * sizeof(Node*)); }

 private:
  std::size_t index(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(hash) & (buckets_.size() - 1);
  }
  void grow() {
    std::vector<Node*> bigger(buckets_.size() * 2, nullptr);
    const std::size_t mask = bigger.size() - 1;
    for (Node* head : buckets_) {
      for (Node* n = head; n != nullptr;) {
        Node* next = n->chain;
        Node*& slot = bigger[static_cast<std::size_t>(n->hash) & mask];
        n->chain = slot;
        slot = n;
        n = next;
      }
    }
    buckets_.swap(bigger);
  }

  std::vector<Node*> buckets_;
  std::size_t size_ = 0;
};

}  // namespace tiercache::cache::detail
