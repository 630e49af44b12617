"""Scenario `bounds`: the memory the 2026-12-07 review's reproductions make a gateway hold, now that
what a session, a stream, a body and a paced call may hold is bounded (issue 24 #1, #5).

Each row runs on a fresh `serve --sandbox` process and reports its resident memory before, at its
peak (sampled every 20 ms) and once the load has settled; nothing is asserted (the tests in
`tests/test_legacy_bounds.py` and `tests/test_request_bounds.py` hold the bounds):

- unread stream: one legacy stream never read, 150 POSTs of a 32-item `tools/list` batch (review
  #1: 69 -> 708 MiB);
- unread stream on Redis: the stream on machine B, the POSTs on machine A (B: 184 -> 564 MiB);
- slow uploads: 100 connections each send all but the last byte of a 1 MiB body (#5: 70 -> 175
  MiB, held until the sockets closed);
- parked calls: 150 concurrent `get-message` with a 1 MiB `params._meta.pad` and one made-up key,
  paced at 10/s (#5: 152 -> 402 MiB, the last answer after 16.6 s).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Final

import httpx

from gateway.keys import generate_secret_key
from tests.benchmarks.processes import Cores, Server
from tests.benchmarks.shared_state import redis
from tests.benchmarks.targets import gateway
from tests.reproductions import (
    LISTING_BATCH,
    MADE_UP_KEY,
    is_dropped,
    open_unread_stream,
    paced_burst,
    rss_mib,
    slow_uploads,
)

UNREAD_POSTS: Final = 150
SLOW_UPLOADS: Final = 100
PARKED_CALLS: Final = 150
PAD_BYTES: Final = 1024 * 1024 - 512  # the largest that fits the 1 MiB body limit
SAMPLE_SECONDS: Final = 0.02
SETTLE_SECONDS: Final = 6.0
READY_WITHIN_SECONDS: Final = 10.0


@dataclass(frozen=True)
class Held:
    """One reproduction's resident memory on the machine that held the load, in MiB."""

    name: str
    before_mib: float
    peak_mib: float
    after_mib: float
    outcome: str


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


@contextlib.contextmanager
def _peak(pid: int) -> Iterator[Callable[[], float]]:
    """Sample `pid`'s RSS until the block ends; yields a function giving the largest sample."""
    samples = [rss_mib(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_SECONDS):
            samples.append(rss_mib(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: max(samples)
    finally:
        done.set()
        sampler.join()


def _unread_stream(name: str, holder: Server, poster: Server, host: str) -> Held:
    pid = holder.process.pid
    before = rss_mib(pid)
    with _peak(pid) as peak:
        sock, endpoint = open_unread_stream(_port(holder), host)
        headers = {"host": host, "content-type": "application/json", "x-openphone-api-key": MADE_UP_KEY}
        with sock, httpx.Client(base_url=poster.url, headers=headers, timeout=10) as client:
            statuses = [client.post(endpoint, content=LISTING_BATCH).status_code for _ in range(UNREAD_POSTS)]
            dropped = is_dropped(sock, within=15)
        time.sleep(SETTLE_SECONDS)
    counts = ", ".join(f"{statuses.count(code)} x {code}" for code in sorted(set(statuses)))
    return Held(name, before, peak(), rss_mib(pid), f"{counts}; stream dropped: {dropped}")


def _slow_uploads(server: Server) -> Held:
    pid = server.process.pid
    before = rss_mib(pid)
    with _peak(pid) as peak:
        lines = slow_uploads(_port(server), server.url.removeprefix("http://"), SLOW_UPLOADS)
        time.sleep(1)
    answered = sum(line.startswith(b"HTTP/1.1 408") for line in lines)
    return Held("slow uploads", before, peak(), rss_mib(pid), f"{answered} of {SLOW_UPLOADS} answered 408")


def _parked_calls(server: Server) -> Held:
    pid = server.process.pid
    before = rss_mib(pid)
    started = time.monotonic()
    with _peak(pid) as peak:
        texts = paced_burst(server.url, server.url.removeprefix("http://"), PARKED_CALLS, PAD_BYTES)
        last = time.monotonic() - started
        time.sleep(1)
    refused = sum(text.startswith("Too many calls") for text in texts)
    outcome = f"{refused} of {PARKED_CALLS} refused at once; the last answer after {last:.1f} s"
    return Held("parked calls", before, peak(), rss_mib(pid), outcome)


def _subscribed(server: Server, host: str) -> None:
    """Wait until `server` is ready, Redis's subscriber included (a stream opened before is a 503)."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while httpx.get(f"{server.url}/readyz", headers={"host": host}).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} was not ready within {READY_WITHIN_SECONDS:g} s")
        time.sleep(0.05)


def measure(cores: Cores) -> list[dict[str, float | str]]:
    """Every row, each on fresh processes."""
    rows: list[Held] = []
    with gateway(None, cores, name="gateway (unread stream)") as lone:
        rows.append(_unread_stream("unread stream", lone, lone, lone.url.removeprefix("http://")))
    with redis(cores) as store, contextlib.ExitStack() as stack:
        shared = {"SECRET_KEYS": generate_secret_key(), "REDIS_URL": store.url}
        first = stack.enter_context(gateway(None, cores, name="gateway A", **shared))
        second = stack.enter_context(gateway(None, cores, name="gateway B", PUBLIC_URL=first.url, **shared))
        _subscribed(second, first.url.removeprefix("http://"))
        rows.append(_unread_stream("unread stream, Redis", second, first, first.url.removeprefix("http://")))
    with gateway(None, cores, name="gateway (slow uploads)") as lone:
        rows.append(_slow_uploads(lone))
    with gateway(None, cores, name="gateway (parked calls)", OPENPHONE_RATE_LIMIT="10") as lone:
        rows.append(_parked_calls(lone))
    return [asdict(row) for row in rows]


def table(rows: list[dict[str, float | str]]) -> list[str]:
    """The rows as the report prints them."""
    lines = [
        "Memory under the review's reproductions (RSS of the machine holding the load, MiB)",
        "| reproduction | before | peak | after | outcome |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['name']} | {row['before_mib']:.0f} | {row['peak_mib']:.0f} | {row['after_mib']:.0f} "
        f"| {row['outcome']} |"
        for row in rows
    ]
    return lines
