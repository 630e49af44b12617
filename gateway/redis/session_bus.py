"""`gateway.session_bus.SessionBus` on Redis pub/sub: a legacy-SSE POST on any machine reaches the
machine holding the stream.

Each live session has a channel (`sse:` and a hash of its id, so the signed id itself never reaches
Redis) that only its stream's machine subscribes to, before the stream announces its endpoint. A POST
is PUBLISHed once, never retried (a repeat would run a tool call twice): one receiver means the
owner's connection took it (202), none means no live stream (404), an error means Redis cannot be
reached (503). Redis keeps a channel's messages in publish order, so one session's messages keep
theirs, including those posted to the owner itself. Only while this machine's subscriber connection
is down does a POST for one of its own streams skip Redis, so local streams keep working.

Backpressure crosses machines through Redis, because only Redis sees both sides at once: each
session has a count of the messages it holds (queued on its stream's machine, or being answered
there). The delivery script publishes only while the count is under INBOX_CAPACITY and adds one;
the stream's machine takes one off as each message is answered. A POST to a full session is refused
(429) on whichever machine it lands, in the same atomic step that would otherwise have published it,
so a 202 still means "delivered once" and never "queued behind work the stream is not draining".
An answer from the owner (a reply channel) would cost every POST a second round trip, and a flag
the owner raises when full would let through whatever was published before it landed.

The owner's reader never waits: a stream whose inbox still overflows (a count lost with Redis, or
expired after HELD_TTL_SECONDS without a new message) is closed (its client reconnects) rather than
stall every other stream of the machine.

Redis is not trusted with the messages: each is sealed for its channel (`seals.ChannelSeal`), so a
reader of Redis sees no body and a writer cannot inject, redirect or replay one. What reaches the
subscriber connection is bounded before it is published, so one client cannot make Redis drop the
connection every stream of a machine shares: a message is at most MAX_MESSAGE_BYTES (else 413) and a
session has a byte budget (`send_budget`, else 429 with `Retry-After`).
"""

from __future__ import annotations

import hashlib
import logging
from types import TracebackType
from typing import Any, Final

import orjson
from redis.asyncio import Redis

from gateway.errors import HTTPError
from gateway.keys import ServerKeys
from gateway.redis.connection import UNAVAILABLE
from gateway.redis.pubsub import Channel, ChannelUnavailable, PubSubHub
from gateway.redis.scripts import SessionScripts
from gateway.redis.seals import ChannelSeal, RefusedMessage
from gateway.redis.send_budget import SendBudget
from gateway.transports.session_bus import (
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
# A session's held count outlives its last accepted message by this long, so a count that lost its
# decrements (Redis unreachable meanwhile, or the stream's machine gone) mends itself.
HELD_TTL_SECONDS: Final = 60
# The largest message (a POST's JSON) the bus carries: a legacy tools/call is a few KiB, a batch of
# 32 of them well under this. Sealed, it is a third larger on Redis.
MAX_MESSAGE_BYTES: Final = 256 * 1024


def session_channel(session_id: str) -> str:
    return "sse:" + hashlib.sha256(session_id.encode()).hexdigest()[:_CHANNEL_HEX_CHARS]


def held_key(channel: str) -> str:
    """The Redis key counting what a session holds (see the module docstring)."""
    return channel + ":held"


class RedisSessionBus:
    """Delivers legacy-SSE messages to whichever machine holds the stream."""

    def __init__(
        self,
        hub: PubSubHub,
        publisher: Redis,
        keys: ServerKeys,
        capacity: int = INBOX_CAPACITY,
        budget: SendBudget | None = None,
    ) -> None:
        self._hub = hub
        self._scripts = SessionScripts(publisher)
        self._seal = ChannelSeal(keys, "legacy-session", MAX_MESSAGE_BYTES)
        self._capacity = capacity
        self._budget = budget or SendBudget()
        self._local: dict[str, Inbox] = {}

    def subscribe(self, session_id: str) -> _Subscribed:
        channel = session_channel(session_id)
        return _Subscribed(self, session_id, _CountedInbox(self._scripts, held_key(channel), self._capacity))

    async def deliver(self, session_id: str, message: Any) -> Delivery:
        """Publish `message` once for the session's stream. Raises HTTPError 413 when it is larger
        than MAX_MESSAGE_BYTES, 429 when the session is over its budget; nothing is sent then."""
        encoded = orjson.dumps(message)
        if len(encoded) > MAX_MESSAGE_BYTES:
            raise HTTPError(
                413, f"A message to a legacy SSE session must be at most {MAX_MESSAGE_BYTES} bytes."
            )
        wait = self._budget.spend(session_id, len(encoded))
        if wait:
            raise HTTPError(
                429,
                "This session is sending faster than it may; slow down.",
                {"retry-after": str(wait)},
                error="too_many_requests",
            )
        local = self._local.get(session_id)
        if local is not None and not self._hub.connected:
            return deliver_locally(local, message)
        channel = session_channel(session_id)
        try:
            receivers = await self._scripts.deliver(
                held_key(channel),
                channel,
                self._seal.seal(channel, encoded),
                self._capacity,
                HELD_TTL_SECONDS * 1000,
            )
        except UNAVAILABLE:
            return Delivery.UNAVAILABLE
        if receivers < 0:
            return Delivery.BUSY
        return Delivery.DELIVERED if receivers else Delivery.GONE

    def __len__(self) -> int:
        return len(self._local)


class _Subscribed:
    """One live session: its inbox, registered here and subscribed on Redis while the stream lasts."""

    __slots__ = ("_bus", "_channel", "_inbox", "_session_id")

    def __init__(self, bus: RedisSessionBus, session_id: str, inbox: _CountedInbox) -> None:
        self._bus = bus
        self._session_id = session_id
        self._channel = session_channel(session_id)
        self._inbox = inbox

    async def __aenter__(self) -> _CountedInbox:
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
        await self._inbox.forget()

    def _receive(self, data: bytes) -> None:
        try:
            self._inbox.put_nowait(orjson.loads(self._bus._seal.open(self._channel, data)))
        except RefusedMessage:
            return
        except ClosedInbox:
            return
        except FullInbox:
            logger.warning("a legacy SSE stream fell %d messages behind; closing it", self._bus._capacity)
            self._inbox.close()


class _CountedInbox(Inbox):
    """An inbox whose held count is also kept on Redis, where every machine's deliveries check it."""

    __slots__ = ("_held_key", "_scripts")

    def __init__(self, scripts: SessionScripts, held: str, capacity: int) -> None:
        super().__init__(capacity)
        self._scripts = scripts
        self._held_key = held

    async def done(self) -> None:
        await super().done()
        try:
            await self._scripts.settle(self._held_key)
        except UNAVAILABLE:
            logger.debug("a legacy SSE session's held count was not lowered: Redis is unreachable")

    async def forget(self) -> None:
        """The stream ended: its count goes, so a POST to it is answered 404, not 429."""
        try:
            await self._scripts.forget(self._held_key)
        except UNAVAILABLE:
            logger.debug("a legacy SSE session's held count is left to expire: Redis is unreachable")
