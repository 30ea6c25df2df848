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
-- refill, up to 2 * LIMIT in the first window (as any token bucket). Float note: TAT is kept
-- with 17 significant digits, exact to a fraction of a microsecond.
--
-- Memory. One string per key; it expires (PEXPIRE) when the bucket is full again, which is the
-- state a missing key stands for.
--
-- Atomicity. Redis runs a script to completion with no other command in between [3]: reading and
-- moving TAT is one step, so concurrent callers on any number of clients see the bucket one at a
-- time. The time is the server's (TIME), so clients with skewed clocks agree; Redis 7 replicates
-- a script's effects, which makes TIME legal in a script that writes [3]. One key per limit:
-- ready for Redis Cluster. If the server's clock steps back, TAT simply lies further ahead.
--
-- Peek (ARGV[5] == "1") computes the same decision and writes nothing.
--
-- KEYS[1] = the limit's TAT
-- ARGV[1] = LIMIT (units per window), ARGV[2] = WINDOW (microseconds), ARGV[3] = BURST (units),
--   ARGV[4] = cost (units, 1 <= cost <= BURST), ARGV[5] = "1" to peek, "0" to consume
-- Returns {allowed (0/1), remaining units, retry-after us, reset-after us, server now us}
--
-- [1] ATM Forum, Traffic Management Specification 4.0 (1996), the virtual scheduling algorithm.
-- [2] https://brandur.org/rate-limiting
-- [3] https://redis.io/docs/latest/develop/interact/programmability/eval-intro/

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local peek = ARGV[5] == '1'

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = window / limit
local tau = burst * interval

local tat = tonumber(redis.call('GET', key) or '') or now
if tat < now then
  tat = now
end
local new_tat = tat + cost * interval

local allowed = 0
local retry = 0
if new_tat - now <= tau then
  allowed = 1
  if not peek then
    tat = new_tat
    local ttl = math.max(1, math.ceil((tat - now) / 1000))
    redis.call('SET', key, string.format('%.17g', tat), 'PX', ttl)
  end
else
  retry = math.max(1, math.ceil(new_tat - tau - now))
end

local remaining = math.max(0, math.floor((tau - (tat - now)) / interval + 1e-9))
return {allowed, remaining, retry, math.ceil(tat - now), now}
