// Invalidation by tag (a version bump: O(1), docs/decisions/0003), by namespace (a version bump
// in the key, then a background SCAN + UNLINK of the old keys) and by pattern (SCAN MATCH +
// UNLINK in batches, never KEYS). Other processes follow by tracking: the INCR of a tag or of
// the namespace version, and each UNLINK, invalidate the keys they read.

#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <charconv>

namespace tiercache::cache {

asio::awaitable<Result<void>> Cache::Impl::invalidate_tags(std::vector<std::string> tags) {
  if (tags.empty()) co_return Result<void>{};
  if (!redis_) {
    std::lock_guard lock(local_tags_mu_);
    for (const auto& t : tags) ++local_tags_[t];
    co_return Result<void>{};
  }
  std::vector<std::string> keys;
  keys.reserve(tags.size());
  for (const auto& t : tags) keys.push_back(tag_key(t));
  auto bumped = co_await run_version_script(VersionScript::bump, keys, tag_key_ttl());
  for (const auto& k : keys) invalidate_local(k);
  if (!bumped) co_return bumped.error();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Cache::Impl::invalidate_namespace() {
  if (!redis_) {
    ns_version_hint_.fetch_add(1);
    if (l1_) l1_->clear();
    co_return Result<void>{};
  }
  const std::string vk = version_key();
  // The version this process last knew: the keys to clean up (any older ones expire by TTL).
  auto before = co_await ns_version();
  std::vector<std::string> keys{vk};  // no braced list inside co_await (g++ 12)
  auto bumped = co_await run_version_script(VersionScript::bump, std::move(keys),
                                            std::chrono::milliseconds(0));
  invalidate_local(vk);
  if (!bumped) co_return bumped.error();
  const std::uint64_t now_version = bumped->front();
  ns_version_hint_.store(now_version);
  // Old entries are unreachable now; L1 drops them at once rather than waiting for eviction.
  if (l1_) {
    const std::string current = data_prefix(now_version);
    const std::string data_mark = options_.ns + ":v";
    l1_->erase_if([&](std::string_view key, const Entry&) {
      return key.starts_with(data_mark) && !key.starts_with(current);
    });
  }
  if (before) {
    asio::co_spawn(co_await asio::this_coro::executor,
                   cleanup_namespace(shared_from_this(), *before), asio::detached);
  }
  co_return Result<void>{};
}

asio::awaitable<void> Cache::Impl::cleanup_namespace(std::shared_ptr<Impl> self,
                                                     std::uint64_t old) {
  auto removed = co_await self->unlink_matching(self->data_prefix(old) + "*");
  if (removed) {
    spdlog::info("cache {}: namespace version {} cleaned up: {} keys unlinked", self->options_.ns,
                 old, *removed);
  } else {
    spdlog::warn(
        "cache {}: cleanup of namespace version {} stopped ({}); the keys' TTL bounds "
        "them",
        self->options_.ns, old, removed.error().message());
  }
}

asio::awaitable<Result<std::uint64_t>> Cache::Impl::unlink_matching(std::string match) {
  std::uint64_t removed = 0;
  if (!redis_) {
    if (l1_) {
      removed = l1_->erase_if([&](std::string_view key, const Entry&) {
        return ::fnmatch(match.c_str(), std::string(key).c_str(), 0) == 0;
      });
    }
    co_return removed;
  }
  // SCAN sees one server's keys: on a cluster, every master is scanned in turn.
  for (const std::string& primary : redis_->primaries()) {
    auto done = co_await unlink_matching_on(primary, match);
    if (!done) co_return done.error();
    removed += *done;
  }
  co_return removed;
}

asio::awaitable<Result<std::uint64_t>> Cache::Impl::unlink_matching_on(std::string primary,
                                                                       std::string match) {
  std::uint64_t removed = 0;
  std::string cursor = "0";
  do {
    resp::Request scan;
    scan.push("SCAN", cursor, "MATCH", match, "COUNT", options_.scan_batch);
    auto reply = co_await exec_on(primary, std::move(scan));
    if (!reply) co_return reply.error();
    if (reply->is_error() || reply->size() != 2) co_return Errc::redis_unavailable;
    cursor = std::string(reply->at(0).str());
    const auto keys = reply->at(1);
    if (keys.size() == 0) continue;
    std::vector<std::string> batch;
    batch.reserve(keys.size());
    for (const auto k : keys) batch.emplace_back(k.str());
    // On a cluster, the keys of one node's page may span its slots: the client splits UNLINK.
    resp::Request unlink;
    unlink.push_range("UNLINK", "", batch);
    auto done = co_await exec(std::move(unlink));
    if (!done) co_return done.error();
    if (done->is_error()) co_return Errc::redis_unavailable;
    removed += static_cast<std::uint64_t>(done->integer());
    for (const auto& k : batch) invalidate_local(k);
  } while (cursor != "0");
  co_return removed;
}

}  // namespace tiercache::cache
