-- Spend an authorization code once (RFC 6749 §4.1.2) and start its sign-in's rotation state.
-- KEYS: 1 code marker, 2 family state, 3 family ban, 4 revocation index
-- ARGV: 1 this redemption's nonce, 2 code ttl ms, 3 family ttl ms, 4 family's tagged member, 5 channel
-- Returns 1 when this redemption may mint tokens (a retry with the same nonce too), 0 for a replay,
-- which bans the family so the tokens the first redemption minted stop working.
local now = now_ms()
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('HSET', KEYS[2], 'gen', 1, 'rot', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
ban_family(KEYS[3], KEYS[2], KEYS[4], ARGV[5], ARGV[4], tonumber(ARGV[3]), now)
return 0
