"""Graceful drain: on SIGTERM, end every SSE stream cleanly so its client reconnects elsewhere.

uvicorn stops accepting connections on SIGTERM and waits (up to the graceful-shutdown timeout) for
open ones. An SSE stream never ends by itself, so without this it would hold the machine for the
whole timeout and then be cut. `Drain.begin` (called from the signal handler) wakes every stream,
which closes its response properly; requests in flight, tool calls included, simply finish.
"""

from __future__ import annotations

import asyncio


class Drain:
    """A one-way switch from serving to draining, safe to flip from a signal handler."""

    def __init__(self) -> None:
        self.draining = False
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def begin(self) -> None:
        """Start draining; every `wait()` returns soon after."""
        self.draining = True
        if self._loop is not None and self._event is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self) -> None:
        """Return once draining has begun."""
        if self._event is None:
            self._event = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        if self.draining:
            return
        await self._event.wait()
