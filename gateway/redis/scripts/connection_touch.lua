-- Note when a sign-in was last used, only while it is indexed (a forgotten one is not added back).
-- KEYS: 1 the key's hash ; ARGV: 1 family, 2 epoch seconds
if redis.call('HEXISTS', KEYS[1], 'e:' .. ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'u:' .. ARGV[1], ARGV[2])
end
return 1
