"""`tools.rate_limit.Pacer` on Redis: one OpenPhone key keeps one pace across every machine.

OpenPhone counts 10 requests per second per key, however many machines send them. Each request
reserves the key's next slot with one script on Redis's clock (`scripts/pace.lua`), spaced exactly
as the per-process pacer spaces them, then sleeps until it. The Redis key is a keyed hash of the API
key, never the key. When Redis cannot be reached, pacing falls back to this process alone (OpenPhone's
429s, which the retries absorb, cover the rest), so tool calls keep working. While it is known to be
unreachable, calls do not ask it (each would first wait about 0.8 s for the timeouts): one call a
REPROBE_SECONDS asks again, and the first answer brings every call back to the shared pace.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Final

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.scripts import Scripts
from tools.api_errors import key_queue_full_error
from tools.rate_limit import MAX_WAIT_SECONDS, KeyedRateLimiter

logger = logging.getLogger(__name__)

REPROBE_SECONDS: Final = 1.0


class RedisPacer:
    """Spaces each key's requests across machines; `local` paces alone while Redis is unreachable."""

    def __init__(
        self,
        scripts: Scripts,
        secret: bytes,
        local: KeyedRateLimiter,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scripts = scripts
        self._secret = secret
        self._local = local
        self._interval_ms = round(local.interval * 1000)
        self._monotonic = monotonic
        self._alone = False
        # While alone, Redis is asked again only from this moment (monotonic seconds).
        self._reprobe_at = 0.0

    def key_id(self, api_key: str) -> str:
        """The key's name on Redis: a hash keyed with a server secret, so it names, never reveals."""
        return hashlib.blake2b(api_key.encode(), key=self._secret[:64], digest_size=16).hexdigest()

    async def acquire(self, api_key: str) -> None:
        if not self._interval_ms:
            return
        if self._alone:
            now = self._monotonic()
            if now < self._reprobe_at:
                await self._local.acquire(api_key)
                return
            self._reprobe_at = now + REPROBE_SECONDS
        try:
            wait_ms = await self._scripts.pace(
                self.key_id(api_key), self._interval_ms, int(MAX_WAIT_SECONDS * 1000)
            )
        except UNAVAILABLE as exc:
            if not self._alone:
                logger.warning("pacing each process alone: Redis is unreachable (%s)", type(exc).__name__)
            self._alone = True
            self._reprobe_at = self._monotonic() + REPROBE_SECONDS
            await self._local.acquire(api_key)
            return
        if self._alone:
            logger.info("pacing across machines again")
            self._alone = False
        if wait_ms < 0:
            raise key_queue_full_error(MAX_WAIT_SECONDS)
        if wait_ms:
            # The process's bound on parked calls holds for every pacer.
            await self._local.park(wait_ms / 1000)
