// L1's eviction policy: W-TinyLFU weighted by bytes, with priorities.
//
// Structure
// ---------
// L1 is 2^k shards (by the key's hash); each is a table, an expiry heap, a frequency sketch and
// the queues below, under one lock, with its own byte budget (max_bytes / shards). Per shard and
// per priority class, as in Caffeine [2]:
//
//     new entry                 TinyLFU filter                     main space
//   +------------+  overflow  +-------------+ win  +--------------------------------------+
//   |   window   | ---------> |  candidate  | ---> | probation (20%) <-> protected (80%)  |
//   | LRU, ~1%   |            | (one pass)  |      | hit in probation -> protected;       |
//   +------------+            +-------------+      | protected overflow -> probation head  |
//                                   | lose         +--------------------------------------+
//                                   v                               | probation tail
//                               evicted  <---------------------------+ (the victim)
//
// Every entry enters its class's window (an LRU of window_fraction of the budget). When the
// window is over its share, its tail moves to the candidate queue. While the shard is over budget
// the oldest candidate is compared with the victim, probation's tail (or protected's when
// probation is empty): the one the sketch estimates less frequent leaves, the candidate on a tie,
// so one-hit wonders and scans never push out the working set [1]. A candidate that is estimated
// "warm" (frequency >= 6) but still loses is admitted 1 time in 128 anyway, so that an attacker
// cannot pin a victim by flooding hash collisions (Caffeine's HashDoS guard). Candidates left when
// the shard fits are admitted to probation.
// A put over an existing key replaces its node: the new node starts in the window and keeps the
// key's frequency in the sketch, so a popular key re-earns its place at its first comparison.
//
// The frequency sketch is a 4-bit Count-Min sketch (sketch.cpp): every hit and every new entry
// counts the key; after 10 x capacity counts all counters halve, so popularity ages [1].
//
// The window's share adapts (hill climbing, [2] section 4): every sample (the sketch's period)
// the shard's hit ratio is compared with the previous sample's; if it improved, the window keeps
// moving the same way, else it turns; the step starts at 6.25% of the budget, decays by 0.98 per
// sample and restarts when the hit ratio jumps by 5 points. Recency-biased traces grow the
// window toward LRU; frequency-biased and looping ones shrink it toward LFU.
//
// What is approximate
// -------------------
// - Frequencies: the sketch over-counts on collisions and halves with truncation. Admission
//   errs toward keeping the incumbent, which is what makes the filter scan-resistant.
// - The bound is per shard: a key hashes to one shard, which evicts even if another has room.
//   With the default shard count each shard holds at least 256 KiB, so skew costs a few points of
//   hit ratio at worst, and it is what lets shards never coordinate.
// - Weights: Caffeine gives an oversized candidate special treatment; here a candidate larger
//   than a victim simply keeps winning or losing against successive victims, one at a time.
//
// Byte accounting (charge.cpp)
// ----------------------------
// An entry is charged its node (sizeof(Node), holding the key), the key's heap text if it does
// not fit the string's inline buffer, the make_shared block of its Entry (sizeof(Entry) + control
// block, measured once with a counting allocator), the value's, tags' and dependencies' heap
// buffers, each rounded as glibc malloc rounds chunks. The shard adds what it owns besides
// entries: the bucket array, the expiry heap's array and the sketch table, at their capacity,
// and its own fixed state. So size_bytes() is what L1 holds in the allocator, not a count x a
// guess. Every operation that adds bytes evicts under the same lock before it returns, so no
// caller ever observes a shard over its budget, and the shards' budgets sum to max_bytes. A
// reader that keeps a shared_ptr past eviction keeps that Entry alive: those bytes are the
// reader's, not L1's.
//
// Priorities
// ----------
// Each priority class has its own window, probation and protected queues; the sketch is shared.
// To make room, the shard takes victims only from the lowest class that holds anything, so low
// entries leave before normal ones and normal before high, strictly (as ASP.NET's MemoryCache
// compacts by CacheItemPriority). Within a class, W-TinyLFU decides. A new low entry that meets
// a shard full of normal entries is the lowest class present, so it is the one that leaves: put
// answers `rejected`. We chose strict classes over a frequency bonus (a weighted admission that
// lets a very hot low entry displace a cold high one) because callers use priority to protect
// what is costly to reload (an LLM answer, a rate-limited API), and they need a guarantee, not a
// tendency; a strict order is also testable. The price is that an L1 full of high entries
// admits no normal ones: high is for what really matters.
//
// Expiry
// ------
// Entries expire at their Entry::stale_until (wall clock from the injected Clock). An expired
// entry is never returned: get checks it under the lock and removes it then (lazy). The check
// reads the kernel's coarse clock and consults the precise one only for an entry within a second
// of its end (expiry_clock.hpp): a precise read costs ~90 ns on our VM. Every put
// also pops up to sweep_per_put expired entries off the expiry heap (amortized, bounded), and
// eviction for size always takes expired entries before live ones. evict_expired() sweeps all,
// for an owner's periodic timer.
//
// The loading race (l1.cpp, shard.cpp)
// ------------------------------------
// A read that misses L1 asks Redis; if an invalidation of that key arrives (a tracking push, an
// erase by this process) before the reply, the reply is stale and must not fill L1 (FusionCache
// #613, lettuce #3481). begin_load snapshots the shard's change sequence number into a ticket.
// Each shard keeps 256 slots, each the sequence number of the last change to any key hashing
// to it; put and erase bump the key's slot (a fill does not), erase_if and clear raise a
// floor under every ticket of the shard, and fence() bumps a global epoch before clearing every
// shard. put_if_current stores only if, under the shard lock, the epoch is the ticket's, the
// floor is not above it and the key's slot is not newer than it. So any change to the key that
// happened-before the fill wins. A slot is shared by keys with the same hash bits: a change to
// another key can make a fill be refused (a lost fill, never a stale one), with probability
// (changes in the shard during the load) / 256. No per-ticket state exists: a dropped ticket
// costs nothing and markers cannot leak.
//
// Thread safety
// -------------
// Each shard is guarded by its own lock; every structure above belongs to exactly one shard.
// Invariants that hold without taking a lock:
//  1. A key always maps to the same shard (hash bits above the table's), so its per-key order of
//     operations is the order of that shard's lock.
//  2. An Entry is immutable once shared; get hands out shared_ptr copies taken under the lock,
//     so a reader never sees a half-built entry and never outlives the bytes it reads.
//  3. The fence epoch only grows; a ticket compares it under the shard lock, after fence() has
//     bumped it and before fence() clears that shard, so either the fill is refused or the fence
//     clears it.
//  4. The removal listener runs after the lock is released, with the node moved out of the
//     shard; it may call L1 again.
// Hits hold the shard lock for the lookup, the expiry check, the shared_ptr copy and an append to
// the read buffer (below); the hash and the clock are read before the lock is taken. Caffeine
// also avoids that lock, its read buffer being lossy and striped [2]; it can, because its table
// is a lock-free ConcurrentHashMap and the JVM's collector frees its nodes. A C++ read path
// without the lock needs safe memory reclamation (hazard pointers or epochs) for nodes. With
// 4 x cores shards the lock is rarely contended; bench/cache/l1_bench.cpp measures 1 and 2
// threads.
//
// The read buffer (shard.cpp)
// ---------------------------
// A hit's policy update, a sketch increment and a splice to its queue's head, writes the node's
// queue neighbours and a sketch block. Once the nodes outgrow the CPU's cache those are misses on
// every hit, and each hit waits for its own (the next locked instruction, at the latest, waits
// for the stores): on l1_bench, Zipf(1.0) over 100k keys, the update took ~90 of a hit's ~220 ns.
// So a hit only appends its node to a fixed ring of Shard::kReadBuffer pointers in its shard, and
// the ring is replayed into the policy when it is full and at the start of every other operation
// that reads or changes the queues or unlinks a node: put, put_if_current, erase, erase_if,
// clear, evict_expired, and a miss (it feeds the hill climber, which may resize the window, and
// may reclaim an expired node). Policy::on_hits first prefetches every buffered node's
// neighbours and sketch block, then applies on_hit to each in order, so the misses of a batch
// overlap (the same hit then takes ~160 ns; without the prefetch pass, ~190). Unlike Caffeine's
// buffer, nothing is dropped and nothing reorders: the policy gets the same calls in the same order
// as if each hit were applied at once, only later, so it makes the same decisions (the ring's
// bytes, charged as part of the shard, are the only change). Hits are counted in the stats at once
// and in the hill climber's sample when replayed (see get). Invariant: a node in the ring is alive
// and linked, because every path that unlinks a node drains the ring first; the destructor frees
// the ring with the nodes. The hit that fills the ring holds the lock for the replay, ~kReadBuffer
// splices.
//
// [1] G. Einziger, R. Friedman, B. Manes, "TinyLFU: A Highly Efficient Cache Admission Policy",
//     ACM Transactions on Storage 13(4), 2017.
// [2] G. Einziger, O. Eytan, R. Friedman, B. Manes, "Adaptive Software Cache Management",
//     Middleware 2018; and Caffeine's BoundedLocalCache.java (github.com/ben-manes/caffeine).

