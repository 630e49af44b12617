-- Publish one legacy-SSE message unless its session already holds `limit` (queued or being answered).
-- KEYS: 1 the session's held count
-- ARGV: 1 channel, 2 message, 3 limit, 4 ttl ms of the count
-- Returns the receivers (0: no live stream), or -1 when the session is full.
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[3]) then
  return -1
end
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2])
if receivers > 0 then
  redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return receivers
