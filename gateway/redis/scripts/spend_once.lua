-- Spend a name once (a consent form is submitted once).
-- KEYS: 1 the name's mark ; ARGV: 1 this call's nonce, 2 ttl ms
-- Returns 1 the first time (or when this very call is retried: same nonce), 0 after.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1
end
return 0
