// get_or_load: cache-aside with stampede protection, stale-while-revalidate and fail-safe.
//
// The structure. A call reads the key (L1, else one GET). Fresh: done. Stale and SWR (within
// LoadPolicy::revalidate_window): answered at once, and a refresh starts unless one runs.
// Otherwise the call joins the key's Flight, or starts it: a detached coroutine (run_flight) that
// does the load once for every caller in this process, and a Notice they all await with their own
// deadline. The load takes the fleet lock (fleet_lock.cpp), reads the key once more, runs the
// loader (itself detached, so a loader that ignores cancellation cannot hold a caller past its
// hard timeout), writes the value through, unless an adaptive loader said not to store it, and
// releases the lock.
//
// Race windows, and how each is closed:
//  1. N callers in one process miss together: the flights_ map, under its mutex, admits one
//     Flight per key; the others find it and wait on its Notice. The Flight leaves the map before
//     its Notice is set, so a caller arriving later starts a fresh load rather than reading a
//     result that may be old by then.
//  2. Two processes miss together: SET <ns>:lock:<key> <token> NX PX lock_ttl admits one. The
//     others, having read the key (a miss), are tracking it, so the winner's SET reaches them as
//     an invalidation push that sets their Notice (tracking.cpp); they re-read and take the
//     value. A backoff poll (2 ms doubling to 250 ms, bounded by lock_max_wait) covers lost pushes
//     and RESP2 links; never a tight loop (cashews #127).
//  3. The winner finished and released its lock between a loser's miss and its SET NX: the loser
//     now owns a free lock. So every lock owner reads the key again before it loads; a fresh value
//     there is taken as is. Together with 2 this gives "the loader runs once per fleet" absent
//     lock expiry; a lock that expires mid-load (a load longer than lock_ttl) lets a second
//     process load: that is the price of not blocking forever behind a crashed owner.
//  4. Only the owner releases the lock: a Lua compare-and-delete on the token, so an owner whose
//     lock expired and was retaken by another never deletes the other's lock.
//  5. SWR: a stale answer starts a refresh only if no Flight runs for the key; the refresh reads
//     again under the lock (3), so callers that saw the stale value just before a refresh ended
//     do not load a second time.
//  6. Timeouts: every caller waits on its Notice with its own deadline (soft: answer stale if
//     there is one; hard: fail-safe stale or loader_timeout). The Flight's loader is bounded by
//     the same hard timeout, so the Flight, and the key's slot in flights_, end soon after.

#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <exception>
#include <random>

