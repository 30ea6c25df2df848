#pragma once
// Cache::Impl: the state every part of the cache shares, and the operations its files implement:
// keys and L2 reads/writes (l2_store.cpp), tag and namespace versions (tags.cpp), tracking
// pushes, link fences and the fail-safe shelf (tracking.cpp), single flight and get_or_load
// (single_flight.cpp), the fleet lock (fleet_lock.cpp), invalidation (invalidation.cpp).
// Thread-safety: safe from any thread; mutable state is in L1 (thread-safe), atomics, or under
// the mutexes named beside it. No mutex is held across a co_await.

#include "tiercache/base/thread_annotations.hpp"
#include "tiercache/cache/cache.hpp"
#include "tiercache/redis/script.hpp"

#include "cache/notice.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tiercache::cache {

namespace detail {

// One in-process load of one key: the leader runs it, joiners await `done`.
struct Flight {
  std::shared_ptr<Notice> done = std::make_shared<Notice>();
  std::mutex mu;
  Result<ReadResult> result TIERCACHE_GUARDED_BY(mu) = ReadResult{};
};

// A stored tag with the version it had when the value was loaded: "<version>:<tag>".
std::string versioned_tag(std::uint64_t version, std::string_view tag);
// Splits "<version>:<tag>"; nullopt for a tag not written so (another writer's).
std::optional<std::pair<std::uint64_t, std::string_view>> split_versioned_tag(
    std::string_view stored);

}  // namespace detail

class Cache::Impl : public std::enable_shared_from_this<Cache::Impl> {
 public:
  Impl(std::shared_ptr<redis::AnyClient> redis, Options options);

  // Installs the push and link handlers (holding a weak_ptr) and starts the client.
  void start();

  // ---- keys (l2_store.cpp)
  Result<void> check_key(std::string_view key) const;
  std::string data_key(std::uint64_t ns_version, std::string_view key) const;
  std::string tag_key(std::string_view tag) const;
  const std::string& version_key() const noexcept { return version_key_; }
  std::string lock_key(std::string_view data_key) const;
  std::string data_prefix(std::uint64_t ns_version) const;

