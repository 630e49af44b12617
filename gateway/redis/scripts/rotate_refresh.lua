-- Rotate a sign-in's refresh token (OAuth 2.1 §4.3.1): each refresh token carries its generation.
-- KEYS: 1 family state, 2 family ban, 3 revocation index
-- ARGV: 1 presented generation, 2 grace ms, 3 family ttl ms, 4 family's tagged member, 5 channel
-- Returns {outcome, generation to mint}: 'fresh' (rotated), 'grace' (the previous generation within
-- the grace window: a concurrent refresh), 'reused' (the family is now banned) or 'revoked'.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'revoked', 0}
end
local now = now_ms()
local presented = tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'gen'))
-- No state: it was lost (a wiped Redis, or tokens from before REDIS_URL); carry on from this token.
if current == nil or presented == current then
  redis.call('HSET', KEYS[1], 'gen', presented + 1, 'rot', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'fresh', presented + 1}
end
if presented == current - 1 and now - tonumber(redis.call('HGET', KEYS[1], 'rot')) <= tonumber(ARGV[2]) then
  return {'grace', current}
end
ban_family(KEYS[2], KEYS[1], KEYS[3], ARGV[5], ARGV[4], tonumber(ARGV[3]), now)
return {'reused', current}
