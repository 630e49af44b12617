"""The daily send allowance: recipients a grant may text without asking, counted over a rolling 24 h.

Counted in recipients, each one an entry stamped with when it was reserved; an entry counts for
WINDOW_SECONDS and then drops out. A rolling window rather than a UTC day: with a UTC day an
assistant talked into sending could spend the whole allowance at 23:59 and again at 00:00, twice
the limit in two minutes; a rolling window never lets more than the limit through in any 24 h. It
costs one entry per recipient, bounded by the limit (at most MAX_DAILY_LIMIT per grant).

A send reserves all its recipients before anything reaches OpenPhone, atomically (`reserve` either
takes them all or none), and returns the ones OpenPhone refused (`refund`). Memory here, for one
process; `gateway.redis.allowance` keeps the same count on Redis for every machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

WINDOW_SECONDS: Final = 24 * 3600
# How often the memory allowance drops grants nobody touched within the window.
SWEEP_SECONDS: Final = 3600


@dataclass(frozen=True, slots=True)
class Reservation:
    """What `reserve` decided.

    `granted`: all `count` recipients were reserved (entries `member(id, 0..count-1)`), or none.
    `remaining`: recipients left in the window after this decision. `resets_at` (epoch seconds):
    when granted, when the oldest entry drops out; when refused, when `count` would fit again
    (None when `count` exceeds the limit itself, so it never fits).
    """

    id: str
    granted: bool
    remaining: int
    resets_at: float | None


def member(reservation_id: str, index: int) -> str:
    """The entry of one reserved recipient: `index` is its place in the send's recipient list."""
    return f"{reservation_id}:{index}"


class Allowance(Protocol):
    """Where reservations are counted; implementations are atomic per grant."""

    async def reserve(self, grant_id: str, reservation_id: str, count: int, limit: int) -> Reservation:
        """Reserve `count` recipients for `grant_id` if the window has room under `limit`, else none.

        Raises `tools.errors.SendCounterUnavailable` when the count cannot be reached.
        """

    async def refund(self, grant_id: str, reservation_id: str, indexes: Sequence[int]) -> None:
        """Give back the reserved recipients at `indexes` (OpenPhone refused them); repeating is harmless."""

    async def used(self, grant_id: str) -> int:
        """The recipients counted in the window now (the connected-apps page's "sends today").

        Raises `tools.errors.SendCounterUnavailable` when the count cannot be reached.
        """


class MemoryAllowance:
    """The allowance for one process: each grant's entries and when they were reserved.

    Every method runs without awaiting, so on one event loop each call is atomic. Entries older
    than the window are dropped when their grant is next touched, and once every SWEEP_SECONDS
    for grants nobody touched, so memory holds at most a day of sends.
    """

    def __init__(self, clock: Callable[[], float] = time.time, window: float = WINDOW_SECONDS) -> None:
        self._clock = clock
        self._window = window
        self._entries: dict[str, dict[str, float]] = {}
        self._next_sweep = clock() + SWEEP_SECONDS

    async def reserve(self, grant_id: str, reservation_id: str, count: int, limit: int) -> Reservation:
        now = self._clock()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            for stale in list(self._entries):
                self._live(stale, now)
        entries = self._live(grant_id, now)
        used = len(entries)
        if used + count > limit:
            fits_at = None
            if count <= limit:
                # The (used + count - limit)-th oldest entry must drop out before `count` fits.
                stamps = sorted(entries.values())
                fits_at = stamps[used + count - limit - 1] + self._window
            return Reservation(reservation_id, False, max(0, limit - used), fits_at)
        for index in range(count):
            entries[member(reservation_id, index)] = now
        self._entries[grant_id] = entries
        return Reservation(reservation_id, True, limit - used - count, min(entries.values()) + self._window)

    async def refund(self, grant_id: str, reservation_id: str, indexes: Sequence[int]) -> None:
        entries = self._entries.get(grant_id, {})
        for index in indexes:
            entries.pop(member(reservation_id, index), None)
        if not entries:
            self._entries.pop(grant_id, None)

    async def used(self, grant_id: str) -> int:
        return len(self._live(grant_id, self._clock()))

    def _live(self, grant_id: str, now: float) -> dict[str, float]:
        horizon = now - self._window
        entries = {name: stamp for name, stamp in self._entries.get(grant_id, {}).items() if stamp > horizon}
        if entries:
            self._entries[grant_id] = entries
        else:
            self._entries.pop(grant_id, None)
        return entries
