"""OAuth 2.1 §4.3.1 (https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.1): token state.

Sealed tokens carry everything they grant, so the server remembers only three things: which
authorization codes were spent (single use, §4.1.2), which tokens were revoked, and which refresh
tokens were spent and by which family (rotation with reuse detection, §4.3.1). `Store` is that state
behind one interface; `MemoryStore` keeps it in this process, a Redis store shares it between workers.

Every record expires after the ttl it was written with; pass at least the token's remaining lifetime,
since a record that expires before its token stops guarding it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Final, NamedTuple, Protocol, TypeAlias

# The smallest table that triggers a sweep of expired records; see MemoryStore._write.
MIN_PRUNE_ENTRIES: Final = 1024


class RefreshOutcome(StrEnum):
    """What presenting a refresh token means for its family."""

    FRESH = "fresh"  # first use: mint tokens and rotate
    GRACE = "grace"  # spent moments ago (a concurrent refresh): mint again, same family
    REUSED = "reused"  # spent earlier: replay, the family is now revoked
    REVOKED = "revoked"  # the family was already revoked


class Store(Protocol):
    """The server's token state. Every ttl and grace is in seconds; a ttl must be positive."""

    async def consume_once(self, jti: str, ttl: float) -> bool:
        """True the first time `jti` is consumed, False every later time until `ttl` runs out."""
        ...

    async def revoke(self, jti: str, ttl: float) -> None:
        """Revoke one token for `ttl` (its remaining lifetime)."""
        ...

    async def is_revoked(self, jti: str) -> bool:
        """True if `jti` was revoked and the revocation has not expired."""
        ...

    async def use_refresh(self, family: str, jti: str, grace: float, ttl: float) -> RefreshOutcome:
        """Spend refresh token `jti` of `family`; reuse after `grace` revokes the family for `ttl`."""
        ...

    async def revoke_family(self, family: str, ttl: float) -> None:
        """Revoke every token of a refresh-token family for `ttl`."""
        ...

    async def family_revoked(self, family: str) -> bool:
        """True if `family` was revoked and the revocation has not expired."""
        ...

    async def ping(self) -> bool:
        """True if the store can be used now (readiness)."""
        ...


class _Record(NamedTuple):
    written_at: float
    expires_at: float


_Key: TypeAlias = tuple[str, str]


class MemoryStore:
    """`Store` in this process's memory, for one worker.

    Methods never await between reading and writing, so concurrent asyncio tasks see each operation
    as atomic. Expired records are swept when the table has doubled since the last sweep, so memory
    stays within about twice the live records at amortised constant cost per write.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: dict[_Key, _Record] = {}
        self._prune_at = MIN_PRUNE_ENTRIES

    def __len__(self) -> int:
        """How many records are held, expired or not (for tests and metrics)."""
        return len(self._records)

    async def consume_once(self, jti: str, ttl: float) -> bool:
        if self._live(("once", jti)) is not None:
            return False
        self._write(("once", jti), ttl)
        return True

    async def revoke(self, jti: str, ttl: float) -> None:
        self._write(("revoked", jti), ttl)

    async def is_revoked(self, jti: str) -> bool:
        return self._live(("revoked", jti)) is not None

    async def use_refresh(self, family: str, jti: str, grace: float, ttl: float) -> RefreshOutcome:
        if self._live(("family", family)) is not None:
            return RefreshOutcome.REVOKED
        # The jti is namespaced by its family so one family can never spend another's token.
        spent = self._live(("refresh", f"{family}\x00{jti}"))
        if spent is None:
            self._write(("refresh", f"{family}\x00{jti}"), ttl)
            return RefreshOutcome.FRESH
        if self._clock() - spent.written_at < grace:
            return RefreshOutcome.GRACE
        # OAuth 2.1 §4.3.1: a rotated refresh token presented again means one party replays it.
        self._write(("family", family), ttl)
        return RefreshOutcome.REUSED

    async def revoke_family(self, family: str, ttl: float) -> None:
        self._write(("family", family), ttl)

    async def family_revoked(self, family: str) -> bool:
        return self._live(("family", family)) is not None

    async def ping(self) -> bool:
        return True

    def _live(self, key: _Key) -> _Record | None:
        record = self._records.get(key)
        if record is None or self._clock() < record.expires_at:
            return record
        del self._records[key]
        return None

    def _write(self, key: _Key, ttl: float) -> None:
        """Record `key` from now for `ttl` seconds, never shortening a live record's expiry."""
        if ttl <= 0:
            raise ValueError("a ttl must be positive")
        now = self._clock()
        expires_at = now + ttl
        existing = self._live(key)
        if existing is not None:
            expires_at = max(expires_at, existing.expires_at)
        self._records[key] = _Record(now if existing is None else existing.written_at, expires_at)
        if len(self._records) >= self._prune_at:
            self._prune(now)

    def _prune(self, now: float) -> None:
        self._records = {key: record for key, record in self._records.items() if now < record.expires_at}
        self._prune_at = max(MIN_PRUNE_ENTRIES, 2 * len(self._records))
