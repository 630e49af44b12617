"""The review's reproduction of 2026-12-07 #1, for the tests and the benchmark: a legacy SSE stream
opened on a raw socket with a tiny receive buffer and never read, and the process's resident memory.
"""

from __future__ import annotations

import re
import socket
from typing import Final

import orjson

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
