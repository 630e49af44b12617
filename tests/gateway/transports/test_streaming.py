"""The disconnect watch of a Streamable HTTP call (`gateway/transports/streaming.py`)."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message

from gateway.protocol.cancel_scope import CallScope
from gateway.transports.streaming import DisconnectWatch

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


async def test_a_call_that_ends_before_the_delay_never_reads_the_connection() -> None:
    connection = Connection()
    with CallScope() as scope:
        watch = DisconnectWatch(connection.receive, scope, DELAY)
        await asyncio.sleep(0)
        watch.stop()
    await asyncio.sleep(DELAY * 2)
    assert (connection.reads, scope.cancel_called) == (0, False)


async def test_a_client_that_left_before_the_delay_still_cancels_the_call() -> None:
    connection = Connection()
    connection.gone.set()
    with CallScope() as scope:
        watch = DisconnectWatch(connection.receive, scope, DELAY)
        try:
            await asyncio.sleep(30)
        finally:
            watch.stop()
    assert (connection.reads, scope.cancelled_caught) == (1, True)


async def test_a_client_leaving_during_a_long_call_cancels_it() -> None:
    connection = Connection()
    with CallScope() as scope:
        watch = DisconnectWatch(connection.receive, scope, DELAY)
        try:
            await asyncio.sleep(DELAY * 3)
            assert not scope.cancel_called
            connection.gone.set()
            await asyncio.sleep(30)
        finally:
            watch.stop()
    assert scope.cancelled_caught


async def test_stopping_after_the_watch_began_ends_its_task() -> None:
    connection = Connection()
    tasks_before = len(asyncio.all_tasks())
    with CallScope() as scope:
        watch = DisconnectWatch(connection.receive, scope, DELAY)
        await asyncio.sleep(DELAY * 3)
        assert (connection.reads, len(asyncio.all_tasks())) == (1, tasks_before + 1)
        watch.stop()
    await asyncio.sleep(0)
    assert (len(asyncio.all_tasks()), scope.cancel_called) == (tasks_before, False)