  // ---- L2 store (l2_store.cpp)
  // L1, else Redis GET (a load ticket taken first), decode, tag check, L1 fill. A Redis failure
  // gives a degraded result from the fail-safe shelf, or redis_unavailable when there is none.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> read(std::string rk);
  // read() for a fleet-lock waiter: tracked on any client, so the owner's write wakes it.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> read_for_lock_wait(std::string rk);
  // read() and Cache::get are this one coroutine frame, which on the hot path awaits nothing
  // but the GET: the namespace and tag versions come from meta() without a co_await when it
  // has them, and the GET is awaited on the client itself (cache_bench: each nested frame cost
  // hundreds of instructions a get). redis_key: `key` is the Redis key (read()); lock_wait: the
  // same, tracked (read_for_lock_wait()); user_key: a user's key, checked and put under the
  // namespace version, and the read counted (get()).
  enum class Lookup { redis_key, lock_wait, user_key };
  [[nodiscard]] static asio::awaitable<Result<ReadResult>> lookup(std::shared_ptr<Impl> self,
                                                                  std::string key, Lookup kind);
  // What lookup carries across its awaits. Its steps between them are plain functions, because
  // g++ keeps every local of a coroutine in its frame: lookup's frame must stay under the
  // 1,020 bytes Asio's per-thread recycling allocator takes back, or each get pays an
  // aligned_alloc and a free for it, and evicts the recycled frame of the client's operation as
  // well (tests/cache/cache_allocation_test.cpp fails when it does not).
  struct LookupState {
    std::optional<Result<ReadResult>> answer;  // set once the answer is known
    // An entry only Redis can tell is current (its tags): L1's copy (from_l1), or Redis's.
    std::shared_ptr<const Entry> unchecked;
    bool from_l1 = false;
    bool prefixed = false;  // the GET's reply follows CLIENT CACHING YES's
    std::optional<LoadTicket> ticket;
  };
  // Whether L1 holds a copy of rk; if so, s has the answer, or the entry to check.
  bool probe_l1(const std::string& rk, LookupState& s);
  // The GET of rk, its load ticket taken first; the client's operation itself, for lookup to await.
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> get_l2(const std::string& rk, Lookup kind,
                                                            LookupState& s);
  // What the GET answered: the answer (a miss, a fallback, a checked entry) or an entry to check.
  void take_l2(const std::string& rk, const Result<resp::Reply>& reply, LookupState& s);
  // take_l2 for a value Redis sent (a string or null): a miss, a checked entry, or one to check.
  void take_entry(const std::string& rk, resp::ReplyView value, LookupState& s);
  // The answer for s.unchecked once Redis said whether its tags are current.
  void settle(const std::string& rk, const Result<bool>& current, LookupState& s);
  // The L1 copy of rk if it has one, checked against its tags (an invalidated copy is dropped
  // and reported as a miss); nullopt when L1 has none. lookup's steps, for get_many.
  [[nodiscard]] asio::awaitable<std::optional<ReadResult>> read_l1(const std::string& rk);
  // The answer for L1's copy e of rk once its tags were checked: current, served; not current,
  // dropped from L1 and a miss; the check failed (Redis), served, flagged degraded.
  ReadResult l1_answer(const std::string& rk, std::shared_ptr<const Entry> e,
                       const Result<bool>& current);
  // What Redis's GET of rk answered (a string or null) as a read result: decoded, expiry and
  // tags checked, and given to L1 under `ticket`. lookup's steps, for get_many.
  [[nodiscard]] asio::awaitable<ReadResult> accept_l2(const std::string& rk, resp::ReplyView value,
                                                      std::optional<LoadTicket> ticket);
  // take_entry in two steps around the tag check. decode_l2: the entry in `value`, not yet
  // checked against its tags; or none, and `miss` is the answer (null, unreadable, expired).
  // `now` is the wall time its expiry was checked at, for l2_answer when no await came between
  // (one clock read a hit: ~25 ns each on a VM).
  struct FromL2 {
    std::shared_ptr<const Entry> entry;
    ReadResult miss;
    Entry::time_point now{};
  };
  FromL2 decode_l2(const std::string& rk, resp::ReplyView value) const;
  // The answer for a decoded entry once its tags were checked at wall time `now`: current,
  // served and given to L1 under `ticket`; not current, a miss; the check failed, served and not
  // cached.
  ReadResult l2_answer(std::shared_ptr<const Entry> entry, const Result<bool>& current,
                       const std::optional<LoadTicket>& ticket, Entry::time_point now);
  // The fail-safe copy of rk kept when a tracking link dropped, as a degraded answer.
  std::optional<ReadResult> from_shelf(const std::string& rk, error_code why);
  // Writes an entry through: MULTI SET PX + PTTL (so the link tracks it) EXEC, then L1. Sets
  // the entry's version (so it must not be shared yet).
  [[nodiscard]] asio::awaitable<Result<void>> write(std::string rk, std::shared_ptr<Entry> entry);
  // write() of several entries in one round trip: one MULTI ... EXEC, so all land or none; on a
  // cluster one per slot, so all of a slot's land or none.
  [[nodiscard]] asio::awaitable<Result<void>> write_many(
      std::vector<std::string> rks, std::vector<std::shared_ptr<Entry>> entries);
  // The MULTI blocks of a write: indexes into keys, one block for all where the client allows
  // keys of several slots in one transaction, else one per slot.
  std::vector<std::vector<std::size_t>> transaction_blocks(
      const std::vector<std::string>& keys) const;
  // An entry for value with options' times (clamped, jittered) and the given stored tags.
  Result<std::shared_ptr<Entry>> make_entry(std::string value, const WriteOptions& options,
                                            std::vector<std::string> stored_tags,
                                            std::vector<std::string> dependencies) const;
  // What a write of one key needs: its Redis key and its entry (tags versioned, times set).
  // Fails with invalid_key, value_too_large, invalid_argument or redis_unavailable.
  struct PreparedWrite {
    std::string rk;
    std::shared_ptr<Entry> entry;
  };
  [[nodiscard]] asio::awaitable<Result<PreparedWrite>> prepare_write(std::string key,
                                                                     std::string value,
                                                                     WriteOptions options);
  // The entry as L1 may hold it: times clipped to untracked_l1_ttl when not tracking.
  std::shared_ptr<const Entry> for_l1(std::shared_ptr<const Entry> entry) const;
  void l1_fill(const LoadTicket& ticket, std::shared_ptr<const Entry> entry);
  // A meta value (namespace or tag version) to cache in meta() (L1, or the versions-only table).
  void l1_fill_meta(const LoadTicket& ticket, std::uint64_t version);
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec(resp::Request request);
  // exec on one primary (redis::AnyClient::exec_on), for SCAN.
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec_on(std::string primary,
                                                             resp::Request request);

