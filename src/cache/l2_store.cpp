// Keys and the L2 round trips of one entry. Key layout (docs/decisions/0003):
//   <ns>:v<N>:<key>      an entry; N is the namespace version, so a bump orphans every key
//   <ns>:version         the namespace version (absent = 0)
//   <ns>:tag:<tag>       a tag's version (absent = 0); dependencies are tags "dep:<key>"
//   <ns>:lock:v<N>:<key> the fleet lock of a load (not "<key>:lock", which a user key could be)
// A read takes its L1 load ticket before GET; a write erases L1, takes a ticket, then runs
// MULTI SET PX + PTTL EXEC: the PTTL is a read, so the link tracks the key it just wrote and a
// later write by anyone invalidates this process's copy; MULTI keeps another client's write from
// landing between the SET and the PTTL unseen. The reply fills L1 only if no invalidation came
// in between (put_if_current).

#include "tiercache/cache/entry_format.hpp"
#include "tiercache/cache/error.hpp"
#include "tiercache/cache/key_builder.hpp"
#include "tiercache/redis/slot.hpp"

#include "cache/cache_impl.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <numeric>
#include <random>

namespace tiercache::cache {

using std::chrono::milliseconds;

Result<void> Cache::Impl::check_key(std::string_view key) const {
  return validate_key(key, options_.max_key_size);
}

namespace {

// v in lowercase hex, as std::to_chars(..., 16) writes it, into out; its length. Versions are
// server µs (tags.cpp): 13 digits. A loop of its own: to_chars cost ~200 instructions a get.
std::size_t to_hex(std::uint64_t v, char (&out)[16]) {
  std::size_t n = 1;
  for (std::uint64_t rest = v >> 4; rest != 0; rest >>= 4) ++n;
  for (std::size_t i = n; i-- > 0; v >>= 4) out[i] = "0123456789abcdef"[v & 0xf];
  return n;
}

}  // namespace

std::string Cache::Impl::data_prefix(std::uint64_t ns_version) const {
  return data_key(ns_version, {});
}

std::string Cache::Impl::data_key(std::uint64_t ns_version, std::string_view key) const {
  char hex[16];
  const std::size_t digits = to_hex(ns_version, hex);
  const std::string_view ns = options_.ns;
  // Sized once and written in place: appends cost ~300 instructions a get (cache_bench).
  std::string rk(ns.size() + 3 + digits + key.size(), ':');
  char* out = rk.data();
  std::memcpy(out, ns.data(), ns.size());
  out += ns.size() + 1;  // ':'
  *out++ = 'v';
  std::memcpy(out, hex, digits);
  out += digits + 1;  // ':'
  if (!key.empty()) std::memcpy(out, key.data(), key.size());
  return rk;
}

std::string Cache::Impl::tag_key(std::string_view tag) const {
  std::string k = options_.ns + ":tag:";
  k.append(tag);
  return k;
}

std::string Cache::Impl::lock_key(std::string_view data_key) const {
  return options_.ns + ":lock:" + std::string(data_key.substr(options_.ns.size() + 1));
}

asio::awaitable<Result<resp::Reply>> Cache::Impl::exec(resp::Request request) {
  if (!redis_) co_return Errc::redis_unavailable;
  auto r = co_await redis_->exec(std::move(request));
  if (!r) {
    spdlog::debug("cache {}: redis: {}", options_.ns, r.error().message());
    co_return Errc::redis_unavailable;
  }
  co_return std::move(*r);
}

asio::awaitable<Result<resp::Reply>> Cache::Impl::exec_on(std::string primary,
                                                          resp::Request request) {
  if (!redis_) co_return Errc::redis_unavailable;
  auto r = co_await redis_->exec_on(primary, std::move(request));
  if (!r) {
    spdlog::debug("cache {}: redis {}: {}", options_.ns, primary, r.error().message());
    co_return Errc::redis_unavailable;
  }
  co_return std::move(*r);
}

Result<std::shared_ptr<Entry>> Cache::Impl::make_entry(
    std::string value, const WriteOptions& options, std::vector<std::string> stored_tags,
    std::vector<std::string> dependencies) const {
  if (value.size() > options_.max_value_size) return Errc::value_too_large;
  milliseconds ttl =
      std::clamp(options.ttl.value_or(options_.default_ttl), milliseconds(1), options_.max_ttl);
  const milliseconds grace =
      std::clamp(options.grace.value_or(options_.default_grace), milliseconds(0), options_.max_ttl);
  if (options_.ttl_jitter > 0.0) {
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_real_distribution<double> cut(0.0, std::min(options_.ttl_jitter, 1.0));
    const auto shorter =
        static_cast<milliseconds::rep>(static_cast<double>(ttl.count()) * cut(rng));
    ttl = std::max(milliseconds(1), ttl - milliseconds(shorter));
  }
  // Whole milliseconds, as the L2 header stores them, so L1 and L2 copies agree.
  const auto now = std::chrono::time_point_cast<milliseconds>(clock_.wall_now());
  auto entry = std::make_shared<Entry>();
  entry->value = std::move(value);
  entry->created = now;
  entry->fresh_until = now + ttl;
  entry->stale_until = now + ttl + grace;
  entry->tags = std::move(stored_tags);
  entry->dependencies = std::move(dependencies);
  entry->priority = options.priority;
  entry->codec = options.codec;
  return entry;
}

asio::awaitable<Result<Cache::Impl::PreparedWrite>> Cache::Impl::prepare_write(
    std::string key, std::string value, WriteOptions options) {
  if (auto ok = check_key(key); !ok) co_return ok.error();
  if (value.size() > options_.max_value_size) co_return Errc::value_too_large;
  auto v = co_await ns_version();
  if (!v) co_return v.error();
  auto tags = co_await write_tags(*v, options);
  if (!tags) co_return tags.error();
  auto entry =
      make_entry(std::move(value), options, std::move(tags->stored), std::move(tags->dependencies));
  if (!entry) co_return entry.error();
  co_return PreparedWrite{.rk = data_key(*v, key), .entry = std::move(*entry)};
}

std::shared_ptr<const Entry> Cache::Impl::for_l1(std::shared_ptr<const Entry> entry) const {
  if (tracking() || !redis_) return entry;
  const auto limit = clock_.wall_now() + options_.untracked_l1_ttl;
  if (entry->stale_until <= limit) return entry;
  auto clipped = std::make_shared<Entry>(*entry);
  clipped->fresh_until = std::min(clipped->fresh_until, limit);
  clipped->stale_until = limit;
  return clipped;
}

void Cache::Impl::l1_fill(const LoadTicket& ticket, std::shared_ptr<const Entry> entry) {
  if (!l1_) return;
  if (redis_ && !tracking() && options_.untracked_l1_ttl <= milliseconds(0)) return;
  (void)l1_->put_if_current(ticket, for_l1(std::move(entry)));
}

void Cache::Impl::l1_fill_meta(const LoadTicket& ticket, std::uint64_t version) {
  L1* cached = meta();
  if (cached == nullptr) return;
  if (redis_ && !tracking() && options_.untracked_l1_ttl <= milliseconds(0)) return;
  auto e = std::make_shared<Entry>();
  e->value = std::to_string(version);
  e->created = clock_.wall_now();
  e->fresh_until = e->stale_until = e->created + options_.max_ttl;
  e->priority = Priority::high;
  (void)cached->put_if_current(ticket, for_l1(std::move(e)));
}

asio::awaitable<Result<ReadResult>> Cache::Impl::read(std::string rk) {
  // Not a coroutine: the caller awaits lookup's frame itself.
  return lookup(shared_from_this(), std::move(rk), Lookup::redis_key);
}

asio::awaitable<Result<ReadResult>> Cache::Impl::read_for_lock_wait(std::string rk) {
  return lookup(shared_from_this(), std::move(rk), Lookup::lock_wait);
}

asio::awaitable<Result<ReadResult>> Cache::Impl::lookup(std::shared_ptr<Impl> self, std::string key,
                                                        Lookup kind) {
  Impl& c = *self;
  std::string rk;
  if (kind == Lookup::user_key) {
    if (auto ok = c.check_key(key); !ok) {
      c.count_read(ok.error());
      co_return ok.error();
    }
    std::optional<std::uint64_t> v = c.known_ns_version();
    if (!v) {
      auto asked = co_await c.ns_version();
      v = asked ? *asked : c.ns_version_hint_.load();
    }
    rk = c.data_key(*v, key);
  } else {
    rk = std::move(key);
  }

  LookupState s;
  if (!c.probe_l1(rk, s)) {
    if (!c.redis_) {
      s.answer = ReadResult{};  // no copy in L1 and no Redis to ask: a miss
    } else {
      // The client's operation, awaited here: no frame of exec() in between.
      auto reply = co_await c.get_l2(rk, kind, s);
      c.take_l2(rk, reply, s);
    }
  }
  if (!s.answer) {
    auto current = co_await c.tags_current(s.unchecked);
    c.settle(rk, current, s);
  }
  if (kind == Lookup::user_key) c.count_read(*s.answer);
  co_return std::move(*s.answer);
}

bool Cache::Impl::probe_l1(const std::string& rk, LookupState& s) {
  if (!l1_) return false;
  auto e = l1_->get(rk);
  if (!e) return false;
  if (auto current = known_tags_current(*e)) {
    s.answer = l1_answer(rk, std::move(e), *current);
  } else {
    s.unchecked = std::move(e);
    s.from_l1 = true;
  }
  return true;
}

asio::awaitable<Result<resp::Reply>> Cache::Impl::get_l2(const std::string& rk, Lookup kind,
                                                         LookupState& s) {
  if (l1_) s.ticket = l1_->begin_load(rk);
  // Tracked when L1 keeps it, or for a fleet-lock waiter, woken by its change.
  auto read = tracked_read(track_data() || kind == Lookup::lock_wait);
  s.prefixed = read.prefixed;
  read.request.push("GET", rk);
  return redis_->exec(std::move(read.request));
}

void Cache::Impl::take_l2(const std::string& rk, const Result<resp::Reply>& reply, LookupState& s) {
  const auto value = reply ? TrackedRead::reply(*reply, s.prefixed) : resp::ReplyView{};
  if (!reply || value.is_error()) {
    if (!reply) spdlog::debug("cache {}: redis: {}", options_.ns, reply.error().message());
    const error_code ec = Errc::redis_unavailable;
    if (auto fallback = from_shelf(rk, ec)) {
      s.answer = std::move(*fallback);
    } else {
      s.answer = Result<ReadResult>(ec);
    }
    return;
  }
  take_entry(rk, value, s);
}

void Cache::Impl::take_entry(const std::string& rk, resp::ReplyView value, LookupState& s) {
  FromL2 found = decode_l2(rk, value);
  if (!found.entry) {
    s.answer = std::move(found.miss);
  } else if (auto current = known_tags_current(*found.entry)) {
    s.answer = l2_answer(std::move(found.entry), *current, s.ticket, found.now);
  } else {
    s.unchecked = std::move(found.entry);
  }
}

void Cache::Impl::settle(const std::string& rk, const Result<bool>& current, LookupState& s) {
  s.answer = s.from_l1 ? l1_answer(rk, std::move(s.unchecked), current)
                       : l2_answer(std::move(s.unchecked), current, s.ticket, clock_.wall_now());
}

asio::awaitable<std::optional<ReadResult>> Cache::Impl::read_l1(const std::string& rk) {
  LookupState s;
  if (!probe_l1(rk, s)) co_return std::nullopt;
  if (!s.answer) {
    auto current = co_await tags_current(s.unchecked);
    settle(rk, current, s);
  }
  co_return std::move(**s.answer);  // an L1 answer is never an error
}

ReadResult Cache::Impl::l1_answer(const std::string& rk, std::shared_ptr<const Entry> e,
                                  const Result<bool>& current) {
  const bool stale = !e->is_fresh(clock_.wall_now());
  if (!current) {
    // Redis failed while checking tags: trust the copy, flagged.
    return ReadResult{.entry = std::move(e),
                      .source = Source::l1,
                      .stale = stale,
                      .degraded = true,
                      .error = current.error()};
  }
  if (*current) return ReadResult{.entry = std::move(e), .source = Source::l1, .stale = stale};
  l1_->erase(rk);
  return ReadResult{};  // tag-invalidated: the Redis copy carries the same tags
}

std::optional<ReadResult> Cache::Impl::from_shelf(const std::string& rk, error_code why) {
  auto e = shelf_get(rk);
  if (!e) return std::nullopt;
  return ReadResult{.entry = e,
                    .source = Source::l1,
                    .stale = !e->is_fresh(clock_.wall_now()),
                    .degraded = true,
                    .error = why};
}

asio::awaitable<ReadResult> Cache::Impl::accept_l2(const std::string& rk, resp::ReplyView value,
                                                   std::optional<LoadTicket> ticket) {
  LookupState s{.ticket = std::move(ticket)};
  take_entry(rk, value, s);
  if (!s.answer) {
    auto current = co_await tags_current(s.unchecked);
    settle(rk, current, s);
  }
  co_return std::move(**s.answer);  // an entry's answer is never an error
}

Cache::Impl::FromL2 Cache::Impl::decode_l2(const std::string& rk, resp::ReplyView value) const {
  if (value.is_null()) return {};
  auto decoded = decode_shared_entry(value.str(), {.max_value_size = options_.max_value_size});
  if (!decoded) {
    spdlog::warn("cache {}: key {} holds no readable entry ({}); treated as a miss", options_.ns,
                 rk, decoded.error().message());
    return {.miss = ReadResult{.error = decoded.error()}};
  }
  const auto now = clock_.wall_now();
  if ((*decoded)->is_expired(now)) return {};
  return {.entry = std::move(*decoded), .now = now};
}

ReadResult Cache::Impl::l2_answer(std::shared_ptr<const Entry> entry, const Result<bool>& current,
                                  const std::optional<LoadTicket>& ticket, Entry::time_point now) {
  if (current && !*current) return ReadResult{};
  if (current && ticket) l1_fill(*ticket, entry);
  const bool stale = !entry->is_fresh(now);
  return ReadResult{.entry = std::move(entry), .source = Source::l2, .stale = stale};
}

asio::awaitable<Result<void>> Cache::Impl::write(std::string rk, std::shared_ptr<Entry> entry) {
  std::vector<std::string> rks{std::move(rk)};
  std::vector<std::shared_ptr<Entry>> entries{std::move(entry)};
  co_return co_await write_many(std::move(rks), std::move(entries));
}

std::vector<std::vector<std::size_t>> Cache::Impl::transaction_blocks(
    const std::vector<std::string>& keys) const {
  std::vector<std::vector<std::size_t>> blocks;
  if (redis_->cross_slot_allowed()) {
    blocks.emplace_back(keys.size());
    std::iota(blocks.front().begin(), blocks.front().end(), std::size_t{0});
    return blocks;
  }
  std::map<std::uint16_t, std::size_t> block_of_slot;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto [it, added] = block_of_slot.try_emplace(redis::key_slot(keys[i]), blocks.size());
    if (added) blocks.emplace_back();
    blocks[it->second].push_back(i);
  }
  return blocks;
}

