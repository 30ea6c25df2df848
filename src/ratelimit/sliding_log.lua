-- Sliding log: an exact limit of LIMIT units in any window of WINDOW microseconds.
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
