"""The 2026-12-07 review's reproductions of #1 and #5, shared by the tests and the benchmark: a
legacy SSE stream opened on a raw socket with a tiny receive buffer and never read, slow uploads,
a burst of paced calls for one key, and a process's resident memory.
"""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any, Final

import httpx
import orjson

from gateway.transports.http import BODY_DEADLINE_SECONDS, MAX_BODY_BYTES

# 32 `tools/list` in one batch (1.7 KB): each answer is about 2 MB, so it is the largest answer a
# small request can ask for (review #9).
LISTING_BATCH: Final = orjson.dumps(
    [{"jsonrpc": "2.0", "id": index, "method": "tools/list"} for index in range(32)]
)
MADE_UP_KEY: Final = "made-up"
_ENDPOINT: Final = re.compile(rb"data: (\S+)\n")
_RECEIVE_BUFFER_BYTES: Final = 4096


def rss_mib(pid: int) -> float:
    """The process's resident set size, in MiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def open_unread_stream(port: int, host: str, api_key: str = MADE_UP_KEY) -> tuple[socket.socket, str]:
    """Open `GET /sse` on 127.0.0.1:`port`, read up to its endpoint event and stop reading there."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER_BYTES)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        f"GET /sse HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
        f"x-openphone-api-key: {api_key}\r\n\r\n".encode()
    )
    received = b""
    while (found := _ENDPOINT.search(received)) is None:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError("the stream ended before its endpoint event")
        received += chunk
    return sock, found.group(1).decode()


def is_dropped(sock: socket.socket, within: float) -> bool:
    """Read what the server sent until it closes or resets the connection; False if still open after
    `within` seconds of silence."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def slow_uploads(port: int, host: str, count: int) -> list[bytes]:
    """`count` connections each send all but the last byte of a 1 MiB `POST /mcp` body and wait;
    the status line each is answered with (b"" when the server closed without one)."""
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nx-openphone-api-key: {MADE_UP_KEY}\r\n"
        f"Content-Length: {MAX_BODY_BYTES}\r\n\r\n"
    ).encode()
    uploads = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
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


def paced_burst(
    base_url: str, host: str, calls: int, pad_bytes: int = 0, api_key: str = MADE_UP_KEY
) -> list[str]:
    """`calls` concurrent `get-message` calls of a message that does not exist, with one key (each
    carrying `pad_bytes` in `params._meta`); the text of each answer, which must be a tool error."""
    return asyncio.run(_burst(base_url, host, calls, pad_bytes, api_key))


async def _burst(base_url: str, host: str, calls: int, pad_bytes: int, api_key: str) -> list[str]:
    headers = {
        "host": host,
        "content-type": "application/json",
        "accept": "application/json",
        "x-openphone-api-key": api_key,
        "mcp-protocol-version": "2025-06-18",
    }
    limits = httpx.Limits(max_connections=calls)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60, limits=limits) as client:
        posts = (client.post("/mcp", content=_get_message(n, pad_bytes)) for n in range(calls))
        answers = await asyncio.gather(*posts)
    return [_text(answer) for answer in answers]


def _get_message(request_id: int, pad_bytes: int) -> bytes:
    params: dict[str, Any] = {"name": "get-message", "arguments": {"id": "ACabc"}}
    if pad_bytes:
        params["_meta"] = {"pad": "x" * pad_bytes}
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params})


def _text(answer: httpx.Response) -> str:
    if answer.status_code != 200:
        raise AssertionError(f"a paced call was answered {answer.status_code}")
    result: dict[str, Any] = answer.json()["result"]
    if result.get("isError") is not True:
        raise AssertionError("a paced call of a message that does not exist succeeded")
    return str(result["content"][0]["text"])