asio::awaitable<Result<void>> Cache::Impl::write_many(std::vector<std::string> rks,
                                                      std::vector<std::shared_ptr<Entry>> entries) {
  if (!redis_) {
    for (std::size_t i = 0; i < rks.size(); ++i) {
      entries[i]->version = next_local_version_.fetch_add(1);
      if (l1_) (void)l1_->put(rks[i], entries[i]);
    }
    co_return Result<void>{};
  }
  const EncodeOptions encode{.compression = options_.compression,
                             .compression_threshold = options_.compression_threshold,
                             .max_value_size = options_.max_value_size};
  const auto now = clock_.wall_now();
  std::vector<std::string> encoded;
  std::vector<std::int64_t> pxs;
  for (std::size_t i = 0; i < rks.size(); ++i) {
    auto bytes = encode_entry(*entries[i], encode);
    if (!bytes) co_return bytes.error();
    entries[i]->version = entry_version(*bytes);
    pxs.push_back(std::chrono::ceil<milliseconds>(entries[i]->stale_until - now).count());
    if (pxs.back() <= 0) co_return Errc::invalid_argument;
    encoded.push_back(std::move(*bytes));
  }
  // A transaction cannot span cluster nodes: there, one MULTI block per slot (all or nothing per
  // slot, not across them); on one server, one block for all.
  const auto blocks = transaction_blocks(rks);
  // CLIENT CACHING YES before MULTI tracks the whole transaction's reads (the PTTLs).
  auto tracked = tracked_read(track_data());
  resp::Request& req = tracked.request;
  for (const auto& block : blocks) {
    req.push("MULTI");
    for (const std::size_t i : block) {
      req.push("SET", rks[i], encoded[i], "PX", pxs[i]);
      req.push("PTTL", rks[i]);
    }
    req.push("EXEC");
  }
  std::vector<LoadTicket> tickets;
  if (l1_) {
    for (const auto& rk : rks) {
      l1_->erase(rk);
      tickets.push_back(l1_->begin_load(rk));
    }
  }
  auto reply = co_await exec(std::move(req));
  if (!reply) co_return reply.error();
  // [CLIENT CACHING YES,] then per block MULTI, SET and PTTL per entry (QUEUED), EXEC.
  std::size_t at = tracked.prefixed ? 1 : 0;
  for (const auto& block : blocks) {
    at += 1 + 2 * block.size();
    const auto exec_reply = reply->at(at++);
    if (exec_reply.is_error() || exec_reply.is_null() || exec_reply.size() != 2 * block.size()) {
      spdlog::warn("cache {}: SET of {} key(s) failed: {}", options_.ns, block.size(),
                   resp::to_display(*reply));
      co_return Errc::redis_unavailable;
    }
    for (const auto element : exec_reply) {
      if (element.is_error()) co_return Errc::redis_unavailable;  // SET (or PTTL) refused
    }
  }
  for (std::size_t i = 0; i < tickets.size(); ++i) l1_fill(tickets[i], std::move(entries[i]));
  co_return Result<void>{};
}

namespace detail {

std::string versioned_tag(std::uint64_t version, std::string_view tag) {
  std::string s = std::to_string(version);
  s.push_back(':');
  s.append(tag);
  return s;
}

std::optional<std::pair<std::uint64_t, std::string_view>> split_versioned_tag(
    std::string_view stored) {
  const auto colon = stored.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(stored.data(), stored.data() + colon, v);
  if (ec != std::errc() || end != stored.data() + colon) return std::nullopt;
  return std::pair{v, stored.substr(colon + 1)};
}

}  // namespace detail
}  // namespace tiercache::cache
