"""Per-client-IP rate limits on the endpoints that cost something or guard a secret.

`/register` (each registration is a signing), `POST /authorize` (each try checks an API key with
OpenPhone, so it must not become a key-guessing oracle) and `/token`. A client over the limit gets
429 with `Retry-After`. `limits` keeps the moving windows: in memory now, Redis by configuration.
The client IP is the connection's, which uvicorn rewrites from `X-Forwarded-For` only for the
proxies in `FORWARDED_ALLOW_IPS`; an IPv6 client counts by its /64 (`rate_limit_key`).
"""

from __future__ import annotations

import math
import time
from typing import Final

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gateway.client_address import rate_limit_key
from oauth.errors import TooManyRequests

# The token endpoint serves refreshes of every connection behind one address, so it gets more room.
TOKEN_MULTIPLIER: Final = 3


class Throttle:
    """`per_minute` requests per client IP to /register and POST /authorize, three times that to /token."""

    def __init__(self, per_minute: int) -> None:
        self._limits: dict[str, RateLimitItem] = {
            "register": RateLimitItemPerMinute(per_minute),
            "consent": RateLimitItemPerMinute(per_minute),
            "token": RateLimitItemPerMinute(per_minute * TOKEN_MULTIPLIER),
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, endpoint: str, client_ip: str) -> None:
        """Count one request; TooManyRequests (with Retry-After) once the window is full."""
        item = self._limits[endpoint]
        key = rate_limit_key(client_ip)
        if await self._limiter.hit(item, endpoint, key):
            return
        stats = await self._limiter.get_window_stats(item, endpoint, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            "too many requests from this address; try again later", {"retry-after": str(retry_after)}
        )
