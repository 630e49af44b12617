"""Legacy-SSE delivery through Redis pub/sub (`gateway/redis/session_bus.py`), two "machines" in one
test process, each with its own connections, on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import orjson
import pytest

from gateway.errors import HTTPError
from gateway.keys import ServerKeys
from gateway.redis.connection import connect
from gateway.redis.pubsub import Channel, PubSubHub
from gateway.redis.send_budget import BURST_BYTES
from gateway.redis.session_bus import MAX_MESSAGE_BYTES, RedisSessionBus, session_channel
from gateway.transports.session_bus import BusUnavailable, Delivery
from tests.redis_server import RedisServer
from tests.toolkit import eventually

pytestmark = pytest.mark.anyio

KEYS = ServerKeys((b"k" * 32,))


def _ignore(data: bytes) -> None:
    """A permanent channel nobody publishes to."""


async def machine(
    stack: AsyncExitStack, redis_url: str, capacity: int = 256
) -> tuple[RedisSessionBus, PubSubHub]:
    clients = connect(redis_url)
    stack.push_async_callback(clients.aclose)
    hub = PubSubHub(clients.commands, {"test:permanent": Channel(_ignore)})
    hub.start()
    stack.push_async_callback(hub.aclose)

    async def connected() -> bool:
        return hub.connected

    await eventually(connected, 5)
    return RedisSessionBus(hub, clients.publisher, KEYS, capacity), hub


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    opened = AsyncExitStack()
    try:
        yield opened
    finally:
        # Closing must not hang, whatever state the test left Redis in.
        async with asyncio.timeout(10):
            await opened.aclose()


async def test_a_message_posted_on_another_machine_reaches_the_stream(
    stack: AsyncExitStack, redis_url: str
) -> None:
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        assert await other.deliver("session-1", {"id": 1}) is Delivery.DELIVERED
        assert await anext(inbox) == {"id": 1}


async def test_messages_keep_their_order_from_any_machine(stack: AsyncExitStack, redis_url: str) -> None:
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        for index in range(30):
            assert (
                await (owner if index % 3 == 0 else other).deliver("session-1", index) is Delivery.DELIVERED
            )
        assert [await anext(inbox) for _ in range(30)] == list(range(30))


async def test_a_session_nobody_holds_is_gone(stack: AsyncExitStack, redis_url: str) -> None:
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1"):
        pass
    assert await other.deliver("session-1", {"id": 1}) is Delivery.GONE
    assert await other.deliver("never-opened", {"id": 1}) is Delivery.GONE
    assert len(owner) == 0


async def test_the_channel_names_a_hash_of_the_session_not_the_session(stack: AsyncExitStack) -> None:
    channel = session_channel("signed.session-id.with-fingerprint")
    assert channel.startswith("sse:")
    assert "session" not in channel
    assert len(channel) == len("sse:") + 32


async def test_a_stream_that_falls_behind_is_closed_not_waited_for(
    stack: AsyncExitStack, redis_url: str
) -> None:
    owner, _ = await machine(stack, redis_url, capacity=2)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        for index in range(3):
            assert await other.deliver("session-1", index) is Delivery.DELIVERED

        async def closed() -> bool:
            return inbox.closed

        # The third message overflows the inbox: the stream ends after what it already holds.
        await eventually(closed, 5)
        assert [message async for message in inbox] == [0, 1]


async def test_with_redis_down_streams_cannot_open_and_remote_posts_are_unavailable(
    stack: AsyncExitStack, redis_url: str, redis_server: RedisServer
) -> None:
    owner, owner_hub = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        redis_server.stop()
        try:
            assert await other.deliver("session-1", 1) is Delivery.UNAVAILABLE

            async def disconnected() -> bool:
                return not owner_hub.connected

            await eventually(disconnected, 5)
            # The stream's own machine still takes its messages, without Redis.
            assert await owner.deliver("session-1", 2) is Delivery.DELIVERED
            assert await anext(inbox) == 2
            with pytest.raises(BusUnavailable):
                async with owner.subscribe("session-2"):
                    pass
        finally:
            redis_server.start()


async def test_garbage_published_on_a_streams_channel_is_dropped_and_the_stream_lives_on(
    stack: AsyncExitStack, redis_url: str, redis_server: RedisServer
) -> None:
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        redis_server.client().publish(session_channel("session-1"), b"\xff not json")
        assert await other.deliver("session-1", {"id": 2}) is Delivery.DELIVERED
        assert await anext(inbox) == {"id": 2}


async def test_a_session_holding_its_capacity_is_busy_from_any_machine_until_one_is_answered(
    stack: AsyncExitStack, redis_url: str
) -> None:
    """Review 2026-12-07 #1: the count of what a session holds is on Redis, checked on publishing."""
    owner, _ = await machine(stack, redis_url, capacity=2)
    other, _ = await machine(stack, redis_url, capacity=2)
    async with owner.subscribe("session-1") as inbox:
        assert [await other.deliver("session-1", index) for index in range(3)] == [
            Delivery.DELIVERED,
            Delivery.DELIVERED,
            Delivery.BUSY,
        ]
        assert await anext(inbox) == 0
        assert await other.deliver("session-1", 2) is Delivery.BUSY
        await inbox.done()
        assert await other.deliver("session-1", 2) is Delivery.DELIVERED