namespace tiercache::cache {
namespace {

using std::chrono::milliseconds;

struct LoaderCall {
  std::shared_ptr<detail::Notice> done = std::make_shared<detail::Notice>();
  // The loader's own: read by the caller only once `done` is set.
  LoadContext context;
  std::mutex mu;
  Result<std::string> result TIERCACHE_GUARDED_BY(mu) = Errc::loader_timeout;
};

asio::awaitable<void> run_loader(std::shared_ptr<LoaderCall> call, AdaptiveLoader loader,
                                 std::string ns) {
  Result<std::string> r = Errc::loader_failed;
  try {
    r = co_await loader(call->context);
    if (!r) spdlog::warn("cache {}: loader failed: {}", ns, r.error().message());
  } catch (const std::exception& e) {
    spdlog::warn("cache {}: loader threw: {}", ns, e.what());
    r = Errc::loader_failed;
  } catch (...) {
    spdlog::warn("cache {}: loader threw a non-exception", ns);
    r = Errc::loader_failed;
  }
  {
    std::lock_guard lock(call->mu);
    call->result = std::move(r);
  }
  call->done->set();
}

ReadResult fail_safe(ReadResult stale, error_code why) {
  stale.source = Source::stale;
  stale.stale = true;
  stale.error = why;
  return stale;
}

}  // namespace

asio::awaitable<Cache::Impl::Loaded> Cache::Impl::call_loader(AdaptiveLoader loader,
                                                              LoadContext context,
                                                              milliseconds hard) {
  counters_.loader_calls.fetch_add(1);
  auto call = std::make_shared<LoaderCall>();
  call->context = std::move(context);
  asio::co_spawn(co_await asio::this_coro::executor,
                 run_loader(call, std::move(loader), options_.ns), asio::detached);
  if (!co_await call->done->wait_for(hard)) {
    spdlog::warn("cache {}: loader did not answer within {} ms", options_.ns, hard.count());
    counters_.loader_timeouts.fetch_add(1);
    co_return Loaded{.value = Errc::loader_timeout, .context = {}};
  }
  std::lock_guard lock(call->mu);
  if (!call->result) counters_.loader_errors.fetch_add(1);
  co_return Loaded{.value = std::move(call->result), .context = call->context};
}

asio::awaitable<Result<ReadResult>> Cache::Impl::load(LoadJob job) {
  const std::string& rk = job.rk;
  const LoadPolicy& policy = job.policy;
  const milliseconds hard = policy.hard_timeout.value_or(options_.hard_timeout);
  bool degraded = false;
  auto tags = co_await write_tags(job.ns_version, policy.write);
  if (!tags) {
    degraded = true;
    tags = WriteTags{};
  }
  LockOutcome lock;
  if (redis_ && !degraded) {
    lock = co_await acquire_lock(rk);
    if (lock.appeared) co_return std::move(*lock.appeared);
    degraded = lock.unavailable;
    if (lock.token) {
      // Race 3: the previous owner may have written and released just before we locked. An
      // early refresh still loads over the very entry it set out to replace.
      auto again = co_await read(rk);
      if (again && again->hit() && !again->stale && again->entry->version != job.replaces) {
        co_await release_lock(rk, *lock.token);
        co_return std::move(*again);
      }
    }
  }
  LoadContext context{
      .ttl = policy.write.ttl, .grace = policy.write.grace, .priority = policy.write.priority};
  auto loaded = co_await call_loader(std::move(job.loader), std::move(context), hard);
  if (!loaded.value) {
    if (lock.token) co_await release_lock(rk, *lock.token);
    co_return loaded.value.error();
  }
  WriteOptions write_options = policy.write;
  write_options.ttl = loaded.context.ttl;
  write_options.grace = loaded.context.grace;
  write_options.priority = loaded.context.priority;
  auto entry = make_entry(std::move(*loaded.value), write_options, std::move(tags->stored),
                          std::move(tags->dependencies));
  if (!entry || !loaded.context.store) {
    // Not stored: the lock goes at once, so another process waiting for it loads for itself.
    if (lock.token) co_await release_lock(rk, *lock.token);
    if (!entry) co_return entry.error();
    co_return ReadResult{.entry = *entry, .source = Source::loader, .degraded = degraded};
  }
  ReadResult out{.entry = *entry, .source = Source::loader, .degraded = degraded};
  auto written = co_await write(rk, *entry);
  if (lock.token) co_await release_lock(rk, *lock.token);
  if (!written) {
    if (written.error() != Errc::redis_unavailable) co_return written.error();
    out.degraded = true;
    out.error = written.error();
    if (l1_ && options_.untracked_l1_ttl > milliseconds(0)) {
      (void)l1_->put(rk, for_l1(*entry));  // bounded: untracked while Redis is away
    }
  }
  co_return out;
}

asio::awaitable<void> Cache::Impl::run_flight(std::shared_ptr<Impl> self,
                                              std::shared_ptr<detail::Flight> flight, LoadJob job) {
  const std::string rk = job.rk;
  Result<ReadResult> result = Errc::loader_failed;
  try {
    result = co_await self->load(std::move(job));
  } catch (const std::exception& e) {
    spdlog::error("cache {}: load of {} failed: {}", self->options_.ns, rk, e.what());
  }
  {
    std::lock_guard lock(self->flights_mu_);
    auto it = self->flights_.find(rk);
    if (it != self->flights_.end() && it->second == flight) self->flights_.erase(it);
  }
  {
    std::lock_guard lock(flight->mu);
    flight->result = std::move(result);
  }
  flight->done->set();
}

bool Cache::Impl::within_revalidate_window(const ReadResult& stale,
                                           const LoadPolicy& policy) const {
  if (!policy.revalidate_window) return true;
  return clock_.wall_now() - stale.entry->fresh_until <= *policy.revalidate_window;
}

bool Cache::Impl::refresh_early(const Entry& entry, double beta) const {
  // XFetch (Vattani et al., "Optimal probabilistic cache stampede prevention", VLDB 2015): refresh
  // when -delta * beta * ln(U) >= time left, i.e. with probability exp(-left / (delta * beta)).
  // delta, the recompute time, is not known per entry; the entry's fresh life stands for it, so
  // beta is the fraction of the TTL over which refreshes become likely (0.1: the last ~10%).
  using std::chrono::duration;
  const auto left = duration<double>(entry.fresh_until - clock_.wall_now()).count();
  const auto life = duration<double>(entry.fresh_until - entry.created).count();
  if (life <= 0.0) return false;
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return unit(rng) < std::exp(-left / (beta * life));
}

asio::awaitable<Result<ReadResult>> Cache::Impl::get_or_load(std::string key, AdaptiveLoader loader,
                                                             LoadPolicy policy) {
  if (auto ok = check_key(key); !ok) co_return ok.error();
  auto version = co_await ns_version();
  const std::uint64_t nsv = version ? *version : ns_version_hint_.load();
  const std::string rk = data_key(nsv, key);

  ReadResult current;
  auto r = co_await read(rk);
  if (r) {
    current = std::move(*r);
  } else {
    current.degraded = true;
    current.error = r.error();
  }
  const bool early = current.hit() && !current.stale && policy.early_refresh > 0.0 &&
                     refresh_early(*current.entry, policy.early_refresh);
  if (current.hit() && !current.stale && !early) co_return current;

  auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<detail::Flight> flight;
  bool started = false;
  {
    std::lock_guard lock(flights_mu_);
    auto& slot = flights_[rk];
    if (!slot) {
      slot = std::make_shared<detail::Flight>();
      started = true;
    }
    flight = slot;
  }
  if (started) {
    LoadJob job{.rk = rk,
                .ns_version = nsv,
                .loader = std::move(loader),
                .policy = policy,
                .replaces = early ? current.entry->version : 0};
    asio::co_spawn(ex, run_flight(shared_from_this(), flight, std::move(job)), asio::detached);
  }
  if (early) {
    if (started) counters_.early_refreshes.fetch_add(1);
    co_return current;  // fresh: answered as is while the refresh runs
  }
  if (current.hit() && policy.stale_while_revalidate && within_revalidate_window(current, policy)) {
    if (started) counters_.background_refreshes.fetch_add(1);
    current.source = Source::stale;
    co_return current;
  }

  const milliseconds hard = policy.hard_timeout.value_or(options_.hard_timeout);
  const milliseconds soft = policy.soft_timeout.value_or(options_.soft_timeout);
  bool done = false;
  if (current.hit() && soft > milliseconds(0) && soft < hard) {
    done = co_await flight->done->wait_for(soft);
    if (!done) co_return fail_safe(std::move(current), Errc::loader_timeout);
    done = true;
  }
  if (!done) done = co_await flight->done->wait_for(hard);
  if (!done) {
    if (current.hit() && policy.fail_safe) {
      counters_.fail_safe_served.fetch_add(1);
      co_return fail_safe(std::move(current), Errc::loader_timeout);
    }
    co_return Errc::loader_timeout;
  }
  Result<ReadResult> result = Errc::loader_failed;
  {
    std::lock_guard lock(flight->mu);
    result = flight->result;
  }
  if (result) {
    result->degraded = result->degraded || current.degraded;
    if (!result->error) result->error = current.error;
    co_return result;
  }
  if (current.hit() && policy.fail_safe) {
    counters_.fail_safe_served.fetch_add(1);
    co_return fail_safe(std::move(current), result.error());
  }
  co_return result.error();
}

}  // namespace tiercache::cache
