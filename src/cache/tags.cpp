// Tag and namespace versions (docs/decisions/0003 and 0012). An entry stores each tag with the
// version it had before the value was loaded ("<version>:<tag>" in the L2 header's tag list); it
// is valid while every such version is current. Versions are cached in L1 under the same tracking
// as values, so the check costs no round trip on the hot path; a miss of several tags is one MGET.
//
// Version keys never repeat a value. A bump sets max(current + 1, the server's TIME in µs); a key
// a write needs and does not find is created at TIME. So a version key that Redis evicted or
// expired comes back with a value no entry recorded: what it invalidated stays invalid. A key that
// does not exist reads 0, which no entry records, so its entries are misses until it is created.

#include "tiercache/cache/entry_format.hpp"
#include "tiercache/cache/error.hpp"
#include "tiercache/redis/script.hpp"
#include "tiercache/redis/slot.hpp"

#include "cache/cache_impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace tiercache::cache {

using std::chrono::milliseconds;
namespace {

std::uint64_t parse_version(std::string_view text) {
  std::uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// The prelude of both version scripts: `now`, the server's clock in µs (formatted whole below:
// Lua numbers are doubles, exact up to 2^53, and µs since 1970 stay below it until the year 2255;
// tostring() would print them in exponent form), and put(), a SET with the keys' TTL.
constexpr std::string_view kVersionPrelude = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function put(k, v)
  if ARGV[1] == '0' then redis.call('SET', k, v) else redis.call('SET', k, v, 'PX', ARGV[1]) end
end
)lua";

// KEYS: version keys; ARGV[1]: their TTL in ms, 0 for none. Sets each to max(current + 1, now)
// and answers the new values.
const redis::Script& bump_script() {
  static const redis::Script script(std::string(kVersionPrelude) + R"lua(
local out = {}
for i, k in ipairs(KEYS) do
  local v = string.format('%.0f', math.max((tonumber(redis.call('GET', k)) or 0) + 1, now))
  put(k, v)
  out[i] = v
end
return out
)lua");
  return script;
}

// KEYS: version keys; ARGV[1]: their TTL in ms, 0 for none. Creates each absent one at now,
// renews the TTL of the others, and answers the values.
const redis::Script& ensure_script() {
  static const redis::Script script(std::string(kVersionPrelude) + R"lua(
local out = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if not v then
    v = string.format('%.0f', now)
    put(k, v)
  elseif ARGV[1] ~= '0' then
    redis.call('PEXPIRE', k, ARGV[1])
  end
  out[i] = v
end
return out
)lua");
  return script;
}

}  // namespace

asio::awaitable<Result<std::vector<std::uint64_t>>> Cache::Impl::run_version_script(
    VersionScript which, std::vector<std::string> keys, milliseconds ttl) {
  if (redis_->cross_slot_allowed()) co_return co_await run_one_version_script(which, keys, ttl);
  // A script's keys must share a slot on a cluster: one script per slot there, one after the
  // other. Versions are independent of each other, so nothing needs them changed together.
  std::map<std::uint16_t, std::vector<std::size_t>> by_slot;
  for (std::size_t i = 0; i < keys.size(); ++i) by_slot[redis::key_slot(keys[i])].push_back(i);
  std::vector<std::uint64_t> versions(keys.size());
  for (const auto& [slot, indexes] : by_slot) {
    std::vector<std::string> group;
    for (const std::size_t i : indexes) group.push_back(keys[i]);
    auto r = co_await run_one_version_script(which, std::move(group), ttl);
    if (!r) co_return r.error();
    for (std::size_t j = 0; j < indexes.size(); ++j) versions[indexes[j]] = (*r)[j];
  }
  co_return versions;
}

asio::awaitable<Result<std::vector<std::uint64_t>>> Cache::Impl::run_one_version_script(
    VersionScript which, std::vector<std::string> keys, milliseconds ttl) {
  const auto& script = which == VersionScript::bump ? bump_script() : ensure_script();
  const std::size_t n = keys.size();
  std::vector<std::string> args{std::to_string(ttl.count())};
  auto reply = co_await script.exec(*redis_, std::move(keys), std::move(args));
  if (!reply) co_return Errc::redis_unavailable;
  if (reply->is_error()) {
    spdlog::warn("cache {}: version script: {}", options_.ns, reply->str());
    co_return Errc::redis_unavailable;
  }
  if (reply->size() != n) co_return Errc::redis_unavailable;
  std::vector<std::uint64_t> versions;
  versions.reserve(n);
  for (const auto element : *reply) versions.push_back(parse_version(element.str()));
  co_return versions;
}

