"""A bound on request heads: uvicorn's httptools protocol buffers headers of any size (review #10).

RFC 6585 §5: 431 Request Header Fields Too Large. The request line and headers of one request may
take MAX_HEADER_BYTES; past that the connection is answered 431 and closed before the app sees the
request. httptools has no limit of its own and keeps a partial header value in memory until it ends,
so the bytes are counted as they arrive. h11 has a limit, but costs the hot path several times more.

Each request's scope also carries `ABORT_EXTENSION`, which drops its connection: a stream whose
client stopped reading cannot be ended by a final write (review 2026-12-07 #1).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.edge.write_coalescing import CoalescingTransport
from gateway.transports.streaming import ABORT_EXTENSION

# The largest legitimate head here is a bearer token (at most 5,120 characters) plus ordinary headers;
# Node.js allows 16 KiB, nginx 32 KiB by default.
MAX_HEADER_BYTES: Final = 32 * 1024

_REFUSAL_BODY: Final = b"The request headers are too large.\n"
_REFUSAL: Final = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    + b"content-length: %d\r\n" % len(_REFUSAL_BODY)
    + b"connection: close\r\n\r\n"
    + _REFUSAL_BODY
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request whose head exceeds MAX_HEADER_BYTES with 431.

    Two counts: the bytes received while a head is incomplete (a head spread over many reads, which
    httptools would otherwise buffer whole), and, once it is complete, the head's own parts (a head
    that arrived in one read). The app never sees a refused request.

    It writes through `CoalescingTransport`, so a response's head and body leave in one write.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._received_in_head = 0
        self._refused = False

    # The same signature as uvicorn's own override (asyncio.Protocol declares a BaseTransport).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._in_head and not self._refused:
            # The whole read counts, even bytes that ended a pipelined predecessor: a safe over-count.
            self._received_in_head += len(data)
            if self._received_in_head > MAX_HEADER_BYTES:
                self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._received_in_head = 0
        self.scope["extensions"] = {ABORT_EXTENSION: {"abort": self._abort}}

    def _abort(self) -> None:
        self.transport.abort()

    def on_headers_complete(self) -> None:
        self._in_head = False
        # Counted once per request from what the parser handed over (": " and CRLF per header).
        head_bytes = len(self.url) + 4 * len(self.headers) + sum(len(n) + len(v) for n, v in self.headers)
        if head_bytes > MAX_HEADER_BYTES:
            self._refuse()
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse(self) -> None:
        self._refused = True
        self.transport.write(_REFUSAL)
        self.transport.close()
