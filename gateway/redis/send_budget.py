"""How much each legacy session may publish on the bus: a byte budget per session (a token bucket).

Every message a session's POSTs publish reaches the one subscriber connection of the machine holding
its stream, which Redis drops once it falls behind (`client-output-buffer-limit pubsub`), losing every
session's messages in flight. Each session may send a burst, then a steady rate; past it the POST is
refused with 429 and `Retry-After` before anything is published. Counted per machine: a client
spreading one session's POSTs over n machines gets n budgets.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

BYTES_PER_SECOND: Final = 256 * 1024
BURST_BYTES: Final = 1024 * 1024
# A message costs at least this much, so a flood of tiny messages is bounded too (256 a second).
MIN_COST_BYTES: Final = 1024
# Sessions whose budget is tracked (about 150 bytes each); the longest idle is forgotten first,
# which only hands it a full burst again.
SESSIONS_TRACKED: Final = 16384


class SendBudget:
    """Per-session token buckets of bytes."""

    def __init__(
        self,
        rate: float = BYTES_PER_SECOND,
        burst: float = BURST_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        # session -> (bytes left, when counted)
        self._left: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def spend(self, session: str, size: int) -> int:
        """Spend `size` bytes of `session`'s budget and return 0, or, when they do not fit now, spend
        nothing and return the whole seconds until they would (at least 1)."""
        cost = max(size, MIN_COST_BYTES)
        now = self._clock()
        left, counted = self._left.pop(session, (self._burst, now))
        left = min(self._burst, left + (now - counted) * self._rate)
        if len(self._left) >= SESSIONS_TRACKED:
            self._left.popitem(last=False)
        if cost > left:
            self._left[session] = (left, now)
            return max(1, math.ceil((cost - left) / self._rate))
        self._left[session] = (left - cost, now)
        return 0
