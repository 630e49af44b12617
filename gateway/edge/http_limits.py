"""A bound on request heads: uvicorn's httptools protocol buffers headers of any size (review #10).

RFC 6585 §5: 431 Request Header Fields Too Large. The request line and headers of one request may
take MAX_HEADER_BYTES; past that the connection is answered 431 and closed before the app sees the
request. httptools has no limit of its own and keeps a partial header value in memory until it ends,
so the bytes are counted as they arrive. h11 has a limit, but costs the hot path several times more.

A chunked body's trailer section is a second head the parser buffers the same way (second review
#3), and uvicorn appended its fields to the request's headers: they are bounded alike, and dropped.
The Host header is settled here too (`settle_host`): the edge sees one Host, the request's authority.
Each request's scope also carries `ABORT_EXTENSION`, which drops its connection: a stream whose
client stopped reading cannot be ended by a final write (review 2026-12-07 #1).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.edge.write_coalescing import CoalescingTransport
from gateway.transports.streaming import ABORT_EXTENSION

# The largest legitimate head here is a bearer token (at most 5,120 characters) plus ordinary headers;
# Node.js allows 16 KiB, nginx 32 KiB by default.
MAX_HEADER_BYTES: Final = 32 * 1024

_WEB_SCHEMES: Final = frozenset({b"http", b"https"})
_AUTHORITY_END: Final = re.compile(rb"[/?#]")

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

    Two counts: the bytes that are not body, received since the body last made progress (a head or
    a trailer section spread over many reads, which httptools would otherwise buffer whole), and,
    once the head is complete, its own parts (a head that arrived in one read). The app never sees a
    refused head. Trailer fields never reach the app: the headers are final when the head ends.

    It writes through `CoalescingTransport`, so a response's head and body leave in one write.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._without_body = 0
        self._body_progressed = False
        self._refused = False

    # The same signature as uvicorn's own override (asyncio.Protocol declares a BaseTransport).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._body_progressed = False
        super().data_received(data)
        if self._refused:
            return
        if self._body_progressed:
            # Chunk framing between body bytes is a few bytes a chunk; a run of reads with no body
            # byte and no chunk is a head, a trailer section or a chunk extension growing.
            self._without_body = 0
            return
        # The whole read counts, even bytes that ended a pipelined predecessor: a safe over-count.
        self._without_body += len(data)
        if self._without_body > MAX_HEADER_BYTES:
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._without_body = 0
        self.scope["extensions"] = {ABORT_EXTENSION: {"abort": self._abort}}

    def _abort(self) -> None:
        self.transport.abort()

    def on_header(self, name: bytes, value: bytes) -> None:
        # RFC 9110 §6.5.1: a trailer field MUST NOT be merged into the header section unless its
        # definition allows it; this server defines none, and a credential or a proxy-set header
        # supplied after the body must not count (second review #3). Trailers are dropped.
        if self._in_head:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        # Counted once per request from what the parser handed over (": " and CRLF per header).
        head_bytes = len(self.url) + 4 * len(self.headers) + sum(len(n) + len(v) for n, v in self.headers)
        if head_bytes > MAX_HEADER_BYTES:
            self._refuse()
            return
        problem = settle_host(self.url, self.headers)
        if problem is not None:
            self._refused = True
            self.send_400_response(problem)
            return
        super().on_headers_complete()

    def on_chunk_header(self) -> None:
        self._body_progressed = True

    def on_body(self, body: bytes) -> None:
        self._body_progressed = True
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse(self) -> None:
        self._refused = True
        # A response already under way for this request cannot be replaced: the connection just ends.
        if self._in_head or self.cycle is None or not self.cycle.response_started:
            self.transport.write(_REFUSAL)
        self.transport.close()


def settle_host(target: bytes, headers: list[tuple[bytes, bytes]]) -> str | None:
    """Make the one Host header name the request's authority, or say why the request gets 400.

    RFC 9112 §3.2: a request with more than one Host field line MUST get 400; two names for one
    request are how cache poisoning and request smuggling start. §3.2.2: for an absolute-form target
    the server MUST ignore Host and use the target's authority, so the authority replaces Host here
    and the edge's Host check judges it. `headers` (lower-cased names) is changed in place.
    """
    if sum(1 for name, _ in headers if name == b"host") > 1:
        return "A request may carry only one Host header."
    if target.startswith(b"/") or target == b"*":
        return None
    scheme, separator, rest = target.partition(b"://")
    authority = _AUTHORITY_END.split(rest, maxsplit=1)[0]
    if not separator or scheme.lower() not in _WEB_SCHEMES or not authority or b"@" in authority:
        return "The request target must be a path, or an http(s) URL naming only a host."
    headers[:] = [(name, value) for name, value in headers if name != b"host"]
    headers.append((b"host", authority))
    return None
