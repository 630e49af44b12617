-- Settle a pending send once (issue 23): PENDING -> CONFIRMING or CANCELLED, for its own grant only.
-- KEYS: 1 the pending send's hash ; ARGV: 1 the grant id, 2 the new status
-- Returns {'ok', sealed record} the one time it settles, else {reason}: missing, other-grant,
-- expired, or the status it already has.
local record = redis.call('HMGET', KEYS[1], 'grant', 'status', 'exp', 'blob')
if not record[1] then
  return {'missing'}
end
if record[1] ~= ARGV[1] then
  return {'other-grant'}
end
if record[2] ~= 'pending' then
  return {record[2]}
end
if now_ms() >= tonumber(record[3]) then
  return {'expired'}
end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
return {'ok', record[4]}
