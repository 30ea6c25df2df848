// Cache: construction, and the operations on one key (get, set, del, exists, ttl, expire).
// get_or_load is in single_flight.cpp, invalidation in invalidation.cpp.

#include "tiercache/cache/cache.hpp"

#include "tiercache/cache/entry_format.hpp"
#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

namespace tiercache::cache {
namespace {

using std::chrono::milliseconds;

// Result<bool> from an error: error_code converts to bool, so the plain constructor is ambiguous.
Result<bool> bool_error(error_code ec) { return Result<bool>(boost::system::in_place_error, ec); }

bool valid_namespace(std::string_view ns) {
  if (ns.empty()) return false;
  for (const char c : ns) {
    if (c <= ' ' || c > '~') return false;
    if (std::string_view("*?[]\\{}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(Source source) noexcept {
  switch (source) {
    case Source::none:
      return "none";
    case Source::l1:
      return "l1";
    case Source::l2:
      return "l2";
    case Source::loader:
      return "loader";
    case Source::stale:
      return "stale";
  }
  return "?";
}

Cache::Impl::Impl(std::shared_ptr<redis::AnyClient> redis, Options options)
    : redis_(std::move(redis)),
      options_(std::move(options)),
      clock_(*options_.clock),
      version_key_(options_.ns + ":version") {
  if (!valid_namespace(options_.ns)) {
    throw std::invalid_argument(
        "cache::Options::ns: printable ASCII without spaces or glob "
        "characters expected, got '" +
        options_.ns + "'");
  }
  if (options_.default_ttl <= milliseconds(0) || options_.max_ttl <= milliseconds(0)) {
    throw std::invalid_argument("cache::Options: default_ttl and max_ttl must be > 0");
  }
  if (options_.l1_bytes > 0) {
    l1_ = std::make_unique<L1>(
        L1Options{.max_bytes = options_.l1_bytes, .shards = options_.l1_shards}, clock_);
  } else if (!redis_) {
    throw std::invalid_argument("cache::Options: L1 off and no Redis client: nowhere to cache");
  }
  client_tracking_ = redis_ && redis_->config().client_tracking;
  tracking_optin_ = client_tracking_ && redis_->config().tracking_optin;
  if (!l1_ && client_tracking_) {
    // Versions are a few bytes each: 1 MiB holds thousands of tags.
    meta_l1_ = std::make_unique<L1>(L1Options{.max_bytes = std::size_t{1} << 20}, clock_);
  }
}

Cache::Cache(std::shared_ptr<redis::AnyClient> redis, Options options)
    : impl_(std::make_shared<Impl>(std::move(redis), std::move(options))) {
  if (!impl_->redis_) {
    spdlog::info("cache {}: no Redis configured: running on L1 alone (embedded mode)",
                 impl_->options_.ns);
  }
  impl_->start();
}

// Stops the client: requests in flight complete with Errc::stopped, so background loads and
// refreshes end promptly instead of keeping the client alive through their pending handlers.
Cache::~Cache() {
  // First, so that the link-down the stop causes finds the handlers closed (cache_impl.hpp).
  impl_->closing_.store(true);
  if (impl_->redis_) impl_->redis_->stop();
}

bool Cache::tracking() const noexcept { return impl_->tracking(); }
const Options& Cache::options() const noexcept { return impl_->options_; }
const L1* Cache::l1() const noexcept { return impl_->l1_.get(); }
void Cache::invalidate_l1_for_test(std::string_view redis_key) {
  impl_->invalidate_local(redis_key);
}

void Cache::Impl::count_read(const ReadResult& r) noexcept {
  std::atomic<std::uint64_t>* counter = &reads_.misses;
  if (!r.hit()) {
    if (r.error) counter = &reads_.errors;  // nothing to serve, and a reason
  } else if (r.stale || r.source == Source::stale) {
    counter = &reads_.stale_served;
  } else if (r.source == Source::l1) {
    counter = &reads_.hits_l1;
  } else if (r.source == Source::l2) {
    counter = &reads_.hits_l2;
  }  // else the loader made it: a miss of both tiers
  counter->fetch_add(1, std::memory_order_relaxed);
}

CacheStats Cache::stats() const {
  const auto& c = impl_->counters_;
  const auto& r = impl_->reads_;
  const L1* l1 = impl_->l1_.get();
  return CacheStats{.hits_l1 = r.hits_l1.load(std::memory_order_relaxed),
                    .hits_l2 = r.hits_l2.load(std::memory_order_relaxed),
                    .stale_served = r.stale_served.load(std::memory_order_relaxed),
                    .misses = r.misses.load(std::memory_order_relaxed),
                    .errors = r.errors.load(std::memory_order_relaxed),
                    .loader_calls = c.loader_calls.load(),
                    .loader_errors = c.loader_errors.load(),
                    .loader_timeouts = c.loader_timeouts.load(),
                    .background_refreshes = c.background_refreshes.load(),
                    .early_refreshes = c.early_refreshes.load(),
                    .invalidations_received = c.invalidations_received.load(),
                    .fences = c.fences.load(),
                    .fail_safe_served = c.fail_safe_served.load(),
                    .lock_waits = c.lock_waits.load(),
                    .lock_waiters = impl_->lock_waiters(),
                    .l1_bytes = l1 ? l1->size_bytes() : 0,
                    .l1_entries = l1 ? l1->entries() : 0,
                    .l1 = l1 ? l1->stats() : L1Stats{}};
}

asio::awaitable<Result<std::string>> Cache::redis_key(std::string key) {
  auto self = impl_;
  if (auto ok = self->check_key(key); !ok) co_return ok.error();
  auto v = co_await self->ns_version();
  co_return self->data_key(v ? *v : self->ns_version_hint_.load(), key);
}

asio::awaitable<Result<ReadResult>> Cache::get(std::string key) {
  // Not a coroutine: the caller awaits lookup's frame itself, which holds the Impl alive.
  return Impl::lookup(impl_, std::move(key), Impl::Lookup::user_key);
}

asio::awaitable<Result<void>> Cache::set(std::string key, std::string value, WriteOptions options) {
  auto self = impl_;
  auto prepared = co_await self->prepare_write(std::move(key), std::move(value), options);
  if (!prepared) co_return prepared.error();
  co_return co_await self->write(std::move(prepared->rk), std::move(prepared->entry));
}

asio::awaitable<Result<bool>> Cache::del(std::string key) {
  auto self = impl_;
  if (auto ok = self->check_key(key); !ok) co_return bool_error(ok.error());
  auto v = co_await self->ns_version();
  if (!v) co_return bool_error(v.error());
  const std::string rk = self->data_key(*v, key);
  const std::string dep = "dep:" + key;
  bool had = false;
  if (self->l1_) had = self->l1_->erase(rk);
  if (!self->redis_) {
    std::lock_guard lock(self->local_tags_mu_);
    ++self->local_tags_[dep];
    co_return had;
  }
  const std::string tk = self->tag_key(dep);
  resp::Request req;
  req.push("UNLINK", rk);
  auto reply = co_await self->exec(std::move(req));
  self->invalidate_local(rk);
  if (!reply) co_return bool_error(reply.error());
  if (reply->is_error()) co_return bool_error(Errc::redis_unavailable);
  // Entries derived from this key (WriteOptions::dependencies) recorded its "dep:" version.
  std::vector<std::string> keys{tk};  // no braced list inside co_await (g++ 12)
  auto bumped = co_await self->run_version_script(Impl::VersionScript::bump, std::move(keys),
                                                  self->tag_key_ttl());
  if (auto* meta = self->meta()) meta->erase(tk);
  if (!bumped) co_return bool_error(bumped.error());
  co_return reply->integer() > 0;
}

asio::awaitable<Result<bool>> Cache::exists(std::string key) {
  auto r = co_await get(std::move(key));
  if (!r) co_return bool_error(r.error());
  co_return r->hit();
}

asio::awaitable<Result<std::optional<std::chrono::milliseconds>>> Cache::ttl(std::string key) {
  auto self = impl_;
  using Ttl = std::optional<milliseconds>;
  if (auto ok = self->check_key(key); !ok) co_return ok.error();
  if (!self->redis_) {
    auto r = co_await get(std::move(key));
    if (!r) co_return r.error();
    if (!r->hit()) co_return Ttl{};
    co_return Ttl{std::chrono::ceil<milliseconds>(r->entry->stale_until - self->clock_.wall_now())};
  }
  auto v = co_await self->ns_version();
  if (!v) co_return v.error();
  resp::Request req;
  req.push("PTTL", self->data_key(*v, key));
  auto reply = co_await self->exec(std::move(req));
  if (!reply) co_return reply.error();
  if (reply->is_error() || reply->integer() < 0) co_return Ttl{};
  co_return Ttl{milliseconds(reply->integer())};
}

asio::awaitable<Result<ReadResult>> Cache::get_or_load(std::string key, Loader loader,
                                                       LoadPolicy policy) {
  // Not a coroutine: the returned awaitable owns what it needs, and `loader` lives in the lambda.
  AdaptiveLoader adaptive = [loader = std::move(loader)](LoadContext&) { return loader(); };
  return get_or_load(std::move(key), std::move(adaptive), std::move(policy));
}

asio::awaitable<Result<ReadResult>> Cache::get_or_load(std::string key, AdaptiveLoader loader,
                                                       LoadPolicy policy) {
  auto self = impl_;
  auto r = co_await self->get_or_load(std::move(key), std::move(loader), std::move(policy));
  self->count_read(r);
  co_return r;
}

asio::awaitable<Result<void>> Cache::invalidate_tags(std::vector<std::string> tags) {
  auto self = impl_;
  co_return co_await self->invalidate_tags(std::move(tags));
}

asio::awaitable<Result<void>> Cache::invalidate_namespace() {
  auto self = impl_;
  co_return co_await self->invalidate_namespace();
}

asio::awaitable<Result<std::uint64_t>> Cache::invalidate_pattern(std::string pattern) {
  auto self = impl_;
  if (pattern.empty()) co_return Errc::invalid_argument;
  auto v = co_await self->ns_version();
  if (!v) co_return v.error();
  co_return co_await self->unlink_matching(self->data_prefix(*v) + pattern);
}

}  // namespace tiercache::cache
