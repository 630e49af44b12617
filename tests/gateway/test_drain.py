"""The drain switch: SIGTERM cancels every open stream's scope, with no task per stream."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from gateway.drain import Drain

pytestmark = pytest.mark.anyio


async def test_beginning_the_drain_cancels_every_registered_scope() -> None:
    drain = Drain()
    ended: list[int] = []

    async def stream(number: int) -> None:
        with anyio.CancelScope() as scope, drain.cancels(scope):
            await anyio.sleep_forever()
        ended.append(number)

    async with anyio.create_task_group() as group:
        for number in range(3):
            group.start_soon(stream, number)
        await anyio.wait_all_tasks_blocked()
        drain.begin()
    assert sorted(ended) == [0, 1, 2]
    assert drain.draining


async def test_a_scope_registered_after_the_drain_began_is_cancelled_at_once() -> None:
    drain = Drain()
    drain.begin()
    with anyio.CancelScope() as scope, drain.cancels(scope):
        await anyio.sleep_forever()
    assert scope.cancelled_caught


async def test_a_finished_stream_is_forgotten() -> None:
    drain = Drain()
    with anyio.CancelScope() as scope, drain.cancels(scope):
        await anyio.lowlevel.checkpoint()
    drain.begin()
    await anyio.wait_all_tasks_blocked()
    assert not scope.cancel_called
