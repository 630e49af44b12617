"""Server-sent events over raw ASGI: framing, a writer several tasks can share, and disconnect watching.

The MCP transports need finer control than a response object gives (start streaming only once a
notification exists, interleave keep-alives, stop on disconnect), so events are written straight to
the ASGI `send` (WHATWG HTML "Server-sent events" §9.2.6 framing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from starlette.types import Receive, Send

from gateway.protocol import jsonrpc
from gateway.protocol.cancel_scope import CallScope
from gateway.transports.http import SSE_MEDIA_TYPE

KEEPALIVE_SECONDS: Final = 15.0
# How long a call runs before its client's disconnect is watched for (`DisconnectWatch`).
DISCONNECT_WATCH_DELAY: Final = 0.05
_KEEPALIVE_COMMENT: Final = b": keep-alive\n\n"
STREAM_HEADERS: Final = [
    (b"content-type", SSE_MEDIA_TYPE.encode()),
    (b"cache-control", b"no-store"),
    # Ask nginx-style proxies not to buffer the stream (2026-07-28 transports: servers SHOULD send it).
    (b"x-accel-buffering", b"no"),
]


def frame(data: bytes, event: str = "message") -> bytes:
    """One SSE event; `data` must be a single line (compact JSON always is)."""
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


class EventWriter:
    """Writes an event stream to one ASGI response; safe to use from several tasks at once."""

    def __init__(self, send: Send) -> None:
        self._send = send
        # asyncio's lock allocates its waiter queue only when contended; an idle stream keeps none.
        self._lock = asyncio.Lock()
        self._started = False

    @property
    def started(self) -> bool:
        """Whether the response has begun (its status and headers are sent)."""
        return self._started

    async def event(self, data: bytes, event: str = "message") -> None:
        """Send one event, starting the response first if needed."""
        await self._write(frame(data, event))

    async def message(self, payload: Any) -> None:
        """Send one JSON-RPC message (or batch of answers) as an event."""
        await self.event(jsonrpc.encode(payload))

    async def keep_alive(self, receive: Receive, on_disconnect: Callable[[], None], interval: float) -> None:
        """Send an SSE comment every `interval` seconds, so proxies keep the stream open, until the
        client goes away; then call `on_disconnect`. One task does both: an idle stream costs no other."""
        while True:
            # asyncio's own timeout: anyio would keep per-task state for this task as long as it lives.
            try:
                async with asyncio.timeout(interval):
                    await wait_for_disconnect(receive)
            except TimeoutError:
                await self._write(_KEEPALIVE_COMMENT)
                continue
            on_disconnect()
            return

    async def close(self) -> None:
        """End the response (starting it if nothing was written)."""
        async with self._lock:
            await self._start()
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write(self, chunk: bytes) -> None:
        async with self._lock:
            await self._start()
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})

    async def _start(self) -> None:
        if not self._started:
            self._started = True
            # A fresh list: middleware may add to it in place (CORS).
            headers = list(STREAM_HEADERS)
            await self._send({"type": "http.response.start", "status": 200, "headers": headers})


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client has gone away; call only after the request body was read."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def cancel_on_disconnect(receive: Receive, scope: CallScope) -> None:
    """Cancel `scope` when the client goes away (2026-07-28: closing the stream cancels the request)."""
    await wait_for_disconnect(receive)
    scope.cancel()


class DisconnectWatch:
    """Runs `cancel_on_disconnect` for a request's call, from `delay` seconds after the call starts.

    Most calls end sooner than that, and for them no watcher task is ever made: creating, running
    and cancelling one cost more CPU than the rest of the transport's work on a call (issue 16).
    A client that leaves earlier is still seen at `delay`: the server keeps the disconnect for
    `receive` to report, so the call is cancelled at most `delay` late. `stop` when the call ends.
    """

    def __init__(self, receive: Receive, scope: CallScope, delay: float = DISCONNECT_WATCH_DELAY) -> None:
        self._receive = receive
        self._scope = scope
        self._task: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(delay, self._start)

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(cancel_on_disconnect(self._receive, self._scope))

    def stop(self) -> None:
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
