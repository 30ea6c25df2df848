-- Sliding log: an exact limit of LIMIT units in any window of WINDOW microseconds.
--
-- Structure. One sorted set per limit. Each admitted unit is one member whose score
-- is the microsecond, on the Redis server's clock, at which it was admitted. A request of cost n
-- admitted at t adds n members "t:1" .. "t:n", all scored t.
--
-- Unique members. Two requests in the same microsecond (or second, as the seed's version with
-- member = score = seconds had it [1]) must both count, so no member may repeat. Every request
-- admitted at stamp s adds "s:1" first, with ZADD NX, which adds nothing and says so when "s:1"
-- is there: s is taken, and the request tries s + 1, and so on (a request after another on the
-- same key in one call starts at the stamp after the other's). Its other members "s:2" ..
-- "s:n" then cannot exist yet. Members "stamp:i" are thus unique, and the set's size is the
-- number of admitted units. The nudge is one microsecond per request that shares a microsecond,
-- which makes no difference to the window.
--
-- Batch. One call decides N requests (KEYS[i] with ARGV[3 + i]), in order, as N calls in a row
-- would, on one reading of the clock: the Limiter sends the requests that queued while its
-- previous call was in flight together, so Redis's fixed cost per call is paid once per batch.
-- A key may appear several times: it is trimmed and counted once, its count kept in a Lua table
-- and each request sees the ones before it (their members are added as they are admitted); the
-- entries a refusal looks up are kept too, and the expiry is set once per key, at the end.
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
-- count and add are one step for the whole batch, so concurrent callers on any number of
-- clients can never both see room for the last unit. The time comes from the server (TIME), not
-- from the callers, so clients with skewed clocks agree on the window. Redis 7 replicates a
-- script's effects, not the script, so reading TIME in a script that writes is allowed and
-- replicas stay identical [2]. One key per limit: ready for Redis Cluster, where the Limiter
-- batches only keys of one hash slot. A key that holds another type (its first command fails:
-- WRONGTYPE) fails its own requests only: their four numbers are that error reply.
--
-- Cost. This runs on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements). Per call: TIME, the window's start
-- as text, the reply table. Per key: ZREMRANGEBYSCORE and ZCARD (ZCOUNT, which walks a small
-- set's listpack, only when its first request is a peek), and PEXPIRE when something was
-- admitted. Per admission of cost 1: one ZADD and its stamp as text ('%d', far cheaper than
-- '%.17g'); per refusal: the ZRANGE of the entry that must leave and of the newest, each once
-- per key and call. A cost of 1 is compared as text, not parsed; the expiry comes in as text.
--
-- Peek counts without trimming (ZCOUNT over the window) and writes nothing.
--
-- KEYS[1..N] = the requests' sorted sets (a key may repeat)
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[3] = the key's
--   expiry after an admission, in ms (WINDOW rounded up to a millisecond, plus one),
--   ARGV[3 + i] = request i's cost (units, 1 <= cost <= LIMIT), negated to peek
-- Returns {server now us, then per request: allowed (0/1), remaining units, retry-after us,
--   reset-after us}: 4N + 1 integers
--
-- [1] seed 004, src/cache/rate_limiter.py: ZADD key now now, with now in whole seconds.
-- [2] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ ("Script
--     replication", "Atomicity").

local n = #KEYS
if #ARGV ~= n + 3 then
  return redis.error_reply('ERR sliding_log: wants 3 + one argument per key')
end
local format = string.format
local limit = ARGV[1] + 0
local window = ARGV[2] + 0

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
-- Whole microseconds since 1970 need 16 digits: '%d' writes them all (Lua's own "%.14g" does not).
local since = format('%d', now - window)
local after = '(' .. since

-- The score of the k-th oldest entry in the window (k from 0), looked up once per call: entries
-- this call adds are newer, unless a stamp was nudged past one already there, so an admission
-- forgets what was looked up.
local function oldest(s, key, k)
  local known = s.oldest
  if not known then
    known = {}
    s.oldest = known
  end
  local score = known[k]
  if not score then
    score = redis.call('ZRANGE', key, after, '+inf', 'BYSCORE', 'LIMIT', k, '1', 'WITHSCORES')[2]
    known[k] = score
  end
  return score
end

local out = {now}
local states = {}         -- key -> {used, stamp, trimmed, newest, oldest, last}, or the error
local changed, m = {}, 0  -- keys admitted to, in order of their first admission
local o = 1
for i = 1, n do
  local key = KEYS[i]
  -- The cost, read without parsing in the common cases.
  local cost, peek = ARGV[i + 3], false
  if cost == '1' then
    cost = 1
  elseif cost == '-1' then
    cost, peek = 1, true
  else
    cost = cost + 0
    if cost < 0 then
      cost, peek = -cost, true
    end
  end
  local s = states[key]
  if not s then
    -- Trimmed, then counted (ZCARD is O(1); ZCOUNT walks a small set's listpack); a peek only
    -- counts, and a later admission trims.
    local used
    if peek then
      used = redis.pcall('ZCOUNT', key, after, '+inf')
    else
      used = redis.pcall('ZREMRANGEBYSCORE', key, '-inf', since)
      if type(used) == 'number' then
        used = redis.call('ZCARD', key)
      end
    end
    if type(used) == 'table' then
      s = used  -- WRONGTYPE
    else
      s = {used = used, stamp = now, trimmed = not peek}
    end
    states[key] = s
  end
  local used = s.used
  if not used then
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = s, 0, 0, 0
  elseif used + cost <= limit and not peek then
    if not s.trimmed then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', since)
      s.trimmed = true
    end
    local stamp = s.stamp
    local stamp_text = format('%d', stamp)
    while redis.call('ZADD', key, 'NX', stamp_text, stamp_text .. ':1') == 0 do
      stamp = stamp + 1
      stamp_text = format('%d', stamp)
    end
    -- Lua's unpack has a stack limit: the other members go in batches of 1,000.
    local j = 2
    while j <= cost do
      local args = {}
      local last = math.min(cost, j + 999)
      for u = j, last do
        args[#args + 1] = stamp_text
        args[#args + 1] = stamp_text .. ':' .. u
      end
      redis.call('ZADD', key, unpack(args))
      j = last + 1
    end
    if not s.last then
      m = m + 1
      changed[m] = key
    end
    s.last = stamp
    s.stamp = stamp + 1
    s.used = used + cost
    if s.newest and stamp > s.newest then
      s.newest = stamp
    end
    s.oldest = nil
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, limit - used - cost, 0, stamp + window - now
  elseif used == 0 and cost <= limit then
    -- A peek with nothing in the window.
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = 1, limit, 0, 0
  else
    -- Refused, or a peek: retry-after from the (used + cost - limit)-th oldest entry in the
    -- window, reset from the newest.
    local allowed = 1
    local retry = 0
    if used + cost > limit then
      allowed = 0
      retry = oldest(s, key, used + cost - limit - 1) + window - now
      if retry < 1 then
        retry = 1
      end
    end
    local newest = s.newest
    if not newest then
      newest = redis.call('ZRANGE', key, '-1', '-1', 'WITHSCORES')[2] + 0
      s.newest = newest
    end
    local reset = newest + window - now
    if reset < 0 then
      reset = 0
    end
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = allowed, limit - used, retry, reset
  end
  o = o + 4
end

for j = 1, m do
  local key = changed[j]
  local last = states[key].last
  if last - now < 1000 then
    redis.call('PEXPIRE', key, ARGV[3])
  else
    -- Nudged past a millisecond (the server's clock stepped back): expire after the stamp.
    redis.call('PEXPIRE', key, math.ceil((last - now + window) / 1000) + 1)
  end
end
return out
