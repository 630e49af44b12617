"""`oauth.store.Store` on Redis: every machine sees one spent code, one rotation, one revocation.

Each decision is one Lua script (`scripts/`), so it is atomic whichever machine asks. Revocations
are also applied to this machine's mirror at once, and reach the others through pub/sub. When Redis
cannot be reached the write paths raise `StoreUnavailable` (the token and revocation endpoints
answer 503, never `invalid_grant`, on which clients throw their credentials away), while Bearer
checks keep answering from the mirror.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.revocations import RevocationMirror
from gateway.redis.scripts import Scripts
from oauth.store import (
    RefreshOutcome,
    RevocationListener,
    Rotation,
    StoreUnavailable,
    family_revocation,
    token_revocation,
)

PING_TIMEOUT_SECONDS: Final = 0.5
_NONCE_BYTES: Final = 12


def _ms(seconds: float) -> int:
    if seconds <= 0:
        raise ValueError("a ttl must be positive")
    return max(1, int(seconds * 1000))


class RedisStore:
    """The shared token state."""

    def __init__(
        self,
        client: Redis,
        scripts: Scripts,
        mirror: RevocationMirror,
        is_subscribed: Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._scripts = scripts
        self._mirror = mirror
        self._is_subscribed = is_subscribed
        self._clock = clock

    async def redeem_code(self, family: str, *, code_ttl: float, family_ttl: float) -> bool:
        # A fresh nonce per redemption: redis-py retrying this very call after a lost reply is
        # recognised as the same redemption, any other one as a replay.
        nonce = secrets.token_urlsafe(_NONCE_BYTES)
        try:
            redeemed = await self._scripts.redeem_code(family, nonce, _ms(code_ttl), _ms(family_ttl))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        if not redeemed:
            self._note_family(family, family_ttl)
        return redeemed

    async def spend_once(self, name: str, ttl: float) -> bool:
        try:
            return await self._scripts.spend_once(name, secrets.token_urlsafe(_NONCE_BYTES), _ms(ttl))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc

    async def rotate_refresh(
        self, family: str, generation: int, *, grace: float, family_ttl: float
    ) -> Rotation:
        try:
            rotation = await self._scripts.rotate_refresh(
                family, generation, _ms(grace) if grace > 0 else 0, _ms(family_ttl)
            )
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        if rotation.outcome is RefreshOutcome.REUSED:
            self._note_family(family, family_ttl)
        return rotation

    async def revoke_token(self, jti: str, ttl: float) -> None:
        try:
            await self._scripts.revoke_token(jti, _ms(ttl))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        self._mirror.note(token_revocation(jti), int((self._clock() + ttl) * 1000))

    async def revoke_family(self, family: str, ttl: float) -> None:
        try:
            await self._scripts.revoke_family(family, _ms(ttl))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        self._note_family(family, ttl)

    def is_revoked(self, jti: str, family: str | None) -> bool:
        return self._mirror.is_revoked(jti, family)

    def on_revoked(self, listener: RevocationListener) -> None:
        self._mirror.on_revoked(listener)

    async def ping(self) -> bool:
        """Redis answers, and this machine hears revocations."""
        try:
            async with asyncio.timeout(PING_TIMEOUT_SECONDS):
                answered = bool(await self._client.ping())
        except (TimeoutError, *UNAVAILABLE):
            return False
        return answered and self._is_subscribed()

    def _note_family(self, family: str, ttl: float) -> None:
        self._mirror.note(family_revocation(family), int((self._clock() + ttl) * 1000))
