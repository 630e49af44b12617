-- Reserve one key's next upstream slot (GCRA virtual scheduling: spaced, never bursted).
-- KEYS: 1 the key's theoretical arrival time
-- ARGV: 1 interval ms, 2 longest wait ms
-- Returns the ms to wait for the reserved slot, or -1 (nothing reserved) when that is too long.
local now = now_ms()
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local wait = tat - now
if wait > tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], tat + tonumber(ARGV[1]), 'PX', wait + tonumber(ARGV[1]) + 1000)
return wait
