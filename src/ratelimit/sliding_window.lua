-- Sliding-window counter: an approximate limit of LIMIT units per WINDOW microseconds, in O(1)
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
-- The key expires (PEXPIRE) when the window after the current one ends.
--
-- Atomicity. Redis runs a script to completion with no other command in between [2]: reading
-- the counts and adding to them is one step. The time is the server's (TIME), so clients with
-- skewed clocks agree on the windows; Redis 7 replicates a script's effects, which makes TIME
-- legal in a script that writes [2]. One key per limit: ready for Redis Cluster. If the server's
-- clock steps back into an earlier window, counting continues in the later one.
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
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local peek = ARGV[4] == '1'

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local index = math.floor(now / window)

local stored = redis.call('HMGET', key, 'w', 'c', 'p')
local w = tonumber(stored[1])
local c = tonumber(stored[2]) or 0
local p = tonumber(stored[3]) or 0
if w == nil then
  c, p = 0, 0
elseif w > index then
  index = w
elseif w == index - 1 then
  c, p = 0, c
elseif w < index then
  c, p = 0, 0
end
local start = index * window
local elapsed = math.max(0, now - start)
local weight = (window - elapsed) / window

local allowed = 0
local retry = 0
if c + cost + p * weight <= limit then
  allowed = 1
  if not peek then
    c = c + cost
    redis.call('HSET', key, 'w', string.format('%.0f', index), 'c', c, 'p', p)
    redis.call('PEXPIRE', key, math.ceil((start + 2 * window - now) / 1000))
  end
elseif c + cost > limit then
  -- Next window: c becomes p and must decay to limit - cost.
  local at = window * (1 - (limit - cost) / c)
  retry = math.ceil(start + window + at - now)
else
  -- This window: p's share must decay to limit - cost - c.
  local at = window * (1 - (limit - cost - c) / p)
  retry = math.ceil(start + at - now)
end
if allowed == 0 and retry < 1 then
  retry = 1
end

local remaining = math.max(0, math.floor(limit - c - p * weight + 1e-9))
local reset = 0
if c > 0 then
  reset = start + 2 * window - now
elseif p > 0 then
  reset = start + window - now
end
return {allowed, remaining, retry, math.max(0, reset), now}
