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

Both bound what waits (review 2026-12-07 #5): a call whose slot is more than MAX_WAIT_SECONDS away
is refused at once (so a key parks at most MAX_WAIT_SECONDS / interval calls, 91 at 10 per second),
and no more than MAX_PARKED_CALLS wait in a process, whatever their keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Final, Protocol

import anyio

from tools.api_errors import key_queue_full_error, server_queue_full_error

_PRUNE_AT: Final = 4096
HEADROOM: Final = 1.1
MAX_WAIT_SECONDS: Final = 10.0
MAX_PARKED_CALLS: Final = 128


class Pacer(Protocol):
    """Spaces each API key's upstream requests."""

    async def acquire(self, api_key: str) -> None:
        """Wait for the key's next slot."""
        ...


class KeyedRateLimiter:
    """Spaces requests per key to under `rate` per second; `rate == 0` turns it off."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = MAX_WAIT_SECONDS,
        max_parked: int = MAX_PARKED_CALLS,
    ) -> None:
        self._interval = HEADROOM / rate if rate > 0 else 0.0
        self._clock = clock
        self._next_slot: dict[bytes, float] = {}
        self._max_wait = max_wait
        self._max_parked = max_parked
        self._parked = 0

    @property
    def interval(self) -> float:
        """Seconds between two requests of one key (0: not paced)."""
        return self._interval

    @property
    def enabled(self) -> bool:
        return self._interval > 0

    def reserve(self, api_key: str) -> float:
        """Claim the key's next free slot; returns the seconds to wait for it (0 when it is free now).

        Raises `OpenPhoneError` (429), claiming nothing, when that slot is more than `max_wait` away."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        if len(self._next_slot) >= _PRUNE_AT:
            self._next_slot = {key: slot for key, slot in self._next_slot.items() if slot > now}
        # Keyed by a digest so the table never holds raw keys.
        key = hashlib.blake2b(api_key.encode(), digest_size=16).digest()
        slot = max(now, self._next_slot.get(key, now))
        if slot - now > self._max_wait:
            raise key_queue_full_error(slot - now - self._max_wait)
        self._next_slot[key] = slot + self._interval
        return slot - now

    async def acquire(self, api_key: str) -> None:
        """Wait for the key's next slot; raises `OpenPhoneError` when it is too far (`reserve`) or
        the process already parks `max_parked` calls (503)."""
        wait = self.reserve(api_key)
        if wait > 0:
            await self.park(wait)

    async def park(self, seconds: float) -> None:
        """Sleep `seconds` as one of the process's parked calls; raises `OpenPhoneError` (503) when
        `max_parked` already are."""
        if self._parked >= self._max_parked:
            raise server_queue_full_error()
        self._parked += 1
        try:
            await anyio.sleep(seconds)
        finally:
            self._parked -= 1
