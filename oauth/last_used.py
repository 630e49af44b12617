"""When each sign-in was last used, noted off the request path (issue 25).

A Bearer check only writes to a dict here, and at most once a minute per family; `run` hands what
was noted to the connection index every few seconds, in the app's task group. A write that fails is
dropped: "last used" is a courtesy, and the next use a minute later notes it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

import anyio

from gateway.keys import ServerKeys
from oauth.connections import ConnectionIndex, Use, key_digest
from oauth.store import StoreUnavailable

logger = logging.getLogger(__name__)

NOTE_INTERVAL_SECONDS: Final = 60
FLUSH_INTERVAL_SECONDS: Final = 5
# Families remembered as noted this minute; past this the memory is cleared (a few notes repeat).
MAX_NOTED_FAMILIES: Final = 100_000


class LastUsed:
    """Collects uses of sign-ins and writes them to the index in batches."""

    def __init__(
        self, index: ConnectionIndex, keys: ServerKeys, clock: Callable[[], float] = time.time
    ) -> None:
        self._index = index
        self._keys = keys
        self._clock = clock
        self._noted: dict[str, float] = {}
        # family -> (the key, when): the digest is computed in `flush`, not in the Bearer check.
        self._due: dict[str, tuple[str, float]] = {}

    def note(self, api_key: str, family: str) -> None:
        """A Bearer of `family` was accepted: constant time, never awaits."""
        now = self._clock()
        if now - self._noted.get(family, -NOTE_INTERVAL_SECONDS) < NOTE_INTERVAL_SECONDS:
            return
        if len(self._noted) >= MAX_NOTED_FAMILIES:
            self._noted.clear()
            self._due.clear()
        self._noted[family] = now
        self._due[family] = (api_key, now)

    async def flush(self) -> None:
        """Write what was noted since the last flush."""
        due, self._due = self._due, {}
        if not due:
            return
        uses = [Use(key_digest(self._keys, key), family, at) for family, (key, at) in due.items()]
        try:
            await self._index.touch(uses)
        except StoreUnavailable:
            logger.warning("last-used times not written: the connection index is unreachable")

    async def run(self) -> None:
        """Flush every FLUSH_INTERVAL_SECONDS until cancelled."""
        await flush_every(FLUSH_INTERVAL_SECONDS, self.flush)


async def flush_every(seconds: float, flush: Callable[[], Awaitable[None]]) -> None:
    """Call `flush` every `seconds` until cancelled (the app's background task group cancels it)."""
    while True:
        await anyio.sleep(seconds)
        await flush()
