#include "tiercache/cache/l1.hpp"

#include "cache/l1/charge.hpp"
#include "cache/l1/expiry_clock.hpp"
#include "cache/l1/shard.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <thread>
#include <utility>

namespace tiercache::cache {
namespace {

constexpr std::size_t kMinAutoShardBytes = std::size_t{256} << 10;
constexpr int kShardBitsShift = 40;  // shard index: hash bits 40..63; the table uses the low ones
constexpr std::size_t kExpireBatch = 1024;

std::uint64_t hash_key(std::string_view key) noexcept {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(key));
}

std::size_t pick_shards(const L1Options& options) {
  if (options.shards != 0) {
    if (!std::has_single_bit(options.shards) || options.shards > (std::size_t{1} << 24)) {
      throw std::invalid_argument("tiercache L1: shards must be a power of two up to 2^24");
    }
    return options.shards;
  }
  const std::size_t threads = std::max(1U, std::thread::hardware_concurrency());
  std::size_t shards = std::bit_ceil(4 * threads);
  while (shards > 1 && options.max_bytes / shards < kMinAutoShardBytes) shards /= 2;
  return shards;
}

}  // namespace

L1::L1(L1Options options, const Clock& clock)
    : options_(std::move(options)), clock_(clock), real_clock_(&clock == &Clock::real()) {
  const std::size_t shards = pick_shards(options_);
  shard_mask_ = shards - 1;
  shards_ = std::make_unique<detail::Shard[]>(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_[i].configure(options_.max_bytes / shards, options_);
}

L1::~L1() = default;

detail::Shard& L1::shard_for(std::uint64_t hash) const noexcept {
  return shards_[static_cast<std::size_t>((hash >> kShardBitsShift) & shard_mask_)];
}

std::shared_ptr<const Entry> L1::get(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
  detail::Graveyard out;
  const detail::ExpiryClock expiry(clock_, real_clock_);
  auto entry = shard_for(hash).get(key, hash, expiry, expiry.bound(), out);
  out.bury(&options_.on_removal);
  return entry;
}

PutResult L1::put(std::string_view key, std::shared_ptr<const Entry> entry) {
  return store(key, hash_key(key), std::move(entry), nullptr);
}

PutResult L1::put_if_current(const LoadTicket& ticket, std::shared_ptr<const Entry> entry) {
  return store(ticket.key_, ticket.hash_, std::move(entry), &ticket);
}

PutResult L1::store(std::string_view key, std::uint64_t hash, std::shared_ptr<const Entry> entry,
                    const LoadTicket* ticket) {
  // The node is built before the lock is taken, and freed after it is released if refused.
  auto node = std::make_unique<detail::Node>();
  node->key = std::string(key);  // capacity == size, as entry_charge assumes
  node->hash = hash;
  node->charge = detail::entry_charge(key, *entry);
  node->stale_until = entry->stale_until;
  node->priority = static_cast<std::uint8_t>(
      std::min<unsigned>(static_cast<unsigned>(entry->priority), detail::Policy::kClasses - 1));
  node->entry = std::move(entry);
  detail::TicketCheck check{};
  if (ticket != nullptr) check = {ticket->seq_, ticket->epoch_, &epoch_};
  detail::Graveyard out;
  const PutResult result = shard_for(hash).put(std::move(node), clock_.wall_now(),
                                               ticket != nullptr ? &check : nullptr, out);
  out.bury(&options_.on_removal);
  return result;
}

bool L1::erase(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
  detail::Graveyard out;
  const bool erased = shard_for(hash).erase(key, hash, out);
  out.bury(&options_.on_removal);
  return erased;
}

std::size_t L1::erase_if(const std::function<bool(std::string_view, const Entry&)>& pred) {
  std::size_t removed = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    detail::Graveyard out;
    removed += shards_[i].erase_if(pred, out);
    out.bury(&options_.on_removal);
  }
  return removed;
}

void L1::clear() {
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    detail::Graveyard out;
    shards_[i].clear(out);
    out.bury(&options_.on_removal);
  }
}

LoadTicket L1::begin_load(std::string_view key) {
  LoadTicket ticket;
  ticket.key_.assign(key);
  ticket.hash_ = hash_key(key);
  // The epoch is read first: a fence between the two reads then stales the ticket at once.
  ticket.epoch_ = epoch_.load(std::memory_order_acquire);
  ticket.seq_ = shard_for(ticket.hash_).ticket_seq();
  return ticket;
}

void L1::fence() {
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  clear();
}

std::size_t L1::evict_expired() {
  std::size_t removed = 0;
  const auto now = clock_.wall_now();
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    for (;;) {
      detail::Graveyard out;
      const std::size_t n = shards_[i].evict_expired(now, kExpireBatch, out);
      out.bury(&options_.on_removal);
      removed += n;
      if (n < kExpireBatch) break;
    }
  }
  return removed;
}

std::size_t L1::size_bytes() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) total += shards_[i].used();
  return total;
}

std::size_t L1::entries() const {
  std::size_t total = 0;
  for (std::size_t i = 0; i <= shard_mask_; ++i) total += shards_[i].entries();
  return total;
}

std::size_t L1::max_entry_bytes() const noexcept { return shards_[0].max_entry_bytes(); }

L1Stats L1::stats() const {
  L1Stats sum;
  for (std::size_t i = 0; i <= shard_mask_; ++i) shards_[i].add_stats(sum);
  return sum;
}

std::size_t L1::charge(std::string_view key, const Entry& entry) {
  return detail::entry_charge(key, entry);
}

}  // namespace tiercache::cache