async def test_a_full_session_that_closed_is_gone_not_busy(stack: AsyncExitStack, redis_url: str) -> None:
    owner, _ = await machine(stack, redis_url, capacity=1)
    other, _ = await machine(stack, redis_url, capacity=1)
    async with owner.subscribe("session-1"):
        assert await other.deliver("session-1", 1) is Delivery.DELIVERED
    assert await other.deliver("session-1", 2) is Delivery.GONE


async def test_a_message_published_without_the_seal_never_reaches_the_stream(
    stack: AsyncExitStack, redis_url: str, redis_server: RedisServer
) -> None:
    """Security review 2026-12-07 #2: a PUBLISH on a stream's channel was run with its owner's key."""
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1") as inbox:
        injected = orjson.dumps({"jsonrpc": "2.0", "id": 777, "method": "tools/call"})
        assert redis_server.client().publish(session_channel("session-1"), injected) == 1
        assert await other.deliver("session-1", {"id": 2}) is Delivery.DELIVERED
        assert await anext(inbox) == {"id": 2}


async def test_a_reader_of_redis_sees_no_message_body(
    stack: AsyncExitStack, redis_url: str, redis_server: RedisServer
) -> None:
    owner, _ = await machine(stack, redis_url)
    other, _ = await machine(stack, redis_url)
    sniffer = redis_server.client().pubsub()
    sniffer.psubscribe("*")
    sniffer.get_message(timeout=1)
    async with owner.subscribe("session-1") as inbox:
        assert await other.deliver("session-1", {"content": "my secret text 1234"}) is Delivery.DELIVERED
        assert await anext(inbox) == {"content": "my secret text 1234"}
    seen = sniffer.get_message(timeout=1)
    sniffer.close()
    assert seen is not None
    assert seen["channel"] == session_channel("session-1").encode()
    assert b"secret" not in seen["data"]


async def test_a_message_larger_than_the_bound_is_refused_before_it_is_sent(
    stack: AsyncExitStack, redis_url: str
) -> None:
    owner, _ = await machine(stack, redis_url)
    async with owner.subscribe("session-1"):
        with pytest.raises(HTTPError) as refused:
            await owner.deliver("session-1", "x" * MAX_MESSAGE_BYTES)
    assert (refused.value.status_code, refused.value.headers) == (413, {})


async def test_a_session_over_its_budget_is_told_when_to_send_again(
    stack: AsyncExitStack, redis_url: str
) -> None:
    owner, _ = await machine(stack, redis_url)
    message = "x" * (MAX_MESSAGE_BYTES - 16)
    async with owner.subscribe("session-1") as inbox:
        for _ in range(BURST_BYTES // MAX_MESSAGE_BYTES):
            assert await owner.deliver("session-1", message) is Delivery.DELIVERED
        with pytest.raises(HTTPError) as refused:
            await owner.deliver("session-1", message)
        # Another session has its own budget.
        assert await owner.deliver("session-2", {"id": 1}) is Delivery.GONE
        assert [await anext(inbox) for _ in range(BURST_BYTES // MAX_MESSAGE_BYTES)] == [message] * 4
    assert (refused.value.status_code, refused.value.headers) == (429, {"retry-after": "1"})
