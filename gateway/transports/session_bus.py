"""The session bus: carries a legacy-SSE client's POSTed messages to the process holding its stream.

An SSE stream lives in one process but the POST for it may land on any. `SessionBus` is the seam:
`MemorySessionBus` for one process, `gateway.redis.session_bus.RedisSessionBus` (pub/sub) for
several machines, without the transports changing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from enum import StrEnum
from types import TracebackType
from typing import Any, Final, Protocol

# What one session may hold: messages queued on its inbox plus those still being answered. A POST
# past it is refused (429) rather than accepted into a pile the stream is not draining.
INBOX_CAPACITY: Final = 32


class Delivery(StrEnum):
    """What became of a message handed to the bus."""

    DELIVERED = "delivered"  # queued, once, on the stream's inbox
    GONE = "gone"  # no live stream has that session id
    BUSY = "busy"  # the session already holds INBOX_CAPACITY messages: try again once some are answered
    UNAVAILABLE = "unavailable"  # the stream may be live elsewhere, but cannot be reached now


class BusUnavailable(Exception):
    """Raised by `subscribe` when a session cannot be made reachable now (shared state unreachable)."""


class Subscription(Protocol):
    """A live session's messages, in order, until `close` (or the end of the subscription)."""

    def __aiter__(self) -> AsyncIterator[Any]: ...

    async def __anext__(self) -> Any: ...

    def close(self) -> None:
        """Stop: the iteration ends once what is already queued has been read."""

    def abandon(self) -> None:
        """Stop now: what is queued is dropped and the iteration ends."""

    async def done(self) -> None:
        """One message read from here has been answered: it no longer counts against the capacity."""


class SessionBus(Protocol):
    """Delivers messages to live sessions, wherever their stream is held."""

    def subscribe(self, session_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Register a live session for as long as the context is open, yielding its messages.

        Once entered, a message delivered from any process reaches it. Raises BusUnavailable."""

    async def deliver(self, session_id: str, message: Any) -> Delivery:
        """Hand `message` to the session's stream, wherever it is held.

        A bus may refuse a message before sending anything, raising `HTTPError` (413: too large,
        429: the session is over its budget, with `Retry-After`)."""


class Inbox:
    """One session's bounded queue: many senders, one reader (the stream), iterated until closed.

    The capacity counts what is queued and what was read but not yet `done`, so a reader that takes
    messages faster than it answers them still fills it. Built for thousands of idle sessions: the
    buffer and the waiter exist only while something is queued or waiting. A message is taken off
    the queue only by the reader that returns it, so a reader cancelled while a message arrives
    loses nothing: the message waits for the next read.
    """

    __slots__ = ("_capacity", "_closed", "_held", "_items", "_reader")

    def __init__(self, capacity: int = INBOX_CAPACITY) -> None:
        self._capacity = capacity
        self._items: deque[Any] | None = None
        self._reader: asyncio.Future[None] | None = None
        self._held = 0
        self._closed = False

    def put_nowait(self, message: Any) -> None:
        """Queue `message` at once; raises `ClosedInbox` once closed and `FullInbox` when full."""
        if self._closed:
            raise ClosedInbox
        if self._held >= self._capacity:
            raise FullInbox
        if self._items is None:
            self._items = deque()
        self._items.append(message)
        self._held += 1
        _wake(self._reader)

    @property
    def closed(self) -> bool:
        """Whether `close` was called (the reader may still have queued messages to read)."""
        return self._closed

    def close(self) -> None:
        """No more messages: the reader ends once the queue is empty."""
        self._closed = True
        _wake(self._reader)

    def abandon(self) -> None:
        """No more messages, and none of those queued: the reader ends at its next read."""
        if self._items is not None:
            self._held -= len(self._items)
            self._items = None
        self.close()

    async def done(self) -> None:
        self._held -= 1

    def __aiter__(self) -> Inbox:
        return self

    async def __anext__(self) -> Any:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._reader = asyncio.get_running_loop().create_future()
            try:
                await self._reader
            finally:
                self._reader = None
        message = self._items.popleft()
        if not self._items:
            self._items = None
        return message


class ClosedInbox(Exception):
    """The session's stream has ended."""


class FullInbox(Exception):
    """The session's stream has not read what is already queued."""


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class MemorySessionBus:
    """The single-process bus: a bounded in-memory inbox per live session."""

    def __init__(self, capacity: int = INBOX_CAPACITY) -> None:
        self._inboxes: dict[str, Inbox] = {}
        self._capacity = capacity

    def subscribe(self, session_id: str) -> _Subscribed:
        """Register `session_id` and yield its inbox until the stream ends."""
        return _Subscribed(self._inboxes, session_id, Inbox(self._capacity))

    async def deliver(self, session_id: str, message: Any) -> Delivery:
        """Queue `message` for the session, or BUSY at once when its inbox is full."""
        return deliver_locally(self._inboxes.get(session_id), message)

    def __len__(self) -> int:
        return len(self._inboxes)


def deliver_locally(inbox: Inbox | None, message: Any) -> Delivery:
    """Queue `message` on a stream held by this process; never waits."""
    if inbox is None:
        return Delivery.GONE
    try:
        inbox.put_nowait(message)
    except ClosedInbox:
        return Delivery.GONE
    except FullInbox:
        return Delivery.BUSY
    return Delivery.DELIVERED


class _Subscribed:
    """`MemorySessionBus.subscribe`'s context: a class, as it lives as long as an idle stream does."""

    __slots__ = ("_inbox", "_inboxes", "_session_id")

    def __init__(self, inboxes: dict[str, Inbox], session_id: str, inbox: Inbox) -> None:
        self._inboxes = inboxes
        self._session_id = session_id
        self._inbox = inbox

    async def __aenter__(self) -> Inbox:
        self._inboxes[self._session_id] = self._inbox
        return self._inbox

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        del self._inboxes[self._session_id]
        self._inbox.close()
