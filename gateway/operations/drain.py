"""Graceful drain: on SIGTERM, end every SSE stream cleanly so its client reconnects elsewhere.

uvicorn stops accepting connections on SIGTERM and waits (up to the graceful-shutdown timeout) for
open ones. An SSE stream never ends by itself, so without this it would hold the machine for the
whole timeout and then be cut. Each stream registers how to stop it while it is open, and
`Drain.begin` (called from the signal handler) calls them all, so every stream closes its response
properly. Registering costs no task per stream, which matters with thousands of idle streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType


class Drain:
    """A one-way switch from serving to draining, safe to flip from a signal handler."""

    def __init__(self) -> None:
        self.draining = False
        self._stops: set[Callable[[], None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def begin(self) -> None:
        """Start draining: every registered stop is called soon after, on the serving loop."""
        self.draining = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop_all)

    def calls(self, stop: Callable[[], None]) -> _Registered:
        """Within the block, draining calls `stop` (at once if it has already begun)."""
        return _Registered(self, stop)

    def _stop_all(self) -> None:
        for stop in list(self._stops):
            stop()


class _Registered:
    """`Drain.calls`'s context: a class, as it lives as long as an idle stream does."""

    __slots__ = ("_drain", "_stop")

    def __init__(self, drain: Drain, stop: Callable[[], None]) -> None:
        self._drain = drain
        self._stop = stop

    def __enter__(self) -> None:
        drain = self._drain
        drain._loop = asyncio.get_running_loop()
        drain._stops.add(self._stop)
        if drain.draining:
            self._stop()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._drain._stops.discard(self._stop)
