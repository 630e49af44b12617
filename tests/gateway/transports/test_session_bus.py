"""The in-memory session bus and its inboxes: order, back-pressure, closing, and nothing lost."""

from __future__ import annotations

import asyncio

import pytest

from gateway.transports.session_bus import ClosedInbox, Delivery, FullInbox, Inbox, MemorySessionBus

pytestmark = pytest.mark.anyio


async def test_messages_arrive_in_the_order_they_were_put() -> None:
    inbox = Inbox()
    for number in range(5):
        inbox.put_nowait(number)
    inbox.close()
    assert [message async for message in inbox] == [0, 1, 2, 3, 4]


async def test_a_waiting_reader_gets_the_next_message() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(anext(inbox))
    await asyncio.sleep(0)
    inbox.put_nowait("hello")
    assert await asyncio.wait_for(reader, 1) == "hello"


async def test_a_message_read_but_not_answered_still_counts_against_the_capacity() -> None:
    """Review 2026-12-07 #1: a reader that takes messages faster than it answers them fills it too."""
    inbox = Inbox(capacity=2)
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert [await anext(inbox), await anext(inbox)] == [1, 2]
    with pytest.raises(FullInbox):
        inbox.put_nowait(3)
    await inbox.done()
    inbox.put_nowait(3)
    assert await anext(inbox) == 3


async def test_a_reader_cancelled_as_a_message_arrives_loses_nothing() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(anext(inbox))
    await asyncio.sleep(0)
    inbox.put_nowait("kept")
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert await anext(inbox) == "kept"


async def test_closing_ends_the_reader_after_what_is_queued_and_refuses_senders() -> None:
    inbox = Inbox(capacity=1)
    inbox.put_nowait("last")
    inbox.close()
    with pytest.raises(ClosedInbox):
        inbox.put_nowait("late")
    assert [message async for message in inbox] == ["last"]


async def test_abandoning_drops_what_is_queued() -> None:
    inbox = Inbox()
    inbox.put_nowait("dropped")
    inbox.abandon()
    assert [message async for message in inbox] == []


async def test_the_bus_delivers_only_to_live_sessions() -> None:
    bus = MemorySessionBus()
    assert await bus.deliver("nobody", {"id": 1}) is Delivery.GONE
    async with bus.subscribe("session") as inbox:
        assert len(bus) == 1
        assert await bus.deliver("session", {"id": 1}) is Delivery.DELIVERED
        assert await anext(inbox) == {"id": 1}
    assert len(bus) == 0
    assert await bus.deliver("session", {"id": 2}) is Delivery.GONE


async def test_delivery_to_a_full_session_is_busy_at_once() -> None:
    """Review 2026-12-07 #1: backpressure (429), never a wait nor a 202 for work that piles up."""
    bus = MemorySessionBus(capacity=1)
    async with bus.subscribe("session"):
        assert await bus.deliver("session", 1) is Delivery.DELIVERED
        assert await bus.deliver("session", 2) is Delivery.BUSY
