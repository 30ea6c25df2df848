-- Token bucket as GCRA: LIMIT units per WINDOW microseconds on average, bursts of up to BURST.
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
