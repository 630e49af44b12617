"""The cancel scope a call runs in (`gateway/protocol/cancel_scope.py`), against real asyncio tasks."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from gateway.protocol.cancel_scope import CallScope

pytestmark = pytest.mark.anyio


async def test_cancel_stops_the_call_and_the_task_goes_on() -> None:
    scope = CallScope()
    after: list[str] = []

    async def call() -> str:
        with scope:
            await asyncio.sleep(30)
        after.append("answered")
        await asyncio.sleep(0)
        return "done"

    task = asyncio.create_task(call())
    await asyncio.sleep(0)
    scope.cancel()
    assert await task == "done"
    assert (scope.cancel_called, scope.cancelled_caught, after) == (True, True, ["answered"])
    assert task.cancelling() == 0


async def test_a_call_that_ends_first_is_not_cancelled_by_a_later_cancel() -> None:
    scope = CallScope()
    with scope:
        await asyncio.sleep(0)
    scope.cancel()
    await asyncio.sleep(0)
    current = asyncio.current_task()
    assert current is not None
    assert (scope.cancel_called, scope.cancelled_caught, current.cancelling()) == (False, False, 0)


async def test_cancelling_twice_asks_once() -> None:
    scope = CallScope()
    with scope:
        scope.cancel()
        scope.cancel()
        current = asyncio.current_task()
        assert current is not None
        assert current.cancelling() == 1
        await asyncio.sleep(30)
    assert scope.cancelled_caught


async def test_a_cancellation_from_elsewhere_propagates_even_when_the_scope_was_cancelled_too() -> None:
    scope = CallScope()
    reached: list[str] = []

    async def call() -> None:
        with scope:
            await asyncio.sleep(30)
        reached.append("after the scope")

    task = asyncio.create_task(call())
    await asyncio.sleep(0)
    scope.cancel()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (scope.cancelled_caught, reached, task.cancelled()) == (False, [], True)


async def test_an_inner_scope_catches_only_its_own_cancellation() -> None:
    outer, inner = CallScope(), CallScope()
    seen: list[str] = []
    with outer:
        with inner:
            asyncio.get_running_loop().call_soon(outer.cancel)
            await asyncio.sleep(30)
        seen.append("left the inner scope normally")
    assert (outer.cancelled_caught, inner.cancel_called, inner.cancelled_caught) == (True, False, False)
    assert seen == []


async def test_entering_outside_a_task_is_refused() -> None:
    def enter_in_a_callback() -> None:
        with CallScope():
            pass

    loop = asyncio.get_running_loop()
    failure: asyncio.Future[BaseException] = loop.create_future()

    def run() -> None:
        try:
            enter_in_a_callback()
        except RuntimeError as exc:
            failure.set_result(exc)

    loop.call_soon(run)
    assert str(await failure) == "CallScope must be entered by a task"


async def test_shielded_work_in_a_task_group_child_finishes_when_the_call_is_cancelled() -> None:
    """As `bulk-messages` relies on: a send that started is not cut off by the caller leaving."""
    scope = CallScope()
    finished: list[str] = []
    started = asyncio.Event()

    async def shielded_send() -> None:
        with anyio.CancelScope(shield=True):
            started.set()
            await asyncio.sleep(0.05)
            finished.append("sent")

    async def unshielded_wait() -> None:
        await asyncio.sleep(30)
        finished.append("never")

    async def call() -> None:
        with scope:
            async with anyio.create_task_group() as group:
                group.start_soon(shielded_send)
                group.start_soon(unshielded_wait)

    task = asyncio.create_task(call())
    await started.wait()
    scope.cancel()
    await task
    assert (finished, scope.cancelled_caught, task.cancelled()) == (["sent"], True, False)
