-- Sliding-window counter: an approximate limit of LIMIT units per WINDOW microseconds, in O(1)
-- memory per key.
--
-- Structure. One hash per limit with three fields: w, the index of the current fixed
-- window (floor(now / WINDOW), on the Redis server's clock), c, the units admitted in it, and p,
-- the units admitted in the window before it.
--
--     previous window (p)          current window (c)
--   |---------------------------|-------------x-------------|
--                 |<-------- sliding window ---->|
--                  weight = (WINDOW - elapsed) / WINDOW of p, plus all of c
--
-- Batch. One call decides N requests (KEYS[i] with ARGV[2 + i]), in order, as N calls in a row
-- would, on one reading of the clock: the Limiter sends the requests that queued while its
-- previous call was in flight together, so Redis's fixed cost per call is paid once per batch.
-- A key may appear several times: its hash is read once, kept in a Lua table, and each request
-- sees the ones before it; each changed key is written once, at the end, with all it admitted.
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
-- the counts and adding to them is one step for the whole batch. The time is the server's
-- (TIME), so clients with skewed clocks agree on the windows; Redis 7 replicates a script's
-- effects, which makes TIME legal in a script that writes [2]. One key per limit: ready for
-- Redis Cluster, where the Limiter batches only keys of one hash slot. If the server's clock
-- steps back into an earlier window, counting continues in the later one. A key that holds
-- another type (HMGET fails: WRONGTYPE) fails its own requests only: their four numbers are that
-- error reply.
--
-- Cost. This runs on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements). Per call: TIME, the reply table.
-- Per key: HMGET, and when something was admitted one HINCRBY by the sum in a window already
-- begun (only a window's first write writes w and p, with HSET, and the expiry). Per request: a
-- little arithmetic, no function call in the common case (a cost of 1 is compared as text, not
-- parsed; the remaining units are left for Redis to truncate), and four numbers of reply.
--
-- KEYS[1..N] = the requests' hashes (a key may repeat)
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[2 + i] = request
--   i's cost (units, 1 <= cost <= LIMIT), negated to peek: compute the same decision and write
--   nothing
-- Returns {server now us, then per request: allowed (0/1), remaining units, retry-after us,
--   reset-after us}: 4N + 1 integers
--
-- [1] https://blog.cloudflare.com/counting-things-a-lot-of-different-things/
-- [2] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/

local n = #KEYS
if #ARGV ~= n + 2 then
  return redis.error_reply('ERR sliding_window: wants 2 + one argument per key')
end
local ceil, format = math.ceil, string.format
local limit = ARGV[1] + 0
local window = ARGV[2] + 0

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local now_index = math.floor(now / window)

-- A key's state, read on its first request: c and p of the fixed window `index` (the hash's own
-- when later: the server's clock stepped back), `same` when the hash already counts in it,
-- `added` the units admitted by this call. Or HMGET's error reply.
local function load(key)
  local stored = redis.pcall('HMGET', key, 'w', 'c', 'p')
  if stored.err then
    return stored
  end
  local index = now_index
  local c, p, same = 0, 0, false
  local w = stored[1]
  if w then
    w = w + 0
    if w >= index then
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
  return {key = key, index = index, start = start, weight = (window - elapsed) / window, c = c,
          p = p, same = same, added = 0}
end

local out = {now}
local states = {}                -- key -> its state
local changed, m = {}, 0         -- the states admitted to, in order of their first admission
local o = 1
for i = 1, n do
  local key = KEYS[i]
  -- The cost, read without parsing in the common cases.
  local cost, peek = ARGV[i + 2], false
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
    s = load(key)
    states[key] = s
  end
  if s.err then
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = s, 0, 0, 0
  else
    local c, p, start = s.c, s.p, s.start
    local p_share = p * s.weight
    local allowed = 0
    local retry = 0
    if c + cost + p_share <= limit then
      allowed = 1
      if not peek then
        if s.added == 0 then
          m = m + 1
          changed[m] = s
        end
        s.added = s.added + cost
        c = c + cost
        s.c = c
      end
    else
      if c + cost > limit then
        -- Next window: c becomes p and must decay to limit - cost.
        retry = ceil(start + window + window * (1 - (limit - cost) / c) - now)
      else
        -- This window: p's share must decay to limit - cost - c.
        retry = ceil(start + window * (1 - (limit - cost - c) / p) - now)
      end
      if retry < 1 then
        retry = 1
      end
    end
    -- Whole units: Redis truncates a number it replies with, which is floor for these.
    local remaining = limit - c - p_share + 1e-9
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
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = allowed, remaining, retry, reset
  end
  o = o + 4
end

for j = 1, m do
  local s = changed[j]
  local added = s.added == 1 and '1' or format('%d', s.added)
  if s.same then
    redis.call('HINCRBY', s.key, 'c', added)
  else
    redis.call('HSET', s.key, 'w', format('%d', s.index), 'c', added, 'p', s.p)
    redis.call('PEXPIRE', s.key, ceil((s.start + 2 * window - now) / 1000))
  end
end
return out
