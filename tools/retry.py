"""When to repeat an OpenPhone request, and how long to wait first. Pure: no I/O, no clock.

A read may be repeated after a 429, a 502/503/504 or a lost connection. A write (send a message,
create a contact) may be repeated only when it provably never reached OpenPhone, i.e. the connection
could not be opened, or when OpenPhone refused it with 429 (it did nothing). OpenPhone has no
idempotency key (openphone-api-notes.md §2.1), so a write that may have arrived is never repeated:
a message is never sent twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

RETRYABLE_READ_STATUSES: Final = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `attempts` tries with full-jitter exponential backoff; `Retry-After` honoured up to a cap.

    A `Retry-After` longer than `max_retry_after` is not waited out: the call fails at once and says
    how long to wait, rather than holding the caller's tool call open.
    """

    attempts: int = 3
    base_delay: float = 0.25
    max_backoff: float = 2.0
    max_retry_after: float = 10.0

    def may_retry_status(self, status: int, *, repeatable: bool) -> bool:
        """Whether an answer with `status` may be tried again."""
        return status == 429 or (repeatable and status in RETRYABLE_READ_STATUSES)

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds to wait before try `attempt + 1` (attempt counts from 1), or None to stop now."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return retry_after + rng.uniform(0, self.base_delay)
        return rng.uniform(0, min(self.max_backoff, self.base_delay * 2**attempt))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """RFC 9110 §10.2.3 `Retry-After`: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
