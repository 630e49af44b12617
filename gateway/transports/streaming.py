"""Server-sent events over raw ASGI: framing, a writer several tasks can share, and disconnect watching.

The MCP transports need finer control than a response object gives (start streaming only once a
notification exists, interleave keep-alives, stop on disconnect), so events are written straight to
the ASGI `send` (WHATWG HTML "Server-sent events" §9.2.6 framing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from starlette.types import Receive, Send

from gateway.protocol import jsonrpc
from gateway.protocol.cancel_scope import CallScope
from gateway.transports.http import SSE_MEDIA_TYPE

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS: Final = 15.0
# A bounded stream (`EventWriter(on_stalled=…)`) whose client has not taken a write within this long,
# or that has more than MAX_PENDING_BYTES waiting to be written, is stalled and closed: a client that
# stops reading must not make the process hold every answer meant for it (review 2026-12-07 #1).
SEND_TIMEOUT_SECONDS: Final = 5.0
MAX_PENDING_BYTES: Final = 1024 * 1024
# The ASGI scope extension whose "abort" drops the request's connection (`gateway.edge.http_limits`):
# a stalled stream cannot be ended with a final write its client will not read.
ABORT_EXTENSION: Final = "gateway.abort"
# How long a call runs before its client's disconnect is watched for (`DisconnectWatches`).
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
    """Writes an event stream to one ASGI response; safe to use from several tasks at once.

    With `on_stalled`, the stream is bounded: a write not taken within `send_timeout` seconds, or one
    that would leave more than `max_pending` bytes waiting (beyond a single event, which always may
    wait), stalls it. `on_stalled` is then called once, and every later write is dropped.
    """

    def __init__(
        self,
        send: Send,
        on_stalled: Callable[[], None] | None = None,
        send_timeout: float = SEND_TIMEOUT_SECONDS,
        max_pending: int = MAX_PENDING_BYTES,
    ) -> None:
        self._send = send
        # asyncio's lock allocates its waiter queue only when contended; an idle stream keeps none.
        self._lock = asyncio.Lock()
        self._started = False
        self._on_stalled = on_stalled
        self._send_timeout = send_timeout
        self._max_pending = max_pending
        self._pending = 0
        self._stalled = False

    @property
    def stalled(self) -> bool:
        """Whether the client stopped reading and the stream was given up."""
        return self._stalled

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
        await self._write(b"", more_body=False)

    async def _write(self, chunk: bytes, more_body: bool = True) -> None:
        if self._on_stalled is None:
            async with self._lock:
                await self._start()
                await self._send({"type": "http.response.body", "body": chunk, "more_body": more_body})
            return
        if self._stalled:
            return
        if self._pending and self._pending + len(chunk) > self._max_pending:
            self._stall("more than %d bytes waited to be written", self._max_pending)
            return
        self._pending += len(chunk)
        try:
            async with self._lock:
                if self._stalled:
                    return
                async with asyncio.timeout(self._send_timeout):
                    await self._start()
                    await self._send({"type": "http.response.body", "body": chunk, "more_body": more_body})
        except TimeoutError:
            self._stall("a write waited %g s", self._send_timeout)
        finally:
            self._pending -= len(chunk)

    def _stall(self, reason: str, amount: float) -> None:
        if self._stalled or self._on_stalled is None:
            return
        self._stalled = True
        logger.warning("closing an event stream its client stopped reading: " + reason, amount)
        self._on_stalled()

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


class DisconnectWatches:
    """Runs `cancel_on_disconnect` for each running call, from `delay` seconds after it started.

    Most calls end sooner than that, and for them nothing is made but an entry here: a watcher task
    per call cost more CPU than the rest of the transport's work on a call, and a timer per call
    still 5-7 µs of it (issue 16). One timer ticks every `delay` seconds while calls run, and gives
    each call older than `delay` its watcher, so a call is watched from between `delay` and twice
    `delay` after it started. A client that leaves earlier is still seen then: the server keeps the
    disconnect for `receive` to report. `stop` when the call ends.
    """

    def __init__(self, delay: float = DISCONNECT_WATCH_DELAY) -> None:
        self._delay = delay
        # Calls not watched yet, in the order they started, with when and how to hear their client.
        self._waiting: dict[CallScope, tuple[float, Receive]] = {}
        self._watchers: dict[CallScope, asyncio.Task[None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, receive: Receive, scope: CallScope) -> None:
        loop = asyncio.get_running_loop()
        self._waiting[scope] = (loop.time(), receive)
        if self._timer is None or self._loop is not loop:
            self._loop = loop
            self._timer = loop.call_later(self._delay, self._tick)

    def stop(self, scope: CallScope) -> None:
        if self._waiting.pop(scope, None) is None:
            watcher = self._watchers.pop(scope, None)
            if watcher is not None:
                watcher.cancel()

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() - self._delay
        for scope, (started, receive) in list(self._waiting.items()):
            if started > due:
                break
            del self._waiting[scope]
            self._watchers[scope] = loop.create_task(cancel_on_disconnect(receive, scope))
        self._timer = loop.call_later(self._delay, self._tick) if self._waiting else None
