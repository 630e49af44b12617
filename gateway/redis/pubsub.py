"""A subscriber connection, read by one task that hands each message to its channel's handler.

Redis delivers a channel's messages in publish order and at most once. redis-py re-subscribes every
channel after a reconnect, and each (re)subscription is confirmed by a `subscribe` message: the
reader passes those to the channel's `on_subscribed`, which is how the revocation mirror knows it
may have missed messages and must read the index again. A handler must not block: it runs on the
reader, and a slow reader makes Redis drop the whole connection (`client-output-buffer-limit pubsub`).

redis-py replaces a dropped connection inside `get_message`, without raising: a permanent channel
confirmed a second time on a connection that never failed is how that shows, and it is logged as a
warning (whatever was published meanwhile was lost). Each process keeps two hubs (`wiring`), so the
channels every machine needs are never on the connection the legacy sessions' traffic can fill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from gateway.redis.connection import UNAVAILABLE

logger = logging.getLogger(__name__)

READ_SECONDS: Final = 1.0
# A stream's endpoint event waits for its subscription at most this long (else 503).
CONFIRM_SECONDS: Final = 1.0
_BACKOFF_SECONDS: Final = (0.05, 1.0)
_STOP_POLL_SECONDS: Final = 0.1

Handler = Callable[[bytes], None]


class ChannelUnavailable(Exception):
    """Raised when a channel cannot be subscribed now (Redis unreachable or too slow to confirm)."""


@dataclass(frozen=True, slots=True)
class Channel:
    """A subscription's callbacks: each message's data, and each (re)subscription confirmed."""

    on_message: Handler
    on_subscribed: Callable[[], None] | None = None


class PubSubHub:
    """The process's subscriptions: a few permanent channels, and any number of temporary ones."""

    def __init__(self, client: Redis, permanent: dict[str, Channel], name: str = "subscriber") -> None:
        self._pubsub: PubSub = client.pubsub()
        self._name = name
        self._permanent = permanent
        # The permanent channels confirmed on the current connection.
        self._confirmed: set[str] = set()
        self._channels: dict[str, Channel] = dict(permanent)
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._connected = False
        self._closing = False
        self._reader: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Whether the subscriber connection is up (its permanent channels confirmed since it last failed)."""
        return self._connected

    def start(self) -> None:
        """Start the reader; it connects, and reconnects, by itself."""
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def aclose(self) -> None:
        self._closing = True
        if self._reader is not None:
            await stop(self._reader)
        await self._pubsub.aclose()

    async def subscribe(self, channel: str, subscription: Channel) -> None:
        """Subscribe `channel` and return once Redis confirmed it, so a message published from now on
        reaches it. Raises ChannelUnavailable."""
        if not self._connected:
            raise ChannelUnavailable(channel)
        self._channels[channel] = subscription
        confirmed = self._confirmations[channel] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(CONFIRM_SECONDS):
                await self._pubsub.subscribe(channel)
                await confirmed
        except (TimeoutError, *UNAVAILABLE) as exc:
            await self.unsubscribe(channel)
            raise ChannelUnavailable(channel) from exc
        finally:
            self._confirmations.pop(channel, None)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering `channel` here, and keep a reconnect from subscribing it again."""
        self._channels.pop(channel, None)
        # redis-py re-subscribes what is in `channels` after a reconnect: drop it now, not on the reply.
        self._pubsub.channels.pop(channel.encode(), None)
        if not self._connected:
            return
        try:
            async with asyncio.timeout(CONFIRM_SECONDS):
                await self._pubsub.unsubscribe(channel)
        except (TimeoutError, *UNAVAILABLE):
            logger.info("could not unsubscribe a channel; Redis drops it with the connection")

    async def _read(self) -> None:
        backoff = _BACKOFF_SECONDS[0]
        while not self._closing:
            try:
                if self._pubsub.connection is None:
                    await self._pubsub.subscribe(*self._permanent)
                message = await self._pubsub.get_message(timeout=READ_SECONDS)
            except UNAVAILABLE as exc:
                if self._connected:
                    logger.warning(
                        "Redis %s connection lost (%s); reconnecting", self._name, type(exc).__name__
                    )
                self._connected = False
                self._confirmed.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_SECONDS[1])
                continue
            backoff = _BACKOFF_SECONDS[0]
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
        subscription = self._channels.get(channel)
        if kind == "message":
            if subscription is not None:
                subscription.on_message(message["data"])
            return
        if kind != "subscribe":
            return
        if channel in self._permanent:
            self._note_permanent(channel)
        confirmed = self._confirmations.get(channel)
        if confirmed is not None and not confirmed.done():
            confirmed.set_result(None)
        if subscription is not None and subscription.on_subscribed is not None:
            subscription.on_subscribed()

    def _note_permanent(self, channel: str) -> None:
        if channel in self._confirmed:
            self._confirmed.clear()
            logger.warning(
                "Redis dropped the %s connection and redis-py replaced it: its channels are subscribed "
                "again, and messages published meanwhile were lost",
                self._name,
            )
        self._confirmed.add(channel)
        if not self._connected:
            self._connected = True
            logger.info("Redis %s connected", self._name)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait until it has ended.

    Cancelled again until it ends: redis-py reads under a timeout, and on Python 3.11 a cancellation
    that lands as that timeout expires can be taken for the timeout and lost: seen in the tests.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=_STOP_POLL_SECONDS)
