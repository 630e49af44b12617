"""One open legacy SSE stream's moving parts, and what bounds and ends them (review 2026-12-07 #1,
issue 24 #9).

A stream that is never read must not make the process hold every answer posted for it: its
handlers are bounded per stream and per process, what waits to be written is bounded by its
`EventWriter`, and what waits to be handled by its inbox. `StreamsByGrant` finds the streams an
OAuth token or sign-in opened, so revoking it closes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from starlette.types import Scope, Send

from gateway.transports.session_bus import Subscription
from gateway.transports.streaming import ABORT_EXTENSION, EventWriter

logger = logging.getLogger(__name__)

# Handlers answering one stream's messages at once, and all streams' in this process: a stream
# takes its next message only when both have room, so what a session posts beyond them waits in its
# bounded inbox, and past that is refused.
HANDLERS_PER_SESSION: Final = 8
HANDLERS_PER_PROCESS: Final = 256


class StreamsByGrant:
    """The open streams by the revocable grants (`Principal.revocation_ids`) that opened them."""

    def __init__(self) -> None:
        self._ends: dict[str, set[Callable[[], None]]] = {}

    @contextmanager
    def watch(self, grants: Iterable[str], end: Callable[[], None]) -> Iterator[None]:
        """While the context is open, revoking any of `grants` calls `end`."""
        grants = tuple(grants)
        for grant in grants:
            self._ends.setdefault(grant, set()).add(end)
        try:
            yield
        finally:
            for grant in grants:
                ends = self._ends.get(grant)
                if ends is not None:
                    ends.discard(end)
                    if not ends:
                        del self._ends[grant]

    def end(self, grant: str) -> None:
        """`grant` was revoked (here or on any machine): close every stream it opened."""
        for end in self._ends.pop(grant, ()):
            end()

    def __len__(self) -> int:
        return len(self._ends)


class LegacyStream:
    """One open stream's inbox, writer and handlers, and `end`, which stops it at once."""

    __slots__ = ("_abort", "handlers", "inbox", "revoked", "writer")

    def __init__(self, inbox: Subscription, send: Send, scope: Scope, process: asyncio.Semaphore) -> None:
        self.inbox = inbox
        self.revoked = False
        self.handlers = Handlers(self.end, process)
        self.writer = EventWriter(send, on_stalled=self._stalled)
        abort = scope.get("extensions", {}).get(ABORT_EXTENSION, {}).get("abort")
        self._abort: Callable[[], None] | None = abort if callable(abort) else None

    def end(self) -> None:
        """Stop now: drop what is queued and cancel what is running."""
        self.inbox.abandon()
        self.handlers.stop()

    def revoke(self) -> None:
        """The grant that opened the stream was revoked: end it (its response is then finished)."""
        self.revoked = True
        self.end()

    def _stalled(self) -> None:
        # The client is not reading, so no final event would reach it: drop the connection.
        self.end()
        if self._abort is not None:
            self._abort()


class Handlers:
    """The tasks answering one stream's messages: concurrent, bounded, and cancelled when it ends.

    At most HANDLERS_PER_SESSION run, and each also takes one of the process's `process` slots.
    A handler that fails (the protocol core answers every error itself, so this is a bug) is
    logged and ends the stream, as a task group would.
    """

    __slots__ = ("_on_failure", "_process", "_session", "_stopped", "_tasks")

    def __init__(self, on_failure: Callable[[], None], process: asyncio.Semaphore) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_failure = on_failure
        self._session = asyncio.Semaphore(HANDLERS_PER_SESSION)
        self._process = process
        self._stopped = False

    async def reserve(self) -> bool:
        """Wait for a free slot of this stream's and of the process's; False once stopped (none held)."""
        await self._session.acquire()
        try:
            await self._process.acquire()
        except BaseException:
            self._session.release()
            raise
        if self._stopped:
            self._release()
            return False
        return True

    def start(self, call: Coroutine[Any, Any, None]) -> None:
        """Run `call` in the slot `reserve` took."""
        task = asyncio.get_running_loop().create_task(call)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def stop(self) -> None:
        """Cancel every handler still running; `reserve` answers False from now on."""
        self._stopped = True
        for task in self._tasks:
            task.cancel()

    async def cancel(self) -> None:
        """Cancel every handler still running and wait until they have all stopped."""
        self.stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def _release(self) -> None:
        self._process.release()
        self._session.release()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._release()
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("answering a legacy SSE message failed", exc_info=error)
            self._on_failure()
