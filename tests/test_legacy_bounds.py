"""Review 2026-12-07 #1 on a real gateway process: a legacy stream that is never read.

150 POSTs of a 32-item `tools/list` batch to one unread stream took a gateway from 69 to 708 MiB.
Now the stream is closed once what waits to be written passes its bound, and the process lets go.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest

from tests.cluster import Gateway, cluster, lone_gateway
from tests.reproductions import LISTING_BATCH, MADE_UP_KEY, is_dropped, open_unread_stream, rss_mib

POSTS: Final = 150
# Before the bounds: about +640 MiB. After: a few answers in the socket's buffers.
GROWTH_BOUND_MIB: Final = 64
GONE_WITHIN_SECONDS: Final = 5.0


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """One gateway process without Redis (in-memory session bus), as the review's gateway C."""
    with lone_gateway(tmp_path) as machine:
        yield machine


def test_an_unread_stream_is_dropped_and_its_answers_let_go(gateway: Gateway) -> None:
    growth = post_to_unread_stream(gateway, gateway, f"127.0.0.1:{gateway.port}")
    assert growth < GROWTH_BOUND_MIB


def test_with_redis_an_unread_stream_is_dropped_where_it_is_held(redis_url: str, tmp_path: Path) -> None:
    """The stream on one machine, the POSTs on another: the stream's machine lets go."""
    with cluster(redis_url, tmp_path, machines=2) as machines:
        growth = post_to_unread_stream(machines[0], machines[1], machines.host["host"])
    assert growth < GROWTH_BOUND_MIB


def post_to_unread_stream(holder: Gateway, poster: Gateway, host: str) -> float:
    """The review's reproduction: the stream on `holder`, POSTS batches on `poster`; `holder`'s growth
    in MiB once the stream was dropped (asserted) and a POST to it answered 404."""
    assert holder.process is not None
    before = rss_mib(holder.process.pid)
    sock, endpoint = open_unread_stream(holder.port, host)
    headers = {"host": host, "content-type": "application/json", "x-openphone-api-key": MADE_UP_KEY}
    with sock, httpx.Client(base_url=poster.url, headers=headers, timeout=10) as client:
        statuses = {client.post(endpoint, content=LISTING_BATCH).status_code for _ in range(POSTS)}
        assert is_dropped(sock, within=15)
        # With Redis, a POST published while the stream's machine is unsubscribing still finds it.
        deadline = time.monotonic() + GONE_WITHIN_SECONDS
        while client.post(endpoint, content=LISTING_BATCH).status_code != 404:
            assert time.monotonic() < deadline, "the dropped stream's session still takes messages"
            time.sleep(0.05)
    assert statuses <= {202, 404, 429}
    return rss_mib(holder.process.pid) - before