milliseconds Cache::Impl::tag_key_ttl() const noexcept {
  // An entry lives at most ttl + grace <= 2 x max_ttl past its write, and a write may use a version
  // L1 has cached for up to max_ttl: a tag key renewed at that read outlives the entry.
  return options_.max_ttl * 3;
}

std::optional<std::uint64_t> Cache::Impl::known_ns_version() {
  if (!redis_) return ns_version_hint_.load();
  if (const std::uint64_t v = ns_memo_.load(std::memory_order_acquire); v != 0) return v;
  L1* cached = meta();
  if (cached == nullptr) return std::nullopt;
  const std::uint64_t epoch = ns_memo_epoch_.load(std::memory_order_acquire);
  auto e = cached->get(version_key());
  if (!e) return std::nullopt;
  const std::uint64_t v = parse_version(e->value);
  // Untracked, meta() keeps versions for untracked_l1_ttl only: no memo then.
  if (tracking() && v != 0) {
    std::lock_guard lock(ns_memo_mu_);
    if (ns_memo_epoch_.load(std::memory_order_relaxed) == epoch) {
      ns_memo_.store(v, std::memory_order_release);
    }
  }
  return v;
}

void Cache::Impl::forget_ns_version() {
  std::lock_guard lock(ns_memo_mu_);
  ns_memo_epoch_.fetch_add(1, std::memory_order_acq_rel);
  ns_memo_.store(0, std::memory_order_release);
}

asio::awaitable<Result<std::uint64_t>> Cache::Impl::ns_version() {
  if (auto known = known_ns_version()) co_return *known;
  const std::string& vk = version_key();
  L1* cached = meta();
  std::optional<LoadTicket> ticket;
  if (cached) ticket = cached->begin_load(vk);
  auto read = tracked_read(true);
  read.request.push("GET", vk);
  auto all = co_await exec(std::move(read.request));
  if (!all) co_return all.error();
  const resp::ReplyView reply = read.reply(*all);
  if (reply.is_error()) co_return Errc::redis_unavailable;
  std::uint64_t v = 0;
  if (reply.is_null()) {
    // First use of the namespace, or its version key was lost: start at a value never used.
    std::vector<std::string> keys{vk};  // no braced list inside co_await (g++ 12)
    auto created =
        co_await run_version_script(VersionScript::ensure, std::move(keys), milliseconds(0));
    if (!created) co_return created.error();
    v = created->front();
  } else {
    v = parse_version(reply.str());
  }
  ns_version_hint_.store(v);
  if (ticket) l1_fill_meta(*ticket, v);
  co_return v;
}

