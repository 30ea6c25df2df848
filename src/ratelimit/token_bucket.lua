-- Token bucket as GCRA: LIMIT units per WINDOW microseconds on average, bursts of up to BURST.
--
-- Structure. One string per limit: the theoretical arrival time TAT, in microseconds on the
-- Redis server's clock. GCRA, the Generic Cell Rate Algorithm of ATM networks [1], is a token
-- bucket that stores when the bucket will next be full instead of how many tokens it holds, so
-- it needs no refill step and one number per key [2].
--
--   T   = WINDOW / LIMIT          emission interval: one unit's worth of time
--   tau = BURST * T               how far ahead of now TAT may run: the bucket's capacity
--
--   now        TAT (bucket full again)     now + tau
--    |------------|---------------------------|
--    |<- used  ->|<------ remaining * T ----->|
--
-- Batch. One call decides N requests (KEYS[i] with ARGV[3 + i]), in order, as N calls in a row
-- would, on one reading of the clock: the Limiter sends the requests that queued while its
-- previous call was in flight together, so Redis's fixed cost per call is paid once per batch.
-- A key may appear several times: its TAT is read once (all keys' in one MGET), kept in a Lua
-- table, and each request sees the ones before it; each changed key is written once, at the end.
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
-- moving TAT is one step for the whole batch, so concurrent callers on any number of clients see
-- the bucket one at a time. The time is the server's (TIME), so clients with skewed clocks agree;
-- Redis 7 replicates a script's effects, which makes TIME legal in a script that writes [3]. One
-- key per limit: ready for Redis Cluster, where the Limiter batches only keys of one hash slot.
-- If the server's clock steps back, TAT simply lies further ahead. A key that holds another type
-- or no number (GET fails: WRONGTYPE) fails its own requests only: their four numbers are an
-- error reply.
--
-- Cost. This runs on Redis's one thread, so it is written for Redis's time
-- (docs/decisions/0005-rate-limiter.md has the measurements). Per call: TIME, one MGET, the
-- reply table. Per key: its share of the MGET, a tonumber, and a SET when something was admitted
-- (one number turned into text). Per request: a little arithmetic, no function call in the
-- common case (a cost of 1 is compared as text, not parsed; the remaining tokens are left for
-- Redis to truncate), and four numbers of reply. Everything the client can work out beforehand
-- (T, tau, the expiry) comes as text.
--
-- KEYS[1..N] = the requests' TATs (a key may repeat)
-- ARGV[1] = T (microseconds, may have a fraction), ARGV[2] = tau (microseconds), ARGV[3] = the
--   key's expiry in ms after a write (>= tau), ARGV[3 + i] = request i's cost (units,
--   1 <= cost <= BURST), negated to peek: compute the same decision and write nothing
-- Returns {server now us, then per request: allowed (0/1), remaining units, retry-after us,
--   reset-after us}: 4N + 1 integers
--
-- [1] ATM Forum, Traffic Management Specification 4.0 (1996), the virtual scheduling algorithm.
-- [2] https://brandur.org/rate-limiting
-- [3] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/

local n = #KEYS
if #ARGV ~= n + 3 then
  return redis.error_reply('ERR token_bucket: wants 3 + one argument per key')
end
local tonumber, ceil, format = tonumber, math.ceil, string.format
local interval = ARGV[1] + 0
local tau = ARGV[2] + 0

local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]

-- Every key's TAT (at least now), read with one MGET; false for a key that holds no TAT, whose
-- requests answer errors[key]. MGET answers nil for a key of another type as for a missing one
-- (and SET would overwrite it), so GET tells the two apart for the keys MGET found nothing for.
local tats, errors = {}, {}
local distinct, d = {}, 0
for i = 1, n do
  local key = KEYS[i]
  if not tats[key] then
    tats[key] = true
    d = d + 1
    distinct[d] = key
  end
end
local stored = redis.call('MGET', unpack(distinct))
for j = 1, d do
  local key = distinct[j]
  local text = stored[j]
  local tat = now
  if not text then
    text = redis.pcall('GET', key)
    if text then
      errors[key] = text  -- WRONGTYPE
      tat = false
    end
  else
    tat = tonumber(text)
    if not tat then
      errors[key] = {err = 'ERR ' .. key .. ' holds no TAT'}
      tat = false
    elseif tat < now then
      tat = now
    end
  end
  tats[key] = tat
end

local out = {now}
local changed, order, m = {}, {}, 0  -- the keys admitted to, in order of their first admission
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
  local tat = tats[key]
  if tat then
    local new_tat = tat + cost * interval
    local allowed = 0
    local retry = 0
    if new_tat - now <= tau then
      allowed = 1
      if not peek then
        if not changed[key] then
          changed[key] = true
          m = m + 1
          order[m] = key
        end
        tat = new_tat
        tats[key] = tat
      end
    else
      retry = ceil(new_tat - tau - now)
      if retry < 1 then
        retry = 1
      end
    end
    -- Whole tokens: Redis truncates a number it replies with, which is floor for these.
    local remaining = (tau - (tat - now)) / interval + 1e-9
    if remaining < 0 then
      remaining = 0
    end
    local reset = tat - now
    if reset % 1 ~= 0 then
      reset = ceil(reset)
    end
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = allowed, remaining, retry, reset
  else
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = errors[key], 0, 0, 0
  end
  o = o + 4
end

for j = 1, m do
  local key = order[j]
  local tat = tats[key]
  local text
  if tat % 1 == 0 then
    text = format('%d', tat)
  else
    text = format('%.17g', tat)
  end
  redis.call('SET', key, text, 'PX', ARGV[3])
end
return out
