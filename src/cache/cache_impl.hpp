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
  std::string version_key() const;
  std::string lock_key(std::string_view data_key) const;
  std::string data_prefix(std::uint64_t ns_version) const;

  // ---- L2 store (l2_store.cpp)
  // L1, else Redis GET (a load ticket taken first), decode, tag check, L1 fill. A Redis failure
  // gives a degraded result from the fail-safe shelf, or redis_unavailable when there is none.
  [[nodiscard]] asio::awaitable<Result<ReadResult>> read(std::string rk);
  // Writes an entry through: MULTI SET PX + PTTL (so the link tracks it) EXEC, then L1.
  [[nodiscard]] asio::awaitable<Result<void>> write(std::string rk,
                                                    std::shared_ptr<const Entry> entry);
  // An entry for value with options' times (clamped, jittered) and the given stored tags.
  Result<std::shared_ptr<const Entry>> make_entry(std::string value, const WriteOptions& options,
                                                  std::vector<std::string> stored_tags,
                                                  std::vector<std::string> dependencies) const;
  // The entry as L1 may hold it: times clipped to untracked_l1_ttl when not tracking.
  std::shared_ptr<const Entry> for_l1(std::shared_ptr<const Entry> entry) const;
  void l1_fill(const LoadTicket& ticket, std::shared_ptr<const Entry> entry);
  // A meta value (namespace or tag version) to cache in L1 under tracking.
  void l1_fill_meta(const LoadTicket& ticket, std::uint64_t version);
  [[nodiscard]] asio::awaitable<Result<resp::Reply>> exec(resp::Request request);

  // ---- versions (tags.cpp)
  // The namespace version: L1 under tracking, else GET; the last known one when Redis fails.
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> ns_version();
  [[nodiscard]] asio::awaitable<Result<std::vector<std::uint64_t>>> tag_versions(
      std::vector<std::string> tags);
  // Whether every versioned tag of entry still has its version.
  [[nodiscard]] asio::awaitable<Result<bool>> tags_current(std::shared_ptr<const Entry> entry);
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
  std::shared_ptr<const Entry> shelf_get(const std::string& rk);
  bool tracking() const noexcept { return tracking_.load(std::memory_order_acquire); }

  // ---- get_or_load (single_flight.cpp, fleet_lock.cpp)
  [[nodiscard]] asio::awaitable<Result<ReadResult>> get_or_load(std::string key, Loader loader,
                                                                LoadPolicy policy);
  static asio::awaitable<void> run_flight(std::shared_ptr<Impl> self,
                                          std::shared_ptr<detail::Flight> flight, std::string key,
                                          std::string rk, std::uint64_t ns_version, Loader loader,
                                          LoadPolicy policy);
  [[nodiscard]] asio::awaitable<Result<ReadResult>> load(std::string key, std::string rk,
                                                         std::uint64_t ns_version, Loader loader,
                                                         LoadPolicy policy);
  [[nodiscard]] asio::awaitable<Result<std::string>> call_loader(Loader loader,
                                                                 std::chrono::milliseconds hard);
  // The fleet lock: acquired (token set), or the value another process wrote meanwhile.
  struct LockOutcome {
    std::optional<std::string> token;    // we own the lock
    std::optional<ReadResult> appeared;  // another process's value, read while waiting
    bool unavailable = false;            // Redis failed: load without the lock
  };
  [[nodiscard]] asio::awaitable<LockOutcome> acquire_lock(std::string rk);
  [[nodiscard]] asio::awaitable<void> release_lock(std::string rk, std::string token);

  // ---- invalidation (invalidation.cpp)
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_tags(std::vector<std::string> tags);
  [[nodiscard]] asio::awaitable<Result<void>> invalidate_namespace();
  [[nodiscard]] asio::awaitable<Result<std::uint64_t>> unlink_matching(std::string match);
  static asio::awaitable<void> cleanup_namespace(std::shared_ptr<Impl> self, std::uint64_t old);

  std::shared_ptr<redis::AnyClient> redis_;
  Options options_;
  const Clock& clock_;
  std::unique_ptr<L1> l1_;  // null when L1 is off
  bool client_tracking_ = false;

  std::atomic<bool> tracking_{false};
  // Embedded mode (no Redis): tag versions live here, never evicted.
  std::mutex local_tags_mu_;
  std::unordered_map<std::string, std::uint64_t> local_tags_ TIERCACHE_GUARDED_BY(local_tags_mu_);
  std::atomic<std::uint64_t> ns_version_hint_{0};

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
    std::atomic<std::uint64_t> loader_calls{0}, background_refreshes{0}, invalidations_received{0},
        fences{0}, fail_safe_served{0}, lock_waits{0};
  } counters_;
};

}  // namespace tiercache::cache
