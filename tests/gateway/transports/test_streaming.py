"""The disconnect watches of Streamable HTTP calls (`gateway/transports/streaming.py`)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message

from gateway.protocol.cancel_scope import CallScope
from gateway.transports.streaming import DisconnectWatches, EventWriter

pytestmark = pytest.mark.anyio

DELAY = 0.05


class Connection:
    """An ASGI `receive` after the body was read: it answers only once the client has gone."""

    def __init__(self) -> None:
        self.gone = asyncio.Event()
        self.reads = 0

    async def receive(self) -> Message:
        self.reads += 1
        await self.gone.wait()
        return {"type": "http.disconnect"}


async def watched_call(watches: DisconnectWatches, connection: Connection, seconds: float) -> CallScope:
    """A call running `seconds` under `watches`; its scope once it has ended, cancelled or not."""
    with CallScope() as scope:
        watches.start(connection.receive, scope)
        try:
            await asyncio.sleep(seconds)
        finally:
            watches.stop(scope)
    return scope


async def test_a_call_that_ends_before_the_delay_never_reads_the_connection() -> None:
    connection = Connection()
    watches = DisconnectWatches(DELAY)
    with CallScope() as scope:
        watches.start(connection.receive, scope)
        await asyncio.sleep(0)
        watches.stop(scope)
    await asyncio.sleep(DELAY * 3)
    assert (connection.reads, scope.cancel_called) == (0, False)


async def test_a_client_that_left_before_the_delay_still_cancels_the_call() -> None:
    connection = Connection()
    connection.gone.set()
    scope = await watched_call(DisconnectWatches(DELAY), connection, 30)
    assert (connection.reads, scope.cancelled_caught) == (1, True)


async def test_a_client_leaving_during_a_long_call_cancels_it() -> None:
    connection = Connection()
    watches = DisconnectWatches(DELAY)
    with CallScope() as scope:
        watches.start(connection.receive, scope)
        try:
            await asyncio.sleep(DELAY * 3)
            assert not scope.cancel_called
            connection.gone.set()
            await asyncio.sleep(30)
        finally:
            watches.stop(scope)
    assert scope.cancelled_caught


async def test_stopping_after_the_watch_began_ends_its_task() -> None:
    connection = Connection()
    watches = DisconnectWatches(DELAY)
    tasks_before = len(asyncio.all_tasks())
    with CallScope() as scope:
        watches.start(connection.receive, scope)
        await asyncio.sleep(DELAY * 3)
        assert (connection.reads, len(asyncio.all_tasks())) == (1, tasks_before + 1)
        watches.stop(scope)
    await asyncio.sleep(0)
    assert (len(asyncio.all_tasks()), scope.cancel_called) == (tasks_before, False)


async def test_only_the_call_whose_client_left_is_cancelled_and_each_is_watched_once() -> None:
    """Calls share one timer; a call that starts later waits its own delay."""
    staying, leaving, late = Connection(), Connection(), Connection()
    watches = DisconnectWatches(DELAY)
    outcomes: dict[str, bool] = {}

    async def call(name: str, connection: Connection, runs: float) -> None:
        outcomes[name] = (await watched_call(watches, connection, runs)).cancelled_caught

    leaving.gone.set()
    first = asyncio.gather(call("staying", staying, DELAY * 4), call("leaving", leaving, 30))
    await asyncio.sleep(DELAY * 2.5)
    await asyncio.gather(first, call("late", late, DELAY * 0.5))
    assert outcomes == {"staying": False, "leaving": True, "late": False}
    assert (staying.reads, leaving.reads, late.reads) == (1, 1, 0)


async def test_the_timer_stops_once_no_call_waits_and_starts_again_with_the_next() -> None:
    connection = Connection()
    connection.gone.set()
    watches = DisconnectWatches(DELAY)
    with CallScope() as scope:
        watches.start(connection.receive, scope)
        watches.stop(scope)
    await asyncio.sleep(DELAY * 3)
    scope = await watched_call(watches, connection, 30)
    assert (connection.reads, scope.cancelled_caught) == (1, True)


async def test_a_bounded_stream_whose_client_stops_reading_is_stalled_and_drops_later_writes() -> None:
    """Review 2026-12-07 #1: a write the server does not take within the send timeout stalls it."""
    sent: list[Message] = []
    stalls: list[str] = []
    flowing = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and message["body"] == b"event: message\ndata: 2\n\n":
            await flowing.wait()
        sent.append(message)

    writer = EventWriter(send, on_stalled=lambda: stalls.append("stalled"), send_timeout=0.05)
    await writer.message(1)
    await writer.message(2)
    await writer.message(3)
    assert (stalls, writer.stalled) == (["stalled"], True)
    assert [message.get("body") for message in sent] == [None, b"event: message\ndata: 1\n\n"]


async def test_a_bounded_stream_with_too_much_waiting_is_stalled_at_once() -> None:
    stalls: list[str] = []
    never = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            await never.wait()

    writer = EventWriter(send, on_stalled=lambda: stalls.append("stalled"), max_pending=100)
    waiting = asyncio.create_task(writer.event(b"x" * 80))
    await asyncio.sleep(0)
    await writer.event(b"y" * 80)
    assert stalls == ["stalled"]
    waiting.cancel()
