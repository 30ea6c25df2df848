#include "cache/l1/shard.hpp"

#include "cache/l1/charge.hpp"

#include <mutex>
#include <span>
#include <stdexcept>
#include <utility>

namespace tiercache::cache::detail {
namespace {

// What a shard must keep for itself before any entry: its own object, the initial table, heap
// and sketch, and a margin for their first growth.
constexpr std::size_t kMinimumEntryBudget = 1024;

}  // namespace

void Graveyard::bury_all(const RemovalListener* listener) noexcept {
  for (const Dead& d : dead_) {
    if (listener != nullptr && *listener && d.notify) {
      (*listener)(d.node->key, d.node->entry, d.cause);
    }
    delete d.node;
  }
  dead_.clear();
}

// The read buffer is dropped, not drained: the policy and every node die with the shard.
Shard::~Shard() {
  table_.for_each([](Node* n) { delete n; });
}

void Shard::configure(std::size_t capacity, const L1Options& options) {
  capacity_ = capacity;
  sweep_per_put_ = options.sweep_per_put;
  policy_.configure(capacity, options.window_fraction, options.adaptive_window);
  const std::size_t fixed = used_locked() + heap_.bytes_after_push();
  if (capacity < fixed + kMinimumEntryBudget) {
    throw std::invalid_argument("tiercache L1: each shard needs at least " +
                                std::to_string(fixed + kMinimumEntryBudget) +
                                " bytes; raise max_bytes or lower shards");
  }
  max_entry_bytes_ = capacity - fixed;
}

std::uint64_t& Shard::slot(std::uint64_t hash) noexcept {
  return slots_[static_cast<std::size_t>((hash * 0x9e37'79b9'7f4a'7c15ULL) >> 56) % kSlots];
}

std::size_t Shard::used_locked() const noexcept {
  return sizeof(Shard) + entry_bytes_ + table_.bytes() + heap_.bytes() + policy_.sketch_bytes();
}

std::shared_ptr<const Entry> Shard::get(std::string_view key, std::uint64_t hash,
                                        const ExpiryClock& clock, ExpiryClock::Bound now,
                                        Graveyard& out) {
  std::lock_guard lock(mu_);
  Node* n = table_.find(key, hash);
  if (n == nullptr || clock.expired(n->stale_until, now)) {
    // A miss enters the hill climber's sample after the hits before it, and may unlink n.
    drain_reads();
    ++stats_.misses;
    policy_.on_miss();
    if (n != nullptr) unlink(n, RemovalCause::expired, out);
    return nullptr;
  }
  // Counted in stats_ now, so that stats() is exact without a replay; in the hill climber's
  // sample when replayed (on_hit), still in order with the misses, since a miss replays first.
  ++stats_.hits;
  reads_[read_count_++] = n;
  if (read_count_ == kReadBuffer) drain_reads();
  return n->entry;
}

PutResult Shard::put(std::unique_ptr<Node> node, Entry::time_point now, const TicketCheck* check,
                     Graveyard& out) {
  std::lock_guard lock(mu_);
  drain_reads();
  if (check != nullptr) {
    if (check->current_epoch->load(std::memory_order_acquire) != check->epoch ||
        floor_ > check->seq || slot(node->hash) > check->seq) {
      ++stats_.stale_fills;
      out.add(std::move(node));
      return PutResult::stale_ticket;
    }
  } else {
    bump(node->hash);  // a write supersedes every load of the key in flight
  }
  sweep(now, sweep_per_put_, out);
  if (Node* old = table_.find(node->key, node->hash); old != nullptr) {
    unlink(old, RemovalCause::replaced, out);
  }
  if (node->stale_until <= now) {
    ++stats_.rejected_expired;
    out.add(std::move(node));
    return PutResult::expired;
  }
  if (node->charge > max_entry_bytes_) {
    ++stats_.rejected_too_large;
    out.add(std::move(node));
    return PutResult::too_large;
  }
  Node* n = node.release();
  entry_bytes_ += n->charge;
  table_.insert(n);
  heap_.push(n);
  policy_.ensure_sketch(table_.size());
  policy_.add(n);
  if (make_room(now, n, out)) return PutResult::rejected;
  ++stats_.puts;
  return PutResult::admitted;
}

bool Shard::erase(std::string_view key, std::uint64_t hash, Graveyard& out) {
  std::lock_guard lock(mu_);
  drain_reads();
  bump(hash);
  Node* n = table_.find(key, hash);
  if (n == nullptr) return false;
  unlink(n, RemovalCause::erased, out);
  return true;
}

std::size_t Shard::erase_if(const std::function<bool(std::string_view, const Entry&)>& pred,
                            Graveyard& out) {
  std::lock_guard lock(mu_);
  drain_reads();
  floor_ = ++seq_;
  std::size_t removed = 0;
  table_.for_each([&](Node* n) {
    if (pred(n->key, *n->entry)) {
      unlink(n, RemovalCause::erased, out);
      ++removed;
    }
  });
  return removed;
}

void Shard::clear(Graveyard& out) {
  std::lock_guard lock(mu_);
  drain_reads();
  floor_ = ++seq_;
  table_.for_each([&](Node* n) { unlink(n, RemovalCause::erased, out); });
}

std::size_t Shard::evict_expired(Entry::time_point now, std::size_t limit, Graveyard& out) {
  std::lock_guard lock(mu_);
  drain_reads();
  const std::size_t before = stats_.evicted_expired;
  sweep(now, limit, out);
  return static_cast<std::size_t>(stats_.evicted_expired - before);
}

std::uint64_t Shard::ticket_seq() {
  std::lock_guard lock(mu_);
  return seq_;
}

std::size_t Shard::used() const {
  std::lock_guard lock(mu_);
  return used_locked();
}

std::size_t Shard::entries() const {
  std::lock_guard lock(mu_);
  return table_.size();
}

void Shard::add_stats(L1Stats& sum) const {
  std::lock_guard lock(mu_);
  sum.hits += stats_.hits;
  sum.misses += stats_.misses;
  sum.puts += stats_.puts;
  sum.rejected_too_large += stats_.rejected_too_large;
  sum.rejected_expired += stats_.rejected_expired;
  sum.stale_fills += stats_.stale_fills;
  sum.admissions_rejected += stats_.admissions_rejected;
  sum.evicted_size += stats_.evicted_size;
  sum.evicted_expired += stats_.evicted_expired;
  sum.removed_explicit += stats_.removed_explicit;
  sum.replaced += stats_.replaced;
}

unsigned Shard::frequency_for_test(std::uint64_t hash) const {
  std::lock_guard lock(mu_);
  return policy_.frequency(hash);
}

void Shard::drain_reads() noexcept {
  if (read_count_ == 0) return;
  policy_.on_hits(std::span<Node* const>(reads_.data(), read_count_));
  read_count_ = 0;
}

void Shard::unlink(Node* n, RemovalCause cause, Graveyard& out) noexcept {
  table_.remove(n);
  heap_.remove(n);
  policy_.remove(n);
  entry_bytes_ -= n->charge;
  switch (cause) {
    case RemovalCause::size:
      ++stats_.evicted_size;
      break;
    case RemovalCause::expired:
      ++stats_.evicted_expired;
      break;
    case RemovalCause::erased:
      ++stats_.removed_explicit;
      break;
    case RemovalCause::replaced:
      ++stats_.replaced;
      break;
  }
  out.add(n, cause);
}

void Shard::sweep(Entry::time_point now, std::size_t limit, Graveyard& out) noexcept {
  for (std::size_t i = 0; i < limit; ++i) {
    Node* top = heap_.top();
    if (top == nullptr || top->stale_until > now) return;
    unlink(top, RemovalCause::expired, out);
  }
}

// Evicts until the shard fits its budget: expired entries first, then the policy's victims.
// Returns whether `incoming` itself had to leave.
bool Shard::make_room(Entry::time_point now, const Node* incoming, Graveyard& out) noexcept {
  bool incoming_left = false;
  policy_.overflow_windows();
  while (used_locked() > capacity_) {
    if (Node* top = heap_.top(); top != nullptr && top->stale_until <= now) {
      incoming_left = incoming_left || top == incoming;
      unlink(top, RemovalCause::expired, out);
      continue;
    }
    const Policy::Victim victim = policy_.select_victim();
    if (victim.node == nullptr) break;
    if (victim.rejected) ++stats_.admissions_rejected;
    incoming_left = incoming_left || victim.node == incoming;
    unlink(victim.node, RemovalCause::size, out);
  }
  policy_.admit_candidates();
  return incoming_left;
}

}  // namespace tiercache::cache::detail
