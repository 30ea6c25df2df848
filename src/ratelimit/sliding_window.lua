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
