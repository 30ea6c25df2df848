// L1 coherence: Redis server-assisted client-side caching, in band (docs/decisions/0003).
//
// Every shared link of the cache's client runs CLIENT TRACKING ON (redis::Config::
// client_tracking, sent in the handshake). Redis remembers the keys each link read (GET of an
// entry, of a tag or namespace version, the PTTL after our own SET) and, when any client changes
// one, sends an `invalidate` push on that link, in order with its replies. With L1 off, only
// versions (and fleet-lock waits) need tracking: on a client with tracking_optin, the cache asks
// for those reads alone to be tracked (TrackedRead), so Redis records no data key read. on_push
// erases the named keys from L1 (which also voids their load tickets) and wakes fleet-lock waiters
// of them; a null key list (FLUSHALL, tracking table overflow) flushes L1.
//
// Races, and how each is closed:
//  1. A reply overtaken by an invalidation: a read takes its ticket before GET; the push erases
//     the key and voids the ticket, so the late reply is returned but not cached (put_if_current).
//  2. A link drops: Redis forgets what the link tracked, and pushes for it are lost. The link
//     event fences L1 (entries gone, every ticket voided) before L1 serves again. What L1 held is
//     moved to a fail-safe shelf, served only as a degraded answer while Redis is unreachable,
//     and dropped when a link comes up (which fences L1 again: entries filled from loaders while
//     Redis was away were never tracked).
//  3. A RESP2 link (a server without HELLO) has no pushes in band. Rather than a REDIRECT link
//     (whose owner is not told when a data link dies: redis/redis#11767), the cache then bounds
//     staleness instead: L1 copies live at most Options::untracked_l1_ttl (0 = L1 off for
//     Redis-backed values), and a warning says so once.
//  4. Our own write: the push Redis sends us for it arrives after the write's reply and only
//     erases, so it can cost a miss, never resurrect an old value (rueidis #534).

#include "cache/cache_impl.hpp"

#include <spdlog/spdlog.h>

namespace tiercache::cache {

void Cache::Impl::start() {
  if (!redis_) return;
  std::weak_ptr<Impl> weak = weak_from_this();
  redis_->set_push_handler([weak](redis::LinkId link, resp::ReplyView push) {
    if (auto self = weak.lock(); self && !self->closing_.load()) self->on_push(link, push);
  });
  redis_->set_link_handler([weak](const redis::LinkEvent& event) {
    if (auto self = weak.lock(); self && !self->closing_.load()) self->on_link(event);
  });
  if (!client_tracking_) {
    spdlog::warn(
        "cache {}: the Redis client does not track keys (redis::Config::client_tracking off): "
        "L1 copies are kept at most {} ms",
        options_.ns, options_.untracked_l1_ttl.count());
  }
  redis_->start();
}

void Cache::Impl::invalidate_local(std::string_view rk) {
  if (l1_) l1_->erase(rk);
  if (meta_l1_) meta_l1_->erase(rk);
  if (rk == version_key_) forget_ns_version();  // after the erase: no refill from the old copy
  std::shared_ptr<detail::Notice> notice;
  {
    std::lock_guard lock(notices_mu_);
    auto it = notices_.find(std::string(rk));
    if (it != notices_.end()) {
      notice = std::move(it->second);
      notices_.erase(it);
    }
  }
  if (notice) notice->set();
}

void Cache::Impl::on_push(redis::LinkId, resp::ReplyView push) {
  if (push.size() < 2 || push.at(0).str() != "invalidate") return;
  const auto keys = push.at(1);
  if (keys.is_null()) {
    counters_.fences.fetch_add(1);
    if (l1_) l1_->fence();
    if (meta_l1_) meta_l1_->fence();
    forget_ns_version();
    std::unordered_map<std::string, std::shared_ptr<detail::Notice>> all;
    {
      std::lock_guard lock(notices_mu_);
      all.swap(notices_);
    }
    for (auto& [k, n] : all) n->set();
    return;
  }
  for (const auto key : keys) {
    counters_.invalidations_received.fetch_add(1);
    invalidate_local(key.str());
  }
}

void Cache::Impl::on_link(const redis::LinkEvent& event) {
  bool tracked = false;
  bool warn = false;
  {
    std::lock_guard lock(links_mu_);
    if (event.kind == redis::LinkEvent::Kind::up) {
      links_up_[event.link.index] = event.protocol;
    } else {
      links_up_.erase(event.link.index);
    }
    tracked = client_tracking_ && !links_up_.empty();
    for (const auto& [index, protocol] : links_up_) tracked = tracked && protocol == 3;
    if (event.kind == redis::LinkEvent::Kind::up && event.protocol != 3 && !logged_untracked_) {
      logged_untracked_ = true;
      warn = true;
    }
  }
  if (warn) {
    spdlog::warn(
        "cache {}: Redis link speaks RESP2: no invalidation pushes; L1 copies are kept "
        "at most {} ms",
        options_.ns, options_.untracked_l1_ttl.count());
  }
  counters_.fences.fetch_add(1);
  if (event.kind == redis::LinkEvent::Kind::down) {
    if (l1_) {
      const auto now = clock_.wall_now();
      std::unordered_map<std::string, std::shared_ptr<const Entry>> moved;
      l1_->erase_if([&](std::string_view key, const Entry& e) {
        if (!e.is_expired(now)) moved.emplace(std::string(key), std::make_shared<Entry>(e));
        return true;
      });
      l1_->fence();
      std::lock_guard lock(shelf_mu_);
      for (auto& [k, e] : moved) shelf_[k] = std::move(e);
    }
    if (meta_l1_) meta_l1_->fence();
    tracking_.store(tracked, std::memory_order_release);
    forget_ns_version();  // after both: a fill begun later sees the fence and `tracked`
    spdlog::info("cache {}: Redis link {} down ({}): L1 fenced", options_.ns, event.link.index,
                 event.error.message());
  } else {
    if (l1_) l1_->fence();
    if (meta_l1_) meta_l1_->fence();
    {
      std::lock_guard lock(shelf_mu_);
      shelf_.clear();
    }
    tracking_.store(tracked, std::memory_order_release);
    forget_ns_version();
  }
}

Cache::Impl::TrackedRead Cache::Impl::tracked_read(bool track) const {
  TrackedRead read;
  read.prefixed = track && tracking_optin_;
  if (read.prefixed) read.request.push("CLIENT", "CACHING", "YES");
  return read;
}

std::shared_ptr<detail::Notice> Cache::Impl::key_notice(const std::string& rk) {
  std::lock_guard lock(notices_mu_);
  auto& n = notices_[rk];
  if (!n) n = std::make_shared<detail::Notice>();
  return n;
}

void Cache::Impl::drop_notice(const std::string& rk, const std::shared_ptr<detail::Notice>& mine) {
  std::lock_guard lock(notices_mu_);
  auto it = notices_.find(rk);
  // Under the lock, the count is the map's reference, ours, and any other waiter's.
  if (it != notices_.end() && it->second == mine && mine.use_count() <= 2) notices_.erase(it);
}

std::size_t Cache::Impl::lock_waiters() {
  std::lock_guard lock(notices_mu_);
  return notices_.size();
}

std::shared_ptr<const Entry> Cache::Impl::shelf_get(const std::string& rk) {
  std::lock_guard lock(shelf_mu_);
  auto it = shelf_.find(rk);
  if (it == shelf_.end()) return nullptr;
  if (it->second->is_expired(clock_.wall_now())) {
    shelf_.erase(it);
    return nullptr;
  }
  return it->second;
}

}  // namespace tiercache::cache
