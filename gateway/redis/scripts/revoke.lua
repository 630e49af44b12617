-- Revoke one token, or with the family keys a whole sign-in (RFC 7009 §2.1).
-- KEYS: 1 revocation index [, 2 family ban, 3 family state]
-- ARGV: 1 the token's or family's tagged member (`t:<jti>.<mac>`, `f:<family>.<mac>`), 2 ttl ms, 3 channel
local now = now_ms()
if #KEYS == 3 then
  ban_family(KEYS[2], KEYS[3], KEYS[1], ARGV[3], ARGV[1], tonumber(ARGV[2]), now)
else
  announce(KEYS[1], ARGV[3], ARGV[1], now + tonumber(ARGV[2]), now)
end
return 1
