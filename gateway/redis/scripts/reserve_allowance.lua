-- Reserve `count` recipients of one grant's rolling allowance, all or none (tools/allowance.py).
-- KEYS: 1 the grant's entries (sorted set: member `<reservation>:<index>`, score = ms reserved)
-- ARGV: 1 reservation id, 2 count, 3 limit, 4 window ms
-- Returns {1, remaining, oldest entry's expiry ms} when reserved (or reserved already by this very
-- reservation: a retried call never counts twice), {0, remaining, ms when `count` fits or -1}.
local now = now_ms()
local id, count, limit, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
local function oldest_expiry()
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(first[2]) + window
end
if redis.call('ZSCORE', KEYS[1], id .. ':0') then
  return {1, math.max(0, limit - used), oldest_expiry()}
end
if used + count > limit then
  local fits = -1
  if count <= limit then
    -- The (used + count - limit)-th oldest entry must drop out first.
    local nth = redis.call('ZRANGE', KEYS[1], used + count - limit - 1, used + count - limit - 1, 'WITHSCORES')
    fits = tonumber(nth[2]) + window
  end
  return {0, math.max(0, limit - used), fits}
end
local members = {}
for index = 0, count - 1 do
  members[#members + 1] = now
  members[#members + 1] = id .. ':' .. index
end
redis.call('ZADD', KEYS[1], unpack(members))
-- The entries outlive their window by nothing: the key goes with its last entry.
redis.call('PEXPIRE', KEYS[1], window)
return {1, limit - used - count, oldest_expiry()}