  // ---- versions (tags.cpp)
  // The namespace version: L1 under tracking, else GET; the last known one when Redis fails.
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> ns_version();
  // The namespace version when it is known without a round trip (embedded, or cached in
  // meta()); nullopt when ns_version() must ask Redis.
  std::optional<std::uint64_t> known_ns_version();
  // Clears ns_memo_ and refuses every fill of it begun before. Called after meta() dropped the
  // version key (an invalidation, a fence) and after tracking changed.
  void forget_ns_version();
  // The current version of each tag. create: a write needs them, so absent tag keys are created
  // (at a value never used before) and present ones have their TTL renewed; else absent reads 0.
  [[nodiscard]] asio::awaitable<Result<std::vector<std::uint64_t>>> tag_versions(
      std::vector<std::string> tags, bool create);
  // The version scripts of tags.cpp. bump: each key to max(current + 1, now), for invalidation.
  // ensure: absent keys created at now, present ones renewed, for writes.
  enum class VersionScript { bump, ensure };
  // Runs one over version keys (one per slot on a cluster); their values after it.
  [[nodiscard]] asio::awaitable<Result<std::vector<std::uint64_t>>> run_version_script(
      VersionScript which, std::vector<std::string> keys, std::chrono::milliseconds ttl);
  // One run, over keys that may meet in one script.
  [[nodiscard]] asio::awaitable<Result<std::vector<std::uint64_t>>> run_one_version_script(
      VersionScript which, std::vector<std::string> keys, std::chrono::milliseconds ttl);
  // How long a tag key lives after its last bump or renewal.
  std::chrono::milliseconds tag_key_ttl() const noexcept;
  // Whether every versioned tag of entry still has its version.
  [[nodiscard]] asio::awaitable<Result<bool>> tags_current(std::shared_ptr<const Entry> entry);
  // The same from the versions known without a round trip (no tags, embedded, or all cached
  // in meta()); nullopt when tags_current() must ask Redis.
  std::optional<bool> known_tags_current(const Entry& entry);
  // The stored tags for a write: user tags and "dep:<k>" for each dependency and (transitively)
  // the dependencies of those, each with its current version; and the closure of dependencies.
  struct WriteTags {
    std::vector<std::string> stored;
    std::vector<std::string> dependencies;
  };
  [[nodiscard]] asio::awaitable<Result<WriteTags>> write_tags(std::uint64_t ns_version,
                                                              WriteOptions options);

  // ---- tracking (tracking.cpp)
  void on_push(redis::LinkId link, resp::ReplyView push);
  void on_link(const redis::LinkEvent& event);
  void invalidate_local(std::string_view rk);
  std::shared_ptr<detail::Notice> key_notice(const std::string& rk);
  // Removes rk's notice from the map if it is still `mine` and no other waiter holds it.
  void drop_notice(const std::string& rk, const std::shared_ptr<detail::Notice>& mine);
  std::size_t lock_waiters();  // keys with a notice in the map
  std::shared_ptr<const Entry> shelf_get(const std::string& rk);
  bool tracking() const noexcept { return tracking_.load(std::memory_order_acquire); }
  // A read Redis is to track (its keys' changes pushed as invalidations) or not. A client in
  // default tracking mode tracks every read, and both pass through. One with
  // redis::Config::tracking_optin tracks only a command right after CLIENT CACHING YES: a
  // tracked read's request then starts with it (the two leave in one write, so no other
  // caller's command comes between), and reply() takes the read's own reply out of the pair.
  // What is tracked: versions always; data keys when L1 holds them (track_data()), and those a
  // fleet-lock waiter reads to be woken by the owner's write.
  struct TrackedRead {
    resp::Request request;
    bool prefixed = false;
    resp::ReplyView reply(const resp::Reply& all) const noexcept { return reply(all, prefixed); }
    static resp::ReplyView reply(const resp::Reply& all, bool prefixed) noexcept {
      return prefixed ? all.at(1) : all.view();
    }
  };
  TrackedRead tracked_read(bool track) const;
  bool track_data() const noexcept { return l1_ != nullptr; }

