"""The drain switch: SIGTERM stops every open stream through what it registered, with no task each."""

from __future__ import annotations

import asyncio

import pytest

from gateway.operations.drain import Drain

pytestmark = pytest.mark.anyio


async def test_beginning_the_drain_calls_every_registered_stop() -> None:
    drain = Drain()
    stopped: list[int] = []
    with drain.calls(lambda: stopped.append(1)), drain.calls(lambda: stopped.append(2)):
        drain.begin()
        await asyncio.sleep(0)  # the stops run on the serving loop, soon after the signal
        assert sorted(stopped) == [1, 2]
    assert drain.draining


async def test_a_stream_registered_after_the_drain_began_is_stopped_at_once() -> None:
    drain = Drain()
    drain.begin()
    stopped: list[str] = []
    with drain.calls(lambda: stopped.append("late")):
        assert stopped == ["late"]


async def test_a_finished_stream_is_forgotten() -> None:
    drain = Drain()
    stopped: list[str] = []
    with drain.calls(lambda: stopped.append("gone")):
        pass
    drain.begin()
    await asyncio.sleep(0)
    assert stopped == []
