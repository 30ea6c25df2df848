#pragma once
// Node: one L1 entry inside a shard, carrying its hash-chain link, its policy queue links, its
// expiry-heap slot and its byte charge; NodeList: an intrusive LRU queue of nodes with a byte
// total. Thread-safety: not thread-safe; a node is touched only under its shard's lock.

#include "tiercache/cache/entry.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tiercache::cache::detail {

// The policy queue a node sits in (policy.cpp). `candidate` lasts only inside one eviction pass.
enum class Queue : std::uint8_t { none, window, candidate, probation, protect };

struct Node {
  // What a lookup reads comes first, so that it mostly stays within the node's first line.
  Node* chain = nullptr;  // next in the hash bucket
  std::uint64_t hash = 0;
  std::string key;
  Entry::time_point stale_until{};
  std::shared_ptr<const Entry> entry;
  Node* prev = nullptr;  // toward the queue's head (most recent)
  Node* next = nullptr;  // toward the queue's tail (least recent)
  std::size_t charge = 0;
  std::uint32_t heap_index = 0;
  Queue queue = Queue::none;
  std::uint8_t priority = 1;
};

// Head is the most recently used node, tail the least.
class NodeList {
 public:
  Node* head() const noexcept { return head_; }
  Node* tail() const noexcept { return tail_; }
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t bytes() const noexcept { return bytes_; }

  void push_front(Node* n) noexcept {
    n->prev = nullptr;
    n->next = head_;
    if (head_ != nullptr) {
      head_->prev = n;
    } else {
      tail_ = n;
    }
    head_ = n;
    bytes_ += n->charge;
  }
  void remove(Node* n) noexcept {
    (n->prev != nullptr ? n->prev->next : head_) = n->next;
    (n->next != nullptr ? n->next->prev : tail_) = n->prev;
    n->prev = n->next = nullptr;
    bytes_ -= n->charge;
  }
  void move_to_front(Node* n) noexcept {
    if (head_ == n) return;
    remove(n);
    push_front(n);
  }

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace tiercache::cache::detail
