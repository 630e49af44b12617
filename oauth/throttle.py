"""Per-client-IP rate limits on the endpoints that cost something or guard a secret.

`/register` (each registration is a signing), `POST /authorize` (each try checks an API key with
OpenPhone, so it must not become a key-guessing oracle) and `/token`. A client over the limit gets
429 with `Retry-After`. `limits` keeps the moving windows: in this process, or on Redis (shared by
every machine). A storage that fails lets the request through: the endpoints behind the throttle
fail closed on their own when Redis is down, and a throttle must not lock everyone out.
The client IP is the connection's, which uvicorn rewrites from `X-Forwarded-For` only for the
proxies in `FORWARDED_ALLOW_IPS`; an IPv6 client counts by its /64 (`rate_limit_key`).
`limits` is loaded by the first throttled request, not at start-up: no MCP request ever needs it.
"""

from __future__ import annotations

import logging
import math
import time
from functools import cached_property
from typing import TYPE_CHECKING, Final

from gateway.edge.client_address import rate_limit_key
from oauth.errors import TooManyRequests

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from limits.aio.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

# The token endpoint serves refreshes of every connection behind one address, so it gets more room.
TOKEN_MULTIPLIER: Final = 3


class Throttle:
    """`per_minute` requests per client IP to /register and POST /authorize, three times that to /token."""

    def __init__(self, per_minute: int, storage: Storage | None = None) -> None:
        """`storage` None keeps the windows in this process."""
        self._per_minute = per_minute
        self._storage = storage

    @cached_property
    def _limits(self) -> dict[str, RateLimitItem]:
        from limits import RateLimitItemPerMinute

        return {
            "register": RateLimitItemPerMinute(self._per_minute),
            "consent": RateLimitItemPerMinute(self._per_minute),
            "token": RateLimitItemPerMinute(self._per_minute * TOKEN_MULTIPLIER),
        }

    @cached_property
    def _limiter(self) -> MovingWindowRateLimiter:
        from limits.aio.storage import MemoryStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        return MovingWindowRateLimiter(self._storage or MemoryStorage())

    async def check(self, endpoint: str, client_ip: str) -> None:
        """Count one request; TooManyRequests (with Retry-After) once the window is full."""
        from limits.errors import StorageError

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
