"""Graceful drain: on SIGTERM, end every SSE stream cleanly so its client reconnects elsewhere.

uvicorn stops accepting connections on SIGTERM and waits (up to the graceful-shutdown timeout) for
open ones. An SSE stream never ends by itself, so without this it would hold the machine for the
whole timeout and then be cut. Each stream registers its cancel scope while it is open, and
`Drain.begin` (called from the signal handler) cancels them all, so every stream closes its response
properly; requests in flight, tool calls included, simply finish. Registering costs no task per
stream, which matters with thousands of idle streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import anyio


class Drain:
    """A one-way switch from serving to draining, safe to flip from a signal handler."""

    def __init__(self) -> None:
        self.draining = False
        self._scopes: set[anyio.CancelScope] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def begin(self) -> None:
        """Start draining: every registered scope is cancelled soon after."""
        self.draining = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._cancel_all)

    @contextmanager
    def cancels(self, scope: anyio.CancelScope) -> Iterator[None]:
        """Within the block, draining cancels `scope` (at once if it has already begun)."""
        self._loop = asyncio.get_running_loop()
        self._scopes.add(scope)
        if self.draining:
            scope.cancel()
        try:
            yield
        finally:
            self._scopes.discard(scope)

    def _cancel_all(self) -> None:
        for scope in list(self._scopes):
            scope.cancel()
