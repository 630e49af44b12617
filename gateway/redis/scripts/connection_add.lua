-- Index a new sign-in under its key's digest (issue 25), bounded per key and overall.
-- KEYS: 1 the key's hash (fields e:<family> = facts JSON, u:<family> = last used), 2 the set of
--       indexed keys scored by when their last entry expires
-- ARGV: 1 family, 2 facts JSON, 3 expires ms, 4 max sign-ins per key, 5 max keys, 6 digest,
--       7 the prefix of a key's hash name
-- Every field of one key expires with the hash at its latest family's end; an expired family is
-- dropped here, and skipped when read, before that.
local now = now_ms()
local others = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local name = fields[i]
  if string.sub(name, 1, 2) == 'e:' then
    local family = string.sub(name, 3)
    local facts = cjson.decode(fields[i + 1])
    if facts.expires_at * 1000 <= now then
      redis.call('HDEL', KEYS[1], name, 'u:' .. family)
    elseif family ~= ARGV[1] then
      table.insert(others, {family, facts.granted_at})
    end
  end
end
table.sort(others, function(a, b) return a[2] < b[2] end)
for i = 1, #others - tonumber(ARGV[4]) + 1 do
  redis.call('HDEL', KEYS[1], 'e:' .. others[i][1], 'u:' .. others[i][1])
end
redis.call('HSET', KEYS[1], 'e:' .. ARGV[1], ARGV[2])
local expires = tonumber(ARGV[3])
local function live_until(key)
  local left = redis.call('PTTL', key)
  if left < 0 or now + left < expires then redis.call('PEXPIREAT', key, expires) end
end
live_until(KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], 'GT', expires, ARGV[6])
live_until(KEYS[2])
-- Overall bound: the key whose entries end first gives way (a name built here, so this script
-- needs one Redis, not a cluster: the gateway's Redis is one server, DESIGN "Shared state").
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local popped = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #popped, 2 do redis.call('DEL', ARGV[7] .. popped[i]) end
end
return 1
