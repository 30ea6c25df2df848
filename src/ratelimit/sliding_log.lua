-- Sliding log: an exact limit of LIMIT units in any window of WINDOW microseconds.
--
-- Structure. One sorted set per limit (KEYS[1]). Each admitted unit is one member whose score
-- is the microsecond, on the Redis server's clock, at which it was admitted. A request of cost n
-- admitted at t adds n members "t:1" .. "t:n", all scored t.
--
-- Unique members. Two requests in the same microsecond (or second, as the seed's version with
-- member = score = seconds had it [1]) must both count, so no member may repeat. Every request
-- admitted at stamp s adds "s:1" first, so "s:1" being in the set (ZSCORE, O(1)) says s is
-- taken; the request then takes s + 1, and so on. Members "stamp:i" are thus unique, and the
-- set's size is the number of admitted units. The nudge is one microsecond per request that
-- shares a microsecond, which makes no difference to the window.
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
-- its newest entry leaves the window, so idle limits cost nothing.
--
-- Atomicity. Redis runs a script to completion with no other command in between [2]: the trim,
-- count and add are one step, so concurrent callers on any number of clients can never both see
-- room for the last unit. The time comes from the server (TIME), not from the callers, so
-- clients with skewed clocks agree on the window. Redis 7 replicates a script's effects, not
-- the script, so reading TIME in a script that writes is allowed and replicas stay identical
-- [2]. One key per limit: the script works unchanged on Redis Cluster.
--
-- Peek (ARGV[4] == "1") counts without trimming or adding (ZCOUNT over the window) and writes
-- nothing.
--
-- KEYS[1] = the limit's sorted set
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[3] = cost (units,
--   1 <= cost <= LIMIT), ARGV[4] = "1" to peek, "0" to consume
-- Returns {allowed (0/1), remaining units, retry-after us, reset-after us, server now us}
--
-- [1] seed 004, src/cache/rate_limiter.py: ZADD key now now, with now in whole seconds.
-- [2] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/ ("Script
--     replication", "Atomicity").

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local peek = ARGV[4] == '1'

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local since = now - window
-- Numbers reach Redis as "%.14g" text: microsecond stamps need all 16 digits.
local function text(n)
  return string.format('%.0f', n)
end

local used
if peek then
  used = redis.call('ZCOUNT', key, '(' .. text(since), '+inf')
else
  redis.call('ZREMRANGEBYSCORE', key, '-inf', text(since))
  used = redis.call('ZCARD', key)
end

local function newest_stamp()
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then
    return tonumber(newest[2])
  end
  return nil
end

local allowed = 0
local retry = 0
if used + cost <= limit then
  allowed = 1
  if not peek then
    local stamp = now
    local stamp_text = text(stamp)
    while redis.call('ZSCORE', key, stamp_text .. ':1') do
      stamp = stamp + 1
      stamp_text = text(stamp)
    end
    local i = 1
    while i <= cost do
      -- Lua's unpack has a stack limit: add in batches of 1,000 members.
      local args = {}
      local last = math.min(cost, i + 999)
      for j = i, last do
        args[#args + 1] = stamp_text
        args[#args + 1] = stamp_text .. ':' .. j
      end
      redis.call('ZADD', key, unpack(args))
      i = last + 1
    end
    redis.call('PEXPIRE', key, math.ceil((stamp - now + window) / 1000))
    used = used + cost
    return {allowed, limit - used, 0, stamp + window - now, now}
  end
else
  local nth = used + cost - limit - 1
  local entry = redis.call('ZRANGE', key, '(' .. text(since), '+inf', 'BYSCORE', 'LIMIT', nth, 1,
                           'WITHSCORES')
  retry = tonumber(entry[2]) + window - now
  if retry < 1 then
    retry = 1
  end
end

local reset = 0
if used > 0 then
  local newest = newest_stamp()
  if newest then
    reset = math.max(0, newest + window - now)
  end
end
return {allowed, limit - used, retry, reset, now}
