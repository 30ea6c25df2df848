// The Lua sources of src/ratelimit/*.lua, byte for byte (scripts_test checks it): a raw string
// literal per file, so the library needs no build step and no file at run time.
#include "scripts.hpp"

#include <string>

namespace tiercache::ratelimit {
namespace {

// clang-format off
// src/ratelimit/sliding_log.lua
constexpr std::string_view kSlidingLog = R"lua(-- Sliding log: an exact limit of LIMIT units in any window of WINDOW microseconds.
--
-- Structure. One sorted set per limit (KEYS[1]). Each admitted unit is one member whose score
-- is the microsecond, on the Redis server's clock, at which it was admitted. A request of cost n
-- admitted at t adds n members "t:1" .. "t:n", all scored t.
--
-- Unique members. Two requests in the same microsecond (or second, as the seed's version with
-- member = score = seconds had it [1]) must both count, so no member may repeat. Every request
-- admitted at stamp s adds "s:1" first, with ZADD NX, which adds nothing and says so when "s:1"
-- is there: s is taken, and the request tries s + 1, and so on. Its other members "s:2" ..
-- "s:n" then cannot exist yet. Members "stamp:i" are thus unique, and the set's size is the
-- number of admitted units. The nudge is one microsecond per request that shares a microsecond,
-- which makes no difference to the window.
--
-- Decision. Entries scored at or before now - WINDOW have left the window and are removed
-- first (ZREMRANGEBYSCORE); the rest, ZCARD of them, are the units used in the window. A
-- request of cost n is admitted when used + n <= LIMIT. Otherwise it must wait until
-- used + n - LIMIT of the oldest entries have left: retry-after is the score of the
-- (used + n - LIMIT)-th oldest entry, plus WINDOW, minus now. Reset (usage back to zero) is the
-- newest entry's score plus WINDOW.
--
-- Exactness. Exact: in every interval of length WINDOW, at most LIMIT units are admitted,
-- because admission counts each admitted unit still inside the window, one by one. No
-- approximation, no aligned windows, no boundary burst.
--
-- Memory. At most LIMIT members per key: a request is written only when the count after it stays
-- within LIMIT, and expired members are removed before counting. About 60-80 bytes a member in
-- a skiplist-encoded sorted set (zset-max-listpack-entries, 128 by default, keeps small sets in
-- a compact listpack), so a limit of 10,000 per window costs under 1 MB per key at worst. For
-- large limits prefer the sliding-window counter (O(1) memory). The key expires (PEXPIRE) when
-- its newest entry leaves the window (rounded up to the next millisecond), so idle limits cost
-- nothing.
--
-- Atomicity. Redis runs a script to completion with no other command in between [2]: the trim,
-- count and add are one step, so concurrent callers on any number of clients can never both see
-- room for the last unit. The time comes from the server (TIME), not from the callers, so
-- clients with skewed clocks agree on the window. Redis 7 replicates a script's effects, not
-- the script, so reading TIME in a script that writes is allowed and replicas stay identical
-- [2]. One key per limit: the script works unchanged on Redis Cluster.
--
-- Cost. This runs for every decision, on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements): an admission of cost 1 is five
-- redis.calls (TIME, ZREMRANGEBYSCORE, ZCARD, ZADD, PEXPIRE) and turns two numbers into text
-- (the window's start and the stamp, with '%d', far cheaper than '%.17g'); a refusal is TIME,
-- ZREMRANGEBYSCORE, ZCARD and two ZRANGEs. Numbers are read by arithmetic coercion (cheaper
-- than tonumber), the expiry comes in as text, and no table is built but Redis's replies.
--
-- Peek (ARGV[4] == "1") counts without trimming or adding (ZCOUNT over the window) and writes
-- nothing.
--
-- KEYS[1] = the limit's sorted set
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[3] = cost (units,
--   1 <= cost <= LIMIT), ARGV[4] = "1" to peek, "0" to consume, ARGV[5] = the key's expiry
--   after an admission, in ms (WINDOW rounded up to a millisecond, plus one)
-- Returns {allowed (0/1), remaining units, retry-after us, reset-after us, server now us}
--
-- [1] seed 004, src/cache/rate_limiter.py: ZADD key now now, with now in whole seconds.
-- [2] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ ("Script
--     replication", "Atomicity").

local key = KEYS[1]
local limit = ARGV[1] + 0
local window = ARGV[2] + 0
local cost = ARGV[3] + 0
local peek = ARGV[4] == '1'

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
-- Whole microseconds since 1970 need 16 digits: '%d' writes them all (Lua's own "%.14g" does not).
local since = string.format('%d', now - window)

local used
if peek then
  used = redis.call('ZCOUNT', key, '(' .. since, '+inf')
else
  redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
  used = redis.call('ZCARD', key)
end

if used + cost <= limit then
  if not peek then
    local stamp = now
    local stamp_text = string.format('%d', stamp)
    while redis.call('ZADD', key, 'NX', stamp_text, stamp_text .. ':1') == 0 do
      stamp = stamp + 1
      stamp_text = string.format('%d', stamp)
    end
    -- Lua's unpack has a stack limit: the other members go in batches of 1,000.
    local i = 2
    while i <= cost do
      local args = {}
      local last = math.min(cost, i + 999)
      for j = i, last do
        args[#args + 1] = stamp_text
        args[#args + 1] = stamp_text .. ':' .. j
      end
      redis.call('ZADD', key, unpack(args))
      i = last + 1
    end
    if stamp - now < 1000 then
      redis.call('PEXPIRE', key, ARGV[5])
    else
      -- Nudged past a millisecond (the server's clock stepped back): expire after the stamp.
      redis.call('PEXPIRE', key, math.ceil((stamp - now + window) / 1000) + 1)
    end
    return {1, limit - used - cost, 0, stamp + window - now, now}
  end
  if used == 0 then
    return {1, limit, 0, 0, now}
  end
end

-- Refused, or a peek: retry-after from the (used + cost - limit)-th oldest entry in the window,
-- reset from the newest.
local retry = 0
local allowed = 1
if used + cost > limit then
  allowed = 0
  local entry = redis.call('ZRANGE', key, '(' .. since, '+inf', 'BYSCORE', 'LIMIT',
                           used + cost - limit - 1, '1', 'WITHSCORES')
  retry = entry[2] + window - now
  if retry < 1 then
    retry = 1
  end
end
local reset = 0
if used > 0 then
  local newest = redis.call('ZRANGE', key, '-1', '-1', 'WITHSCORES')
  if newest[2] then
    reset = newest[2] + window - now
    if reset < 0 then
      reset = 0
    end
  end
end
return {allowed, limit - used, retry, reset, now}
)lua";

// src/ratelimit/sliding_window.lua
constexpr std::string_view kSlidingWindow = R"lua(-- Sliding-window counter: an approximate limit of LIMIT units per WINDOW microseconds, in O(1)
-- memory per key.
--
-- Structure. One hash per limit (KEYS[1]) with three fields: w, the index of the current fixed
-- window (floor(now / WINDOW), on the Redis server's clock), c, the units admitted in it, and p,
-- the units admitted in the window before it.
--
--     previous window (p)          current window (c)
--   |---------------------------|-------------x-------------|
--                 |<-------- sliding window ---->|
--                  weight = (WINDOW - elapsed) / WINDOW of p, plus all of c
--
-- Decision. The units used in the sliding window that ends now are estimated as
-- p * (WINDOW - elapsed) / WINDOW + c, where elapsed is the time since the current window
-- began: the previous window's count, scaled by how much of it the sliding window still
-- covers [1]. A request of cost n is admitted when estimate + n <= LIMIT. When time enters a
-- new window, c moves to p (or both reset, when a whole window passed in silence).
-- Retry-after solves the same inequality for the earliest time it holds: within this window
-- when p's share is what is in the way, else in the next one, once c (then p) has decayed
-- enough. Reset (estimate back to zero) is the end of the next window while c > 0.
--
-- Exactness. Approximate: it assumes the previous window's units were spread evenly. It never
-- admits more than LIMIT in one fixed window (c alone is bounded by the inequality), and in a
-- sliding window at most LIMIT plus the share of p that the estimate discounted; Cloudflare
-- measured 0.003% of requests wrongly allowed or refused on real traffic [1]. Under any
-- concurrency its decisions are exactly those of one caller at a time (see Atomicity): a burst
-- inside one fixed window admits exactly LIMIT.
--
-- Memory. O(1): one small hash (listpack-encoded: tens of bytes) per key, whatever the limit.
-- The key expires (PEXPIRE) when the window after the current one ends. That moment changes
-- only when a new fixed window begins, so the expiry is set then and not on every write.
--
-- Atomicity. Redis runs a script to completion with no other command in between [2]: reading
-- the counts and adding to them is one step. The time is the server's (TIME), so clients with
-- skewed clocks agree on the windows; Redis 7 replicates a script's effects, which makes TIME
-- legal in a script that writes [2]. One key per limit: ready for Redis Cluster. If the server's
-- clock steps back into an earlier window, counting continues in the later one.
--
-- Cost. This runs for every decision, on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements). In a window already begun, an
-- admission is three redis.calls (TIME, HMGET, HINCRBY by the cost as given) and turns no
-- number into text; only the first write of a fixed window writes w and p (HSET) and the expiry.
-- Numbers are read by arithmetic coercion, cheaper than tonumber.
--
-- Peek (ARGV[4] == "1") computes the same decision and writes nothing.
--
-- KEYS[1] = the limit's hash
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[3] = cost (units,
--   1 <= cost <= LIMIT), ARGV[4] = "1" to peek, "0" to consume
-- Returns {allowed (0/1), remaining units, retry-after us, reset-after us, server now us}
--
-- [1] https://blog.cloudflare.com/counting-things-a-lot-of-different-things/
-- [2] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/

local key = KEYS[1]
local limit = ARGV[1] + 0
local window = ARGV[2] + 0
local cost = ARGV[3] + 0

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local index = math.floor(now / window)

-- c and p of the fixed window that `index` names; `same` when the hash already counts in it.
local stored = redis.call('HMGET', key, 'w', 'c', 'p')
local c, p, same = 0, 0, false
if stored[1] then
  local w = stored[1] + 0
  if w >= index then
    -- This window (or a later one, if the server's clock stepped back: keep counting there).
    index = w
    c = (stored[2] or 0) + 0
    p = (stored[3] or 0) + 0
    same = true
  elseif w == index - 1 then
    p = (stored[2] or 0) + 0
  end
end
local start = index * window
local elapsed = now - start
if elapsed < 0 then
  elapsed = 0
end
local weight = (window - elapsed) / window

local allowed = 0
local retry = 0
if c + cost + p * weight <= limit then
  allowed = 1
  if ARGV[4] ~= '1' then
    if same then
      c = redis.call('HINCRBY', key, 'c', ARGV[3])
    else
      c = cost
      redis.call('HSET', key, 'w', string.format('%d', index), 'c', ARGV[3], 'p', p)
      redis.call('PEXPIRE', key, math.ceil((start + 2 * window - now) / 1000))
    end
  end
elseif c + cost > limit then
  -- Next window: c becomes p and must decay to limit - cost.
  retry = math.ceil(start + window + window * (1 - (limit - cost) / c) - now)
else
  -- This window: p's share must decay to limit - cost - c.
  retry = math.ceil(start + window * (1 - (limit - cost - c) / p) - now)
end
if allowed == 0 and retry < 1 then
  retry = 1
end

local remaining = math.floor(limit - c - p * weight + 1e-9)
if remaining < 0 then
  remaining = 0
end
local reset = 0
if c > 0 then
  reset = start + 2 * window - now
elseif p > 0 then
  reset = start + window - now
end
if reset < 0 then
  reset = 0
end
return {allowed, remaining, retry, reset, now}
)lua";

// src/ratelimit/token_bucket.lua
constexpr std::string_view kTokenBucket = R"lua(-- Token bucket as GCRA: LIMIT units per WINDOW microseconds on average, bursts of up to BURST.
--
-- Structure. One string per limit (KEYS[1]): the theoretical arrival time TAT, in microseconds
-- on the Redis server's clock. GCRA, the Generic Cell Rate Algorithm of ATM networks [1], is a
-- token bucket that stores when the bucket will next be full instead of how many tokens it
-- holds, so it needs no refill step and one number per key [2].
--
--   T   = WINDOW / LIMIT          emission interval: one unit's worth of time
--   tau = BURST * T               how far ahead of now TAT may run: the bucket's capacity
--
--   now        TAT (bucket full again)     now + tau
--    |------------|---------------------------|
--    |<- used  ->|<------ remaining * T ----->|
--
-- Decision. A request of cost n moves TAT to max(TAT, now) + n * T. It is admitted when the new
-- TAT stays within now + tau, i.e. when n tokens are in the bucket. Otherwise nothing changes and
-- retry-after is new TAT - tau - now: when enough tokens will have dripped back. Remaining is
-- (now + tau - TAT) / T whole tokens; reset (the bucket full again) is TAT.
--
-- Exactness. Exact for what it promises: over any interval of length t, at most
-- BURST + t * LIMIT / WINDOW units are admitted, and a full bucket admits BURST at once. It is
-- not "LIMIT per window": with BURST = LIMIT, a caller may spend a full bucket and then the
-- refill, up to 2 * LIMIT in the first window (as any token bucket). Float note: T and tau come
-- as 17 significant digits (the client's doubles, exactly), and TAT is written as a whole number
-- when it is one (the usual case: T in whole microseconds), else with 17 significant digits.
--
-- Memory. One string per key; it expires (PX, at most tau after the last write) once the bucket
-- is surely full again, which is the state a missing key stands for.
--
-- Atomicity. Redis runs a script to completion with no other command in between [3]: reading and
-- moving TAT is one step, so concurrent callers on any number of clients see the bucket one at a
-- time. The time is the server's (TIME), so clients with skewed clocks agree; Redis 7 replicates
-- a script's effects, which makes TIME legal in a script that writes [3]. One key per limit:
-- ready for Redis Cluster. If the server's clock steps back, TAT simply lies further ahead.
--
-- Cost. This runs for every decision, on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements): three redis.calls (TIME, GET, SET),
-- numbers read by arithmetic coercion (cheaper than tonumber), one number turned into text, and
-- everything the client can work out beforehand (T, tau, the expiry) passed in as text.
--
-- Peek (ARGV[5] == "1") computes the same decision and writes nothing.
--
-- KEYS[1] = the limit's TAT
-- ARGV[1] = T (microseconds, may have a fraction), ARGV[2] = tau (microseconds), ARGV[3] = cost
--   (units, 1 <= cost <= BURST), ARGV[4] = the key's expiry in ms after a write (>= tau),
--   ARGV[5] = "1" to peek, "0" to consume
-- Returns {allowed (0/1), remaining units, retry-after us, reset-after us, server now us}
--
-- [1] ATM Forum, Traffic Management Specification 4.0 (1996), the virtual scheduling algorithm.
-- [2] https://brandur.org/rate-limiting
-- [3] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/

local key = KEYS[1]
local interval = ARGV[1] + 0
local tau = ARGV[2] + 0
local cost = ARGV[3] + 0

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]

local tat = redis.call('GET', key)
if tat then
  tat = tat + 0
  if tat < now then
    tat = now
  end
else
  tat = now
end
local new_tat = tat + cost * interval

local allowed = 0
local retry = 0
if new_tat - now <= tau then
  allowed = 1
  if ARGV[5] ~= '1' then
    tat = new_tat
    local text
    if tat % 1 == 0 then
      text = string.format('%d', tat)
    else
      text = string.format('%.17g', tat)
    end
    redis.call('SET', key, text, 'PX', ARGV[4])
  end
else
  retry = math.ceil(new_tat - tau - now)
  if retry < 1 then
    retry = 1
  end
end

local remaining = math.floor((tau - (tat - now)) / interval + 1e-9)
if remaining < 0 then
  remaining = 0
end
return {allowed, remaining, retry, math.ceil(tat - now), now}
)lua";
// clang-format on

}  // namespace

const redis::Script& script_for(Algorithm algorithm) {
  static const redis::Script sliding_log{std::string(kSlidingLog)};
  static const redis::Script sliding_window{std::string(kSlidingWindow)};
  static const redis::Script token_bucket{std::string(kTokenBucket)};
  switch (algorithm) {
    case Algorithm::sliding_log:
      return sliding_log;
    case Algorithm::sliding_window:
      return sliding_window;
    case Algorithm::token_bucket:
      return token_bucket;
  }
  return sliding_log;
}

std::string_view lua_file_name(Algorithm algorithm) noexcept {
  switch (algorithm) {
    case Algorithm::sliding_log:
      return "sliding_log.lua";
    case Algorithm::sliding_window:
      return "sliding_window.lua";
    case Algorithm::token_bucket:
      return "token_bucket.lua";
  }
  return "";
}

}  // namespace tiercache::ratelimit
