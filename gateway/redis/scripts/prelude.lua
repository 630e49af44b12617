-- Shared by every script below; `scripts.py` puts it in front of each one.
-- Redis's own clock, so machines with skewed clocks agree (scripts may call TIME since 7.0).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A revocation until expires_ms: kept in the index (pruned of expired ones) for machines that
-- (re)subscribe, and published to the machines already listening. ZADD GT never shortens one.
local function announce(index, channel, member, expires_ms, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, 'GT', expires_ms, member)
  redis.call('PUBLISH', channel, member .. ' ' .. expires_ms)
end

-- Revoke a whole sign-in for ttl_ms (never shortening a ban already there) and forget its rotation.
-- `member` is the family's revocation member as the gateway tagged it (`f:<family>.<mac>`).
local function ban_family(ban, state, index, channel, member, ttl_ms, now)
  local expires = now + ttl_ms
  local left = redis.call('PTTL', ban)
  if left > 0 and now + left > expires then expires = now + left end
  redis.call('SET', ban, '1', 'PXAT', expires)
  redis.call('DEL', state)
  announce(index, channel, member, expires, now)
end
