"""Per-client-IP rate limits on the endpoints that cost something or guard a secret.

`/register` (each registration is a signing), `POST /authorize` (each try checks an API key with
OpenPhone, so it must not become a key-guessing oracle) and `/token`. A client over the limit gets
429 with `Retry-After`. `limits` keeps the moving windows: in this process, or on Redis (shared by
every machine). A storage that fails lets the request through: the endpoints behind the throttle
fail closed on their own when Redis is down, and a throttle must not lock everyone out.
The client IP is the connection's, which uvicorn rewrites from `X-Forwarded-For` only for the
proxies in `FORWARDED_ALLOW_IPS`; an IPv6 client counts by its /64 (`rate_limit_key`).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Final

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from gateway.edge.client_address import rate_limit_key
from oauth.errors import TooManyRequests

logger = logging.getLogger(__name__)

# The token endpoint serves refreshes of every connection behind one address, so it gets more room.
TOKEN_MULTIPLIER: Final = 3


class Throttle:
    """`per_minute` requests per client IP to /register and POST /authorize, three times that to /token."""

    def __init__(self, per_minute: int, storage: Storage | None = None) -> None:
        self._limits: dict[str, RateLimitItem] = {
            "register": RateLimitItemPerMinute(per_minute),
            "consent": RateLimitItemPerMinute(per_minute),
            "token": RateLimitItemPerMinute(per_minute * TOKEN_MULTIPLIER),
        }
        self._limiter = MovingWindowRateLimiter(storage or MemoryStorage())

    async def check(self, endpoint: str, client_ip: str) -> None:
        """Count one request; TooManyRequests (with Retry-After) once the window is full."""
        item = self._limits[endpoint]
        key = rate_limit_key(client_ip)
        try:
            if await self._limiter.hit(item, endpoint, key):
                return
            stats = await self._limiter.get_window_stats(item, endpoint, key)
        except StorageError as exc:
            logger.warning(
                "rate limit not applied: its storage failed (%s)", type(exc.storage_error).__name__
            )
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            "too many requests from this address; try again later", {"retry-after": str(retry_after)}
        )
