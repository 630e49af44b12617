"""A per-key pacer that keeps this process under OpenPhone's 10 requests/second per API key.

OpenPhone allows "10 requests per second per API key" and answers more with 429
(openphone-api-notes.md §3.2). A token bucket would let a burst of 10 through and then 10 more as
the bucket refills, i.e. up to 20 within one second, which is exactly what draws 429s. So requests
are spaced instead: each key's requests start at least `HEADROOM/rate` seconds apart, whatever fans
them out. The 10% headroom absorbs the jitter between leaving here and arriving there (a request
delayed on the way must not land within one second of the tenth after it). The schedule is computed
synchronously on the event loop, so no lock is needed.

`Pacer` is the seam: `KeyedRateLimiter` paces this process, `gateway.redis.pacer.RedisPacer` paces
one key across every machine.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final, Protocol

import anyio

_PRUNE_AT: Final = 4096
HEADROOM: Final = 1.1


class Pacer(Protocol):
    """Spaces each API key's upstream requests."""

    async def acquire(self, api_key: str) -> None:
        """Wait for the key's next slot."""
        ...


class KeyedRateLimiter:
    """Spaces requests per key to under `rate` per second; `rate == 0` turns it off."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = HEADROOM / rate if rate > 0 else 0.0
        self._clock = clock
        self._next_slot: dict[bytes, float] = {}

    @property
    def interval(self) -> float:
        """Seconds between two requests of one key (0: not paced)."""
        return self._interval

    @property
    def enabled(self) -> bool:
        return self._interval > 0

    def reserve(self, api_key: str) -> float:
        """Claim the key's next free slot; returns the seconds to wait for it (0 when it is free now)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        if len(self._next_slot) >= _PRUNE_AT:
            self._next_slot = {key: slot for key, slot in self._next_slot.items() if slot > now}
        # Keyed by a digest so the table never holds raw keys.
        key = hashlib.blake2b(api_key.encode(), digest_size=16).digest()
        slot = max(now, self._next_slot.get(key, now))
        self._next_slot[key] = slot + self._interval
        return slot - now

    async def acquire(self, api_key: str) -> None:
        """Wait for the key's next slot."""
        wait = self.reserve(api_key)
        if wait > 0:
            await anyio.sleep(wait)
