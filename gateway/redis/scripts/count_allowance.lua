-- Count one grant's allowance entries inside the rolling window, on Redis's clock (tools/allowance.py).
-- KEYS: 1 the grant's entries (sorted set, score = ms reserved)
-- ARGV: 1 window ms
-- Returns the number of recipients counted now; reads only (expired entries go at the next reserve).
return redis.call('ZCOUNT', KEYS[1], '(' .. (now_ms() - tonumber(ARGV[1])), '+inf')
