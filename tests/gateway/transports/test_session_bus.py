"""The in-memory session bus and its inboxes: order, back-pressure, closing, and nothing lost."""

from __future__ import annotations

import asyncio

import pytest

from gateway.transports.session_bus import ClosedInbox, Delivery, Inbox, MemorySessionBus

pytestmark = pytest.mark.anyio


async def test_messages_arrive_in_the_order_they_were_put() -> None:
    inbox = Inbox()
    for number in range(5):
        await inbox.put(number)
    inbox.close()
    assert [message async for message in inbox] == [0, 1, 2, 3, 4]


async def test_a_waiting_reader_gets_the_next_message() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(anext(inbox))
    await asyncio.sleep(0)
    await inbox.put("hello")
    assert await asyncio.wait_for(reader, 1) == "hello"


async def test_a_full_inbox_holds_the_sender_until_there_is_room() -> None:
    inbox = Inbox(capacity=2)
    await inbox.put(1)
    await inbox.put(2)
    sender = asyncio.create_task(inbox.put(3))
    await asyncio.sleep(0.01)
    assert not sender.done()
    assert await anext(inbox) == 1
    await asyncio.wait_for(sender, 1)
    inbox.close()
    assert [message async for message in inbox] == [2, 3]


async def test_a_reader_cancelled_as_a_message_arrives_loses_nothing() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(anext(inbox))
    await asyncio.sleep(0)
    await inbox.put("kept")
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert await anext(inbox) == "kept"


async def test_closing_ends_the_reader_and_refuses_senders() -> None:
    inbox = Inbox(capacity=1)
    await inbox.put("last")
    waiting = asyncio.create_task(inbox.put("never"))
    await asyncio.sleep(0)
    inbox.close()
    with pytest.raises(ClosedInbox):
        await waiting
    with pytest.raises(ClosedInbox):
        await inbox.put("late")
    assert [message async for message in inbox] == ["last"]


async def test_the_bus_delivers_only_to_live_sessions() -> None:
    bus = MemorySessionBus()
    assert await bus.deliver("nobody", {"id": 1}) is Delivery.GONE
    async with bus.subscribe("session") as inbox:
        assert len(bus) == 1
        assert await bus.deliver("session", {"id": 1}) is Delivery.DELIVERED
        assert await anext(inbox) == {"id": 1}
    assert len(bus) == 0
    assert await bus.deliver("session", {"id": 2}) is Delivery.GONE


async def test_delivery_to_a_stream_that_stopped_reading_gives_up() -> None:
    bus = MemorySessionBus(capacity=1, delivery_timeout=0.05)
    async with bus.subscribe("session"):
        assert await bus.deliver("session", 1) is Delivery.DELIVERED
        assert await bus.deliver("session", 2) is Delivery.GONE
