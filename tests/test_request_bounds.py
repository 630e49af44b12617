"""Review 2026-12-07 #5 on a real gateway process: request bodies and paced calls are held boundedly.

Slow uploads were held for as long as their sockets stayed open, and without Redis the pacer parked
every call of a key, however many, for however long.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import pytest

from gateway.transports.http import BODY_DEADLINE_SECONDS, MAX_BODY_BYTES
from tests.cluster import Gateway, lone_gateway
from tests.unread_stream import MADE_UP_KEY, rss_mib

SLOW_UPLOADS: Final = 50
# Before the deadline: every upload was held until its socket closed (none was answered), so each
# round added its 50 MiB.
SECOND_ROUND_GROWTH_BOUND_MIB: Final = 16
PACED_CALLS: Final = 150
KEY_QUEUE_FULL: Final = (
    "Too many calls with this key are waiting for their turn under OpenPhone's per-key rate limit. "
)
KEY_REJECTED: Final = "OpenPhone rejected the API key."


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    """One gateway without Redis, pacing OpenPhone at the production rate (the sandbox turns it off)."""
    with lone_gateway(tmp_path, OPENPHONE_RATE_LIMIT="10") as machine:
        yield machine


def test_bodies_that_do_not_arrive_in_time_are_408_and_let_go(gateway: Gateway) -> None:
    """Two rounds of slow uploads: each is answered 408, and the second reuses what the first let go."""
    assert gateway.process is not None
    assert _slow_uploads(gateway) == [b"HTTP/1.1 408 Request Timeout"] * SLOW_UPLOADS
    after_one_round = rss_mib(gateway.process.pid)
    assert _slow_uploads(gateway) == [b"HTTP/1.1 408 Request Timeout"] * SLOW_UPLOADS
    assert rss_mib(gateway.process.pid) - after_one_round < SECOND_ROUND_GROWTH_BOUND_MIB


def _slow_uploads(gateway: Gateway) -> list[bytes]:
    """SLOW_UPLOADS connections each send all but the last byte of a 1 MiB body; their status lines."""
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nx-openphone-api-key: {MADE_UP_KEY}\r\n"
        f"Content-Length: {MAX_BODY_BYTES}\r\n\r\n"
    ).encode()
    uploads = [socket.create_connection(("127.0.0.1", gateway.port)) for _ in range(SLOW_UPLOADS)]
    try:
        for upload in uploads:
            upload.sendall(head + b" " * (MAX_BODY_BYTES - 1))
        return [_status_line(upload, BODY_DEADLINE_SECONDS + 10) for upload in uploads]
    finally:
        for upload in uploads:
            upload.close()


def _status_line(sock: socket.socket, within: float) -> bytes:
    sock.settimeout(within)
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.partition(b"\r\n")[0]


def test_calls_of_one_key_beyond_the_longest_wait_are_refused_at_once(gateway: Gateway) -> None:
    """A made-up key's burst: about 5 s of its calls wait their turn (and reach OpenPhone, which
    rejects the key), the rest are refused at once; every call is answered."""
    texts = asyncio.run(_burst(gateway.url, f"127.0.0.1:{gateway.port}"))
    outcomes = Counter(
        "sent" if text.startswith(KEY_REJECTED) else "refused" if text.startswith(KEY_QUEUE_FULL) else text
        for text in texts
    )
    assert set(outcomes) == {"sent", "refused"}
    assert outcomes["sent"] + outcomes["refused"] == PACED_CALLS


async def _burst(base_url: str, host: str) -> list[str]:
    headers = {
        "host": host,
        "content-type": "application/json",
        "accept": "application/json",
        "x-openphone-api-key": MADE_UP_KEY,
        "mcp-protocol-version": "2025-06-18",
    }
    limits = httpx.Limits(max_connections=PACED_CALLS)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, limits=limits) as client:
        answers = await asyncio.gather(
            *(client.post("/mcp", content=_get_message(n)) for n in range(PACED_CALLS))
        )
    return [_text(answer) for answer in answers]


def _get_message(request_id: int) -> bytes:
    params = {"name": "get-message", "arguments": {"id": "ACabc"}}
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


def _text(answer: httpx.Response) -> str:
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()["result"]
    assert result["isError"] is True
    return str(result["content"][0]["text"])