  // ---- get_or_load (single_flight.cpp, fleet_lock.cpp)
  [[nodiscard]] asio::awaitable<Result<ReadResult>> get_or_load(std::string key,
                                                                AdaptiveLoader loader,
                                                                LoadPolicy policy);
  // One load of one key, as a flight runs it.
  struct LoadJob {
    std::string rk;
    std::uint64_t ns_version = 0;
    AdaptiveLoader loader;
    LoadPolicy policy;
    // An early refresh: the version of the fresh entry it replaces. A value found under the lock
    // is taken instead of loading only if it is another one (0: any fresh value is taken).
    std::uint64_t replaces = 0;
  };
  static asio::awaitable<void> run_flight(std::shared_ptr<Impl> self,
                                          std::shared_ptr<detail::Flight> flight, LoadJob job);
  [[nodiscard]] asio::awaitable<Result<ReadResult>> load(LoadJob job);
  // Whether a stale hit is young enough to be answered at once (LoadPolicy::revalidate_window).
  bool within_revalidate_window(const ReadResult& stale, const LoadPolicy& policy) const;
  // Whether a fresh hit should start an early refresh (LoadPolicy::early_refresh).
  bool refresh_early(const Entry& entry, double beta) const;
  // The loader's value and the context it left, or loader_timeout after `hard`.
  struct Loaded {
    Result<std::string> value;
    LoadContext context;
  };
  [[nodiscard]] asio::awaitable<Loaded> call_loader(AdaptiveLoader loader, LoadContext context,
                                                    std::chrono::milliseconds hard);
  // The fleet lock: acquired (token set), or the value another process wrote meanwhile.
  struct LockOutcome {
    std::optional<std::string> token;    // we own the lock
    std::optional<ReadResult> appeared;  // another process's value, read while waiting
    bool unavailable = false;            // Redis failed: load without the lock
  };
  [[nodiscard]] asio::awaitable<LockOutcome> acquire_lock(std::string rk);
  [[nodiscard]] asio::awaitable<void> release_lock(std::string rk, std::string token);

  // ---- conditional writes and counters (conditional.cpp)
  // What a conditional write compares against: the key's bytes in Redis (empty when absent), or
  // without Redis a load ticket; the entry they decode to, and whether it is servable (not
  // expired, tags current).
  struct Current {
    std::string bytes;
    std::optional<LoadTicket> ticket;
    std::shared_ptr<const Entry> entry;
    bool valid = false;
  };
  [[nodiscard]] asio::awaitable<Result<Current>> current(std::string rk);
  enum class Swap;
  // Writes entry under rk only if the key still holds `expected` (empty: only if absent).
  [[nodiscard]] asio::awaitable<Result<Swap>> swap(std::string rk, std::string expected,
                                                   std::shared_ptr<Entry> entry);
  // Reads rk; when proceed() says so, swaps entry in, reading again when another write came
  // between, up to a bound (then Errc::contention). Returns whether it wrote.
  [[nodiscard]] asio::awaitable<Result<bool>> write_if(std::string rk, std::shared_ptr<Entry> entry,
                                                       std::function<bool(const Current&)> proceed);
  Result<std::int64_t> local_incr(const std::string& rk, std::int64_t delta,
                                  std::chrono::milliseconds life);
  std::optional<std::int64_t> local_counter(const std::string& rk);

  // ---- invalidation (invalidation.cpp)
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_tags(std::vector<std::string> tags);
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_namespace();
  // SCAN MATCH + UNLINK over every primary; the keys removed.
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> unlink_matching(std::string match);
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> unlink_matching_on(std::string primary,
                                                                          std::string match);
  static asio::awaitable<void> cleanup_namespace(std::shared_ptr<Impl> self, std::uint64_t old);

