"""`gateway.session_bus.SessionBus` on Redis pub/sub: a legacy-SSE POST on any machine reaches the
machine holding the stream.

Each live session has a channel (`sse:` and a hash of its id, so the signed id itself never reaches
Redis) that only its stream's machine subscribes to, before the stream announces its endpoint. A POST
is PUBLISHed once, never retried (a repeat would run a tool call twice): one receiver means the
owner's connection took it (202), none means no live stream (404), an error means Redis cannot be
reached (503). Redis keeps a channel's messages in publish order, so one session's messages keep
theirs, including those posted to the owner itself. Only while this machine's subscriber connection
is down does a POST for one of its own streams skip Redis, so local streams keep working.

The owner's reader never waits: a stream that lets INBOX_CAPACITY messages pile up is closed (its
client reconnects) rather than stall every other stream of the machine.
"""

from __future__ import annotations

import hashlib
import logging
from types import TracebackType
from typing import Any, Final

import orjson
from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.pubsub import Channel, ChannelUnavailable, PubSubHub
from gateway.transports.session_bus import (
    DELIVERY_TIMEOUT_SECONDS,
    INBOX_CAPACITY,
    BusUnavailable,
    ClosedInbox,
    Delivery,
    FullInbox,
    Inbox,
    deliver_locally,
)

logger = logging.getLogger(__name__)

_CHANNEL_HEX_CHARS: Final = 32


def session_channel(session_id: str) -> str:
    return "sse:" + hashlib.sha256(session_id.encode()).hexdigest()[:_CHANNEL_HEX_CHARS]


class RedisSessionBus:
    """Delivers legacy-SSE messages to whichever machine holds the stream."""

    def __init__(self, hub: PubSubHub, publisher: Redis, capacity: int = INBOX_CAPACITY) -> None:
        self._hub = hub
        self._publisher = publisher
        self._capacity = capacity
        self._local: dict[str, Inbox] = {}

    def subscribe(self, session_id: str) -> _Subscribed:
        return _Subscribed(self, session_id, Inbox(self._capacity))

    async def deliver(self, session_id: str, message: Any) -> Delivery:
        local = self._local.get(session_id)
        if local is not None and not self._hub.connected:
            return await deliver_locally(local, message, DELIVERY_TIMEOUT_SECONDS)
        try:
            receivers = await self._publisher.publish(session_channel(session_id), orjson.dumps(message))
        except UNAVAILABLE:
            return Delivery.UNAVAILABLE
        return Delivery.DELIVERED if receivers else Delivery.GONE

    def __len__(self) -> int:
        return len(self._local)


class _Subscribed:
    """One live session: its inbox, registered here and subscribed on Redis while the stream lasts."""

    __slots__ = ("_bus", "_channel", "_inbox", "_session_id")

    def __init__(self, bus: RedisSessionBus, session_id: str, inbox: Inbox) -> None:
        self._bus = bus
        self._session_id = session_id
        self._channel = session_channel(session_id)
        self._inbox = inbox

    async def __aenter__(self) -> Inbox:
        self._bus._local[self._session_id] = self._inbox
        try:
            await self._bus._hub.subscribe(self._channel, Channel(self._receive))
        except ChannelUnavailable:
            del self._bus._local[self._session_id]
            raise BusUnavailable from None
        return self._inbox

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        del self._bus._local[self._session_id]
        self._inbox.close()
        await self._bus._hub.unsubscribe(self._channel)

    def _receive(self, data: bytes) -> None:
        try:
            self._inbox.put_nowait(orjson.loads(data))
        except orjson.JSONDecodeError:
            # Only gateways publish here, always JSON; anything else is not a message for this stream.
            logger.warning("dropped a non-JSON message published for a legacy SSE stream")
        except ClosedInbox:
            return
        except FullInbox:
            logger.warning("a legacy SSE stream fell %d messages behind; closing it", self._bus._capacity)
            self._inbox.close()
