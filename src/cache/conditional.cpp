// Conditional writes and counters: set_if_absent, compare_and_set, expire (a touch), incr and
// counter.
//
// A conditional write reads the key's bytes, decides, and writes with a Lua compare-and-swap on
// those exact bytes, so a write that landed in between makes it read again (or answer false for
// compare_and_set) rather than overwrite it. Each attempt is two round trips; contention is
// bounded by kAttempts. Without Redis the same shape runs on L1: a load ticket taken before the
// read stands for the compared bytes (any change to the key stales it).
// Counters are plain Redis integers: INCRBY, and a TTL set once, at creation (a script rather
// than PEXPIRE NX, which Redis before 7.0 refuses, failing the whole MULTI).

#include "tiercache/cache/cache.hpp"
#include "tiercache/cache/entry_format.hpp"
#include "tiercache/cache/error.hpp"

#include "cache/cache_impl.hpp"

#include <charconv>
#include <limits>

namespace tiercache::cache {
namespace {

using std::chrono::milliseconds;

constexpr int kAttempts = 8;

// Replaces the value under KEYS[1] only if it still holds ARGV[1] (ARGV[1] empty: only if the key
// is absent; no entry is empty). Returns 1 written, 0 absent, -1 changed.
const redis::Script& swap_script() {
  static const redis::Script script(R"lua(
local v = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if v then return -1 end
elseif not v then
  return 0
elseif v ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua");
  return script;
}

// KEYS[1]: a counter; ARGV[1]: the delta; ARGV[2]: its TTL in ms when it has none. Returns the sum;
// a key holding a non-integer (an entry) or a sum out of range is Redis's error reply.
const redis::Script& incr_script() {
  static const redis::Script script(R"lua(
local sum = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return sum
)lua");
  return script;
}

Result<bool> bool_error(error_code ec) { return Result<bool>(boost::system::in_place_error, ec); }

std::optional<std::int64_t> parse_counter(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

// One attempt's outcome, as the Lua script reports it.
enum class Cache::Impl::Swap { written, absent, changed };

asio::awaitable<Result<Cache::Impl::Swap>> Cache::Impl::swap(std::string rk, std::string expected,
                                                             std::shared_ptr<Entry> entry) {
  auto bytes =
      encode_entry(*entry, EncodeOptions{.compression = options_.compression,
                                         .compression_threshold = options_.compression_threshold,
                                         .max_value_size = options_.max_value_size});
  if (!bytes) co_return bytes.error();
  const auto px = std::chrono::ceil<milliseconds>(entry->stale_until - clock_.wall_now()).count();
  if (px <= 0) co_return Errc::invalid_argument;
  std::vector<std::string> keys{rk};
  std::vector<std::string> args{std::move(expected), std::move(*bytes), std::to_string(px)};
  auto reply = co_await swap_script().exec(*redis_, std::move(keys), std::move(args));
  // Whatever happened, this process's copy may be old now; the next read refills it, tracked.
  invalidate_local(rk);
  if (!reply || reply->is_error()) co_return Errc::redis_unavailable;
  if (reply->integer() == 1) co_return Swap::written;
  co_return reply->integer() == 0 ? Swap::absent : Swap::changed;
}

asio::awaitable<Result<Cache::Impl::Current>> Cache::Impl::current(std::string rk) {
  Current out;
  if (!redis_) {
    out.ticket = l1_->begin_load(rk);
    out.entry = l1_->get(rk);
    if (out.entry && !out.entry->is_expired(clock_.wall_now())) {
      auto tags_ok = co_await tags_current(out.entry);
      out.valid = tags_ok && *tags_ok;
    }
    co_return out;
  }
  resp::Request req;
  req.push("GET", rk);
  auto reply = co_await exec(std::move(req));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Errc::redis_unavailable;
  if (reply->is_null()) co_return out;
  out.bytes = std::string(reply->str());
  auto decoded = decode_entry(out.bytes, {.max_value_size = options_.max_value_size});
  if (!decoded) co_return out;  // foreign bytes: no valid entry, but something to compare
  out.entry = std::make_shared<const Entry>(std::move(*decoded));
  if (!out.entry->is_expired(clock_.wall_now())) {
    auto tags_ok = co_await tags_current(out.entry);
    if (!tags_ok) co_return tags_ok.error();
    out.valid = *tags_ok;
  }
  co_return out;
}

asio::awaitable<Result<bool>> Cache::Impl::write_if(std::string rk, std::shared_ptr<Entry> entry,
                                                    std::function<bool(const Current&)> proceed) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto now = co_await current(rk);
    if (!now) co_return bool_error(now.error());
    if (!proceed(*now)) co_return false;
    if (!redis_) {
      entry->version = next_local_version_.fetch_add(1);
      // As set() in embedded mode: written even if L1 then evicts it at once.
      if (l1_->put_if_current(*now->ticket, entry) == PutResult::stale_ticket) continue;
      co_return true;
    }
    auto swapped = co_await swap(rk, now->bytes, entry);
    if (!swapped) co_return bool_error(swapped.error());
    if (*swapped == Swap::written) co_return true;
  }
  co_return bool_error(Errc::contention);
}

asio::awaitable<Result<bool>> Cache::set_if_absent(std::string key, std::string value,
                                                   WriteOptions options) {
  auto self = impl_;
  auto prepared = co_await self->prepare_write(std::move(key), std::move(value), options);
  if (!prepared) co_return bool_error(prepared.error());
  const auto now = self->clock_.wall_now();
  co_return co_await self->write_if(
      std::move(prepared->rk), std::move(prepared->entry),
      [now](const Impl::Current& c) { return !(c.valid && c.entry->is_fresh(now)); });
}

asio::awaitable<Result<bool>> Cache::compare_and_set(std::string key, std::uint64_t version,
                                                     std::string value, WriteOptions options) {
  auto self = impl_;
  auto prepared = co_await self->prepare_write(std::move(key), std::move(value), options);
  if (!prepared) co_return bool_error(prepared.error());
  auto result = co_await self->write_if(
      std::move(prepared->rk), std::move(prepared->entry),
      [version](const Impl::Current& c) { return c.valid && c.entry->version == version; });
  // Contention here means the version moved on: a plain "no".
  if (!result && result.error() == Errc::contention) co_return false;
  co_return result;
}

asio::awaitable<Result<bool>> Cache::expire(std::string key, milliseconds ttl) {
  auto self = impl_;
  if (auto ok = self->check_key(key); !ok) co_return bool_error(ok.error());
  if (ttl <= milliseconds(0)) co_return bool_error(Errc::invalid_argument);
  auto v = co_await self->ns_version();
  if (!v) co_return bool_error(v.error());
  const std::string rk = self->data_key(*v, key);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto now = co_await self->current(rk);
    if (!now) co_return bool_error(now.error());
    if (!now->entry || !now->valid) co_return false;
    auto touched = std::make_shared<Entry>(*now->entry);
    const auto grace = touched->stale_until - touched->fresh_until;
    const auto at = std::chrono::time_point_cast<milliseconds>(self->clock_.wall_now());
    touched->fresh_until = at + std::min(ttl, self->options_.max_ttl);
    touched->stale_until = touched->fresh_until + grace;
    if (!self->redis_) {
      touched->version = self->next_local_version_.fetch_add(1);
      if (self->l1_->put_if_current(*now->ticket, touched) == PutResult::stale_ticket) continue;
      co_return true;
    }
    auto swapped = co_await self->swap(rk, now->bytes, touched);
    if (!swapped) co_return bool_error(swapped.error());
    if (*swapped == Impl::Swap::written) co_return true;
    if (*swapped == Impl::Swap::absent) co_return false;
  }
  co_return bool_error(Errc::contention);
}

asio::awaitable<Result<std::int64_t>> Cache::incr(std::string key, std::int64_t delta,
                                                  std::optional<milliseconds> ttl) {
  auto self = impl_;
  if (auto ok = self->check_key(key); !ok) co_return ok.error();
  const milliseconds life =
      std::clamp(ttl.value_or(self->options_.default_ttl), milliseconds(1), self->options_.max_ttl);
  auto v = co_await self->ns_version();
  if (!v) co_return v.error();
  const std::string rk = self->data_key(*v, key);
  if (!self->redis_) co_return self->local_incr(rk, delta, life);
  std::vector<std::string> keys{rk};
  std::vector<std::string> args{std::to_string(delta), std::to_string(life.count())};
  auto reply = co_await incr_script().exec(*self->redis_, std::move(keys), std::move(args));
  if (!reply) co_return Errc::redis_unavailable;
  if (reply->is_error()) {
    // Not an integer, or out of range: the key holds an entry, or the sum would overflow.
    const std::string_view text = reply->str();
    if (text.find("not an integer") != std::string_view::npos ||
        text.find("overflow") != std::string_view::npos) {
      co_return Errc::invalid_argument;
    }
    co_return Errc::redis_unavailable;
  }
  co_return reply->integer();
}

asio::awaitable<Result<std::optional<std::int64_t>>> Cache::counter(std::string key) {
  auto self = impl_;
  using Value = std::optional<std::int64_t>;
  if (auto ok = self->check_key(key); !ok) co_return ok.error();
  auto v = co_await self->ns_version();
  if (!v) co_return v.error();
  const std::string rk = self->data_key(*v, key);
  if (!self->redis_) co_return self->local_counter(rk);
  resp::Request req;
  req.push("GET", rk);
  auto reply = co_await self->exec(std::move(req));
  if (!reply) co_return reply.error();
  if (reply->is_error()) co_return Errc::redis_unavailable;
  if (reply->is_null()) co_return Value{};
  auto parsed = parse_counter(reply->str());
  if (!parsed) co_return Errc::invalid_argument;  // an entry, not a counter
  co_return parsed;
}

Result<std::int64_t> Cache::Impl::local_incr(const std::string& rk, std::int64_t delta,
                                             milliseconds life) {
  const auto now = clock_.now();
  std::lock_guard lock(local_counters_mu_);
  if (++local_counter_ops_ % 1024 == 0) {
    std::erase_if(local_counters_, [now](const auto& kv) { return kv.second.expires <= now; });
  }
  auto& c = local_counters_[rk];
  if (c.expires <= now) c = LocalCounter{.value = 0, .expires = now + life};
  std::int64_t sum = 0;
  if (__builtin_add_overflow(c.value, delta, &sum)) return Errc::invalid_argument;
  c.value = sum;
  return sum;
}

std::optional<std::int64_t> Cache::Impl::local_counter(const std::string& rk) {
  std::lock_guard lock(local_counters_mu_);
  auto it = local_counters_.find(rk);
  if (it == local_counters_.end() || it->second.expires <= clock_.now()) return std::nullopt;
  return it->second.value;
}

}  // namespace tiercache::cache
