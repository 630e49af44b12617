"""Review 2026-12-07 #5 on a real gateway process: request bodies and paced calls are held boundedly.

Slow uploads were held for as long as their sockets stayed open, and without Redis the pacer parked
every call of a key, however many, for however long.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.cluster import Gateway, lone_gateway
from tests.reproductions import paced_burst, rss_mib, slow_uploads
from tools.sandbox import SANDBOX_API_KEY

SLOW_UPLOADS: Final = 50
# Before the deadline: every upload was held until its socket closed (none was answered), so each
# round added its 50 MiB. A round that lets its bodies go adds less (the allocator keeps some of what
# was freed; 34.5 MiB was seen once on a quiet machine), and a round that held them would add 50.
SECOND_ROUND_GROWTH_BOUND_MIB: Final = 40
PACED_CALLS: Final = 150
KEY_QUEUE_FULL: Final = (
    "Too many calls with this key are waiting for their turn under OpenPhone's per-key rate limit. "
)
# What OpenPhone (the sandbox) answers get-message of a message that does not exist.
NOT_FOUND: Final = "OpenPhone found nothing with that id"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """One gateway without Redis, pacing OpenPhone at the production rate (the sandbox turns it off)."""
    with lone_gateway(tmp_path, OPENPHONE_RATE_LIMIT="10") as machine:
        yield machine


def test_bodies_that_do_not_arrive_in_time_are_408_and_let_go(gateway: Gateway) -> None:
    """Two rounds of slow uploads: each is answered 408, and the second reuses what the first let go."""
    assert gateway.process is not None
    host = f"127.0.0.1:{gateway.port}"
    timed_out = [b"HTTP/1.1 408 Request Timeout"] * SLOW_UPLOADS
    assert slow_uploads(gateway.port, host, SLOW_UPLOADS) == timed_out
    after_one_round = rss_mib(gateway.process.pid)
    assert slow_uploads(gateway.port, host, SLOW_UPLOADS) == timed_out
    assert rss_mib(gateway.process.pid) - after_one_round < SECOND_ROUND_GROWTH_BOUND_MIB


def test_calls_of_one_key_beyond_the_longest_wait_are_refused_at_once(gateway: Gateway) -> None:
    """One key's burst: about 10 s of its calls wait their turn (and reach OpenPhone, which finds no
    such message), the rest are refused at once; every call is answered. A good key, because the edge
    answers a key OpenPhone rejected from memory, without pacing (second review #8)."""
    texts = paced_burst(gateway.url, f"127.0.0.1:{gateway.port}", PACED_CALLS, api_key=SANDBOX_API_KEY)
    outcomes = Counter(
        "sent" if text.startswith(NOT_FOUND) else "refused" if text.startswith(KEY_QUEUE_FULL) else text
        for text in texts
    )
    assert set(outcomes) == {"sent", "refused"}
    assert outcomes["sent"] + outcomes["refused"] == PACED_CALLS