asio::awaitable<Result<std::vector<std::uint64_t>>> Cache::Impl::tag_versions(
    std::vector<std::string> tags, bool create) {
  std::vector<std::uint64_t> versions(tags.size(), 0);
  if (!redis_) {
    std::lock_guard lock(local_tags_mu_);
    for (std::size_t i = 0; i < tags.size(); ++i) {
      auto it = local_tags_.find(tags[i]);
      if (it != local_tags_.end()) versions[i] = it->second;
    }
    co_return versions;
  }
  std::vector<std::size_t> missing;
  std::vector<std::string> keys;
  std::vector<LoadTicket> tickets;
  // The version script's reads are not tracked on an OPTIN client (CLIENT CACHING YES cannot be
  // put before the script's NOSCRIPT retry): what it answers is not cached then, and the next
  // read of those versions asks with a tracked MGET.
  const bool fill = !(create && tracking_optin_);
  for (std::size_t i = 0; i < tags.size(); ++i) {
    std::string k = tag_key(tags[i]);
    if (L1* cached = meta()) {
      if (auto e = cached->get(k)) {
        versions[i] = parse_version(e->value);
        continue;
      }
      if (fill) tickets.push_back(cached->begin_load(k));
    }
    missing.push_back(i);
    keys.push_back(std::move(k));
  }
  if (missing.empty()) co_return versions;
  std::vector<std::uint64_t> fetched;
  if (create) {
    auto r = co_await run_version_script(VersionScript::ensure, std::move(keys), tag_key_ttl());
    if (!r) co_return r.error();
    fetched = std::move(*r);
  } else {
    auto read = tracked_read(true);
    read.request.push_range("MGET", "", keys);
    auto all = co_await exec(std::move(read.request));
    if (!all) co_return all.error();
    const resp::ReplyView reply = read.reply(*all);
    if (reply.is_error() || reply.size() != keys.size()) co_return Errc::redis_unavailable;
    for (const auto element : reply) {
      fetched.push_back(element.is_null() ? 0 : parse_version(element.str()));
    }
  }
  for (std::size_t j = 0; j < missing.size(); ++j) {
    versions[missing[j]] = fetched[j];
    if (!tickets.empty()) l1_fill_meta(tickets[j], fetched[j]);
  }
  co_return versions;
}

std::optional<bool> Cache::Impl::known_tags_current(const Entry& entry) {
  if (entry.tags.empty()) return true;
  bool current = true;
  if (!redis_) {
    std::lock_guard lock(local_tags_mu_);
    for (const auto& t : entry.tags) {
      const auto split = detail::split_versioned_tag(t);
      if (!split) continue;  // not written so: tags_current ignores it too
      auto it = local_tags_.find(std::string(split->second));
      current = current && (it == local_tags_.end() ? 0 : it->second) == split->first;
    }
    return current;
  }
  L1* cached = meta();
  for (const auto& t : entry.tags) {
    const auto split = detail::split_versioned_tag(t);
    if (!split) continue;
    if (cached == nullptr) return std::nullopt;
    auto e = cached->get(tag_key(split->second));
    if (!e) return std::nullopt;
    current = current && parse_version(e->value) == split->first;
  }
  return current;
}

asio::awaitable<Result<bool>> Cache::Impl::tags_current(std::shared_ptr<const Entry> entry) {
  std::vector<std::string> names;
  std::vector<std::uint64_t> stored;
  for (const auto& t : entry->tags) {
    if (auto split = detail::split_versioned_tag(t)) {
      stored.push_back(split->first);
      names.emplace_back(split->second);
    }
  }
  if (names.empty()) co_return true;
  auto current = co_await tag_versions(std::move(names), false);
  if (!current) co_return Result<bool>(boost::system::in_place_error, current.error());
  co_return *current == stored;
}

asio::awaitable<Result<Cache::Impl::WriteTags>> Cache::Impl::write_tags(std::uint64_t ns_version,
                                                                        WriteOptions options) {
  // The closure of dependencies: each entry already carries its own closure, so one level of
  // lookup suffices.
  std::set<std::string> closure(options.dependencies.begin(), options.dependencies.end());
  for (const auto& dep : options.dependencies) {
    const std::string rk = data_key(ns_version, dep);
    std::vector<std::string> deps_of_dep;
    std::shared_ptr<const Entry> cached = l1_ ? l1_->get(rk) : nullptr;
    if (cached) {
      deps_of_dep = cached->dependencies;
    } else if (redis_) {
      resp::Request req;
      req.push("GET", rk);
      auto reply = co_await exec(std::move(req));
      if (!reply) co_return reply.error();
      if (!reply->is_null() && !reply->is_error()) {
        if (auto header = decode_entry_header(reply->str())) deps_of_dep = header->dependencies;
      }
    }
    closure.insert(deps_of_dep.begin(), deps_of_dep.end());
  }
  std::vector<std::string> names = options.tags;
  for (const auto& dep : closure) names.push_back("dep:" + dep);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  auto versions = co_await tag_versions(names, true);
  if (!versions) co_return versions.error();
  WriteTags out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    out.stored.push_back(detail::versioned_tag((*versions)[i], names[i]));
  }
  out.dependencies.assign(closure.begin(), closure.end());
  co_return out;
}

}  // namespace tiercache::cache
