"""The revoked families and tokens, held in this process so checking a Bearer never waits on Redis.

Filled three ways: from this machine's own revocations at once, from the `oauth:revocations`
channel (every machine's, within milliseconds), and by reading the whole index again each time the
channel is (re)subscribed, which covers whatever was published while this machine was not listening.
An entry lives until its revocation expires; revocations are only ever added, so merging is safe.
While Redis is unreachable the revocations known so far keep applying.

Nothing from Redis is taken on trust: a member must carry a gateway's MAC (`seals.RevocationTags`),
and no revocation is held longer than the longest a sign-in lives, whatever expiry it claims, so a
writer on Redis can neither revoke sign-ins nor grow this table.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final, cast

from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.pubsub import stop
from gateway.redis.scripts import REVOCATION_INDEX
from gateway.redis.seals import DropLog, RevocationTags
from oauth.store import Expiring, RevocationListener, family_revocation, token_revocation

logger = logging.getLogger(__name__)

_RESYNC_BACKOFF_SECONDS: Final = (0.1, 2.0)


class RevocationMirror:
    """A local, always-answering copy of the revocation index."""

    def __init__(
        self,
        client: Redis,
        tags: RevocationTags,
        longest_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._tags = tags
        self._longest_seconds = longest_seconds
        self._clock = clock
        self._drops = DropLog("revocation")
        self._revoked = Expiring(clock)
        self._resync: asyncio.Task[None] | None = None
        self._stale = False
        self._listener: RevocationListener | None = None

    def is_revoked(self, jti: str, family: str | None) -> bool:
        return self._revoked.live(token_revocation(jti)) or (
            family is not None and self._revoked.live(family_revocation(family))
        )

    def on_revoked(self, listener: RevocationListener) -> None:
        """Call `listener` with each revocation noted from now on (from any machine)."""
        self._listener = listener

    def note(self, member: str, expires_ms: int) -> None:
        """Apply one revocation (`t:<jti>` or `f:<family>`) until `expires_ms` (epoch milliseconds),
        or `longest_seconds` from now if that is sooner."""
        self._revoked.extend(member, min(expires_ms / 1000, self._clock() + self._longest_seconds))
        if self._listener is not None:
            self._listener(member)

    def on_message(self, data: bytes) -> None:
        """A revocation published by any machine: `<tagged member> <expires_ms>`; anything else is
        dropped."""
        tagged, _, expires = data.decode(errors="replace").partition(" ")
        if expires.isascii() and expires.isdigit():
            self._note_tagged(tagged, int(expires))
        else:
            self._drops.drop("malformed")

    def _note_tagged(self, tagged: str, expires_ms: int) -> None:
        member = self._tags.verify(tagged)
        if member is None:
            self._drops.drop("bad MAC")
        else:
            self.note(member, expires_ms)

    def on_subscribed(self) -> None:
        """The channel was (re)subscribed: what was published meanwhile is only in the index."""
        self._stale = True
        if self._resync is None or self._resync.done():
            self._resync = asyncio.get_running_loop().create_task(self._read_index())

    async def aclose(self) -> None:
        self._stale = False
        if self._resync is not None:
            await stop(self._resync)

    async def _read_index(self) -> None:
        backoff = _RESYNC_BACKOFF_SECONDS[0]
        while self._stale:
            self._stale = False
            try:
                now_ms = int(self._clock() * 1000)
                entries = await self._client.zrangebyscore(REVOCATION_INDEX, now_ms, "+inf", withscores=True)
            except UNAVAILABLE as exc:
                if backoff == _RESYNC_BACKOFF_SECONDS[0]:
                    logger.warning("could not read the revocation index (%s); retrying", type(exc).__name__)
                self._stale = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RESYNC_BACKOFF_SECONDS[1])
                continue
            # WITHSCORES replies (member, score) pairs; redis-py's annotation covers every ZRANGE form.
            for tagged, score in cast(list[tuple[bytes, float]], entries):
                self._note_tagged(tagged.decode(errors="replace"), int(score))
            logger.info("revocations read from Redis: %d live", len(entries))
