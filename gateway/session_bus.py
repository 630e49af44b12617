"""The session bus: carries a legacy-SSE client's POSTed messages to the process holding its stream.

An SSE stream lives in one process but the POST for it may land on any. `SessionBus` is the seam:
in memory here, Redis pub/sub (or Fly's `fly-replay`) in a multi-machine deployment, without the
transports changing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

# A client that posts faster than its own stream drains is held back once this many messages wait.
INBOX_CAPACITY: Final = 256
DELIVERY_TIMEOUT_SECONDS: Final = 10.0


class SessionBus(Protocol):
    """Delivers messages to live sessions, wherever their stream is held."""

    def subscribe(self, session_id: str) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        """Register a live session for as long as the context is open, yielding its messages."""

    async def deliver(self, session_id: str, message: Any) -> bool:
        """Hand `message` to the session's stream; False when no live session has that id."""


class MemorySessionBus:
    """The single-process bus: a bounded in-memory inbox per live session."""

    def __init__(self) -> None:
        self._inboxes: dict[str, MemoryObjectSendStream[Any]] = {}

    @asynccontextmanager
    async def subscribe(self, session_id: str) -> AsyncIterator[MemoryObjectReceiveStream[Any]]:
        """Register `session_id` and yield its inbox until the stream ends."""
        sender, receiver = anyio.create_memory_object_stream[Any](INBOX_CAPACITY)
        self._inboxes[session_id] = sender
        try:
            async with receiver:
                yield receiver
        finally:
            del self._inboxes[session_id]
            sender.close()

    async def deliver(self, session_id: str, message: Any) -> bool:
        """Queue `message` for the session; waits (bounded) while its inbox is full."""
        inbox = self._inboxes.get(session_id)
        if inbox is None:
            return False
        try:
            with anyio.fail_after(DELIVERY_TIMEOUT_SECONDS):
                await inbox.send(message)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, TimeoutError):
            return False
        return True

    def __len__(self) -> int:
        return len(self._inboxes)
