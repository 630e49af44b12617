-- One message of a legacy-SSE session was answered: it no longer counts against the session's limit.
-- KEYS: 1 the session's held count
if redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
return 1
