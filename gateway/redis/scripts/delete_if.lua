-- Delete a key only while it holds the given value (a pending send's index entry, issue 23).
-- KEYS: 1 the key ; ARGV: 1 the value
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
