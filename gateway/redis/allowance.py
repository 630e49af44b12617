"""`tools.allowance.Allowance` on Redis: one grant's daily allowance holds across every machine.

A reservation is one script (`scripts/reserve_allowance.lua`) on Redis's clock: it drops entries
older than the window, then adds all the send's recipients or none, so concurrent sends on any
number of machines can never pass the limit between them. A refund is one ZREM. The Redis key is
a keyed hash of the grant id, never the id. When Redis cannot be reached a reservation fails with
`SendCounterUnavailable` (nothing is sent uncounted); a refund that cannot reach it is logged and
dropped, which only ever counts a send that did not go out.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.scripts import Scripts
from tools.allowance import WINDOW_SECONDS, Reservation, member
from tools.errors import SendCounterUnavailable

logger = logging.getLogger(__name__)


class RedisAllowance:
    """The allowance counted on Redis."""

    def __init__(self, scripts: Scripts, secret: bytes, window: float = WINDOW_SECONDS) -> None:
        self._scripts = scripts
        self._secret = secret
        self._window_ms = round(window * 1000)

    def grant_key(self, grant_id: str) -> str:
        """The grant's name on Redis: a hash keyed with a server secret, so it names, never reveals."""
        return hashlib.blake2b(grant_id.encode(), key=self._secret[:64], digest_size=16).hexdigest()

    async def reserve(self, grant_id: str, reservation_id: str, count: int, limit: int) -> Reservation:
        try:
            granted, remaining, when_ms = await self._scripts.reserve_allowance(
                self.grant_key(grant_id), reservation_id, count, limit, self._window_ms
            )
        except UNAVAILABLE as exc:
            logger.warning("send refused: the allowance cannot be counted (%s)", type(exc).__name__)
            raise SendCounterUnavailable() from None
        return Reservation(reservation_id, granted, remaining, None if when_ms < 0 else when_ms / 1000)

    async def used(self, grant_id: str) -> int:
        try:
            return await self._scripts.count_allowance(self.grant_key(grant_id), self._window_ms)
        except UNAVAILABLE as exc:
            logger.warning("the allowance cannot be read (%s)", type(exc).__name__)
            raise SendCounterUnavailable() from None

    async def refund(self, grant_id: str, reservation_id: str, indexes: Sequence[int]) -> None:
        members = [member(reservation_id, index) for index in indexes]
        try:
            await self._scripts.refund_allowance(self.grant_key(grant_id), members)
        except UNAVAILABLE as exc:
            logger.warning(
                "%d refused recipients stay counted: Redis is unreachable (%s)",
                len(members),
                type(exc).__name__,
            )