  std::shared_ptr<redis::AnyClient> redis_;
  Options options_;
  const Clock& clock_;
  const std::string version_key_;  // "<ns>:version"
  std::unique_ptr<L1> l1_;         // null when L1 is off
  // With L1 off but tracking asked for: a small L1 for namespace and tag versions alone, so a
  // read stays one round trip. Null otherwise.
  std::unique_ptr<L1> meta_l1_;
  // Where versions are cached: L1, else meta_l1_, else nowhere (null).
  L1* meta() const noexcept { return l1_ ? l1_.get() : meta_l1_.get(); }
  bool client_tracking_ = false;
  bool tracking_optin_ = false;  // tracked reads start with CLIENT CACHING YES (TrackedRead)

  std::atomic<bool> tracking_{false};
  // Set by ~Cache before it stops the client: the link-down that the stop itself causes (and
  // any push after it) is not handled, since the handler may run on an I/O thread after ~Cache
  // returned and whatever the Cache was given (its Clock) is gone.
  std::atomic<bool> closing_{false};
  // Embedded mode (no Redis): tag versions live here, never evicted.
  std::mutex local_tags_mu_;
  std::unordered_map<std::string, std::uint64_t> local_tags_ TIERCACHE_GUARDED_BY(local_tags_mu_);
  std::atomic<std::uint64_t> ns_version_hint_{0};
  // The namespace version as meta() held it, read by every get without a lock or a lookup of
  // meta() (which cost ~400 instructions a get: hash, shard lock, frequency sketch); 0 = ask
  // meta(). Filled only while tracking, and only if forget_ns_version() did not run since the
  // filler's meta() lookup began (the epoch, compared under the mutex); forget_ns_version()
  // runs after meta() drops the version key or is fenced, and when tracking changes.
  std::atomic<std::uint64_t> ns_memo_{0};
  std::atomic<std::uint64_t> ns_memo_epoch_{0};
  std::mutex ns_memo_mu_;
  // Embedded mode: entry versions (Redis-backed entries take theirs from their bytes) and
  // counters, which L1 must not evict.
  std::atomic<std::uint64_t> next_local_version_{1};
  struct LocalCounter {
    std::int64_t value = 0;
    Clock::time_point expires{};
  };
  std::mutex local_counters_mu_;
  std::unordered_map<std::string, LocalCounter> local_counters_
      TIERCACHE_GUARDED_BY(local_counters_mu_);
  std::uint64_t local_counter_ops_ TIERCACHE_GUARDED_BY(local_counters_mu_) = 0;

  std::mutex links_mu_;
  std::map<std::size_t, int> links_up_ TIERCACHE_GUARDED_BY(links_mu_);  // index -> protocol
  bool logged_untracked_ TIERCACHE_GUARDED_BY(links_mu_) = false;

  // What L1 held when a tracking link dropped: served only as a degraded fail-safe answer while
  // Redis is unreachable; cleared when a link comes up.
  std::mutex shelf_mu_;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> shelf_
      TIERCACHE_GUARDED_BY(shelf_mu_);

  std::mutex flights_mu_;
  std::unordered_map<std::string, std::shared_ptr<detail::Flight>> flights_
      TIERCACHE_GUARDED_BY(flights_mu_);

  // Fleet-lock waiters: set by a tracking push naming the key.
  std::mutex notices_mu_;
  std::unordered_map<std::string, std::shared_ptr<detail::Notice>> notices_
      TIERCACHE_GUARDED_BY(notices_mu_);

  struct Counters {
    std::atomic<std::uint64_t> loader_calls{0}, loader_errors{0}, loader_timeouts{0},
        background_refreshes{0}, early_refreshes{0}, invalidations_received{0}, fences{0},
        fail_safe_served{0}, lock_waits{0};
  } counters_;

  // Reads by outcome (CacheStats). Every read bumps one, from any thread: a line of their own,
  // so the bumps do not bounce the line the other counters and members live on.
  struct alignas(64) ReadCounters {
    std::atomic<std::uint64_t> hits_l1{0}, hits_l2{0}, stale_served{0}, misses{0}, errors{0};
  } reads_;
  void count_read(const ReadResult& r) noexcept;
  void count_read(const Result<ReadResult>& r) noexcept {
    if (r) {
      count_read(*r);
    } else {
      reads_.errors.fetch_add(1, std::memory_order_relaxed);
    }
  }
};

}  // namespace tiercache::cache