#include "cache/l1/policy.hpp"

#include <algorithm>
#include <cmath>

namespace tiercache::cache::detail {
namespace {

constexpr double kProtectedShare = 0.8;
constexpr unsigned kWarmFrequency = 6;  // HashDoS guard: at least this warm to win by lottery
constexpr double kStepShare = 0.0625;
constexpr double kStepDecay = 0.98;
constexpr double kRestartThreshold = 0.05;

}  // namespace

void Policy::configure(std::size_t capacity, double window_fraction, bool adaptive) {
  capacity_ = capacity;
  adaptive_ = adaptive;
  const double fraction = std::clamp(window_fraction, 0.0, 1.0);
  window_max_ = static_cast<std::size_t>(fraction * static_cast<double>(capacity));
  protected_max_ =
      static_cast<std::size_t>(kProtectedShare * static_cast<double>(capacity - window_max_));
  step_ = -kStepShare * static_cast<double>(capacity);
  sketch_.ensure_capacity(8);
}

std::size_t Policy::sketch_bytes_after(std::size_t entries) const noexcept {
  if (entries <= sketch_.capacity()) return sketch_.bytes();
  return FrequencySketch::bytes_for(entries);
}

NodeList& Policy::list_of(Node* n) noexcept {
  Queues& q = classes_[n->priority];
  switch (n->queue) {
    case Queue::window:
      return q.window;
    case Queue::candidate:
      return q.candidate;
    case Queue::probation:
      return q.probation;
    default:
      return q.protect;
  }
}

void Policy::add(Node* n) {
  sketch_.increment(n->hash);
  n->queue = Queue::window;
  classes_[n->priority].window.push_front(n);
}

void Policy::on_hit(Node* n) noexcept {
  sketch_.increment(n->hash);
  Queues& q = classes_[n->priority];
  switch (n->queue) {
    case Queue::window:
      q.window.move_to_front(n);
      break;
    case Queue::probation:
      q.probation.remove(n);
      n->queue = Queue::protect;
      q.protect.push_front(n);
      demote_protected(q);
      break;
    case Queue::protect:
      q.protect.move_to_front(n);
      break;
    default:
      break;
  }
  record(true);
}

void Policy::on_hits(std::span<Node* const> nodes) noexcept {
  // Prefetching never faults, so a null neighbour (a queue end) needs no test.
  for (const Node* n : nodes) {
    __builtin_prefetch(n->prev, 1);
    __builtin_prefetch(n->next, 1);
    sketch_.prefetch(n->hash);
  }
  for (Node* n : nodes) on_hit(n);
}

void Policy::remove(Node* n) noexcept {
  list_of(n).remove(n);
  n->queue = Queue::none;
}

void Policy::overflow_windows() noexcept {
  for (Queues& q : classes_) {
    while (q.window.bytes() > window_max_ && !q.window.empty()) {
      Node* n = q.window.tail();
      q.window.remove(n);
      n->queue = Queue::candidate;
      q.candidate.push_front(n);
    }
  }
}

Policy::Victim Policy::select_victim() noexcept {
  for (Queues& q : classes_) {
    if (q.empty()) continue;
    Node* victim = q.probation.tail() != nullptr ? q.probation.tail() : q.protect.tail();
    if (Node* candidate = q.candidate.tail(); candidate != nullptr) {
      if (victim == nullptr) return {candidate, false};
      if (admit(candidate, victim)) return {victim, false};
      return {candidate, true};
    }
    return {victim != nullptr ? victim : q.window.tail(), false};
  }
  return {};
}

void Policy::admit_candidates() noexcept {
  for (Queues& q : classes_) {
    while (Node* n = q.candidate.tail()) {
      q.candidate.remove(n);
      n->queue = Queue::probation;
      q.probation.push_front(n);
    }
  }
}

bool Policy::admit(const Node* candidate, const Node* victim) noexcept {
  const unsigned candidate_freq = sketch_.frequency(candidate->hash);
  const unsigned victim_freq = sketch_.frequency(victim->hash);
  if (candidate_freq > victim_freq) return true;
  if (candidate_freq < kWarmFrequency) return false;
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return (random_ & 127U) == 0;
}

void Policy::demote_protected(Queues& q) noexcept {
  while (q.protect.bytes() > protected_max_ && !q.protect.empty()) {
    Node* n = q.protect.tail();
    q.protect.remove(n);
    n->queue = Queue::probation;
    q.probation.push_front(n);
  }
}

void Policy::record(bool hit) noexcept {
  if (!adaptive_) return;
  ++(hit ? sample_hits_ : sample_misses_);
  if (sample_hits_ + sample_misses_ >= sketch_.sample_size()) climb();
}

void Policy::climb() noexcept {
  const double requests = static_cast<double>(sample_hits_ + sample_misses_);
  const double hit_ratio = static_cast<double>(sample_hits_) / requests;
  const double change = hit_ratio - previous_hit_ratio_;
  const double amount = change >= 0 ? step_ : -step_;
  step_ = std::abs(change) >= kRestartThreshold
              ? kStepShare * static_cast<double>(capacity_) * (amount >= 0 ? 1.0 : -1.0)
              : kStepDecay * amount;
  previous_hit_ratio_ = hit_ratio;
  sample_hits_ = sample_misses_ = 0;
  resize_window(amount);
}

void Policy::resize_window(double bytes) noexcept {
  const double target =
      std::clamp(static_cast<double>(window_max_) + bytes, 0.0, static_cast<double>(capacity_));
  window_max_ = static_cast<std::size_t>(target);
  protected_max_ =
      static_cast<std::size_t>(kProtectedShare * static_cast<double>(capacity_ - window_max_));
  for (Queues& q : classes_) {
    // A smaller window hands its oldest entries to probation directly, as Caffeine does: they
    // were admitted to the cache already; only the window's share changed.
    while (q.window.bytes() > window_max_ && !q.window.empty()) {
      Node* n = q.window.tail();
      q.window.remove(n);
      n->queue = Queue::probation;
      q.probation.push_front(n);
    }
    demote_protected(q);
  }
}

}  // namespace tiercache::cache::detail
