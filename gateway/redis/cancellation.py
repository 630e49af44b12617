"""`notifications/cancelled` reaches the machine running the call.

On Streamable HTTP before 2026-07-28 a client may send the cancellation in a POST that lands on
another machine than the call's. A cancellation not found here is PUBLISHed on one channel every
machine subscribes to, carrying the namespace's digest and the request id; each machine cancels the
call if it runs it. Best effort, as the spec allows (a receiver MAY ignore a cancellation, and the
call may finish first): when Redis is unreachable the cancellation is dropped.

Each broadcast is sealed (`seals.ChannelSeal`), so a writer on Redis can neither cancel calls nor
replay a cancellation it saw, and the digest is keyed (`InFlightCalls`), so it cannot be computed
from the fingerprint the access log shows.
"""

from __future__ import annotations

import logging
from typing import Final

import orjson
from redis.asyncio import Redis

from gateway.keys import ServerKeys
from gateway.protocol.inflight import InFlightCalls
from gateway.protocol.jsonrpc import RequestId
from gateway.redis.connection import UNAVAILABLE
from gateway.redis.seals import ChannelSeal, RefusedMessage

logger = logging.getLogger(__name__)

CANCEL_CHANNEL: Final = "gw:cancel"
# A digest and a request id (at most `core.MAX_CANCELLED_ID_CHARS` characters, or an integer).
MAX_MESSAGE_BYTES: Final = 2048


class Cancellations:
    """The `Canceller` of several machines, and the handler of their broadcasts."""

    def __init__(self, inflight: InFlightCalls, publisher: Redis, keys: ServerKeys) -> None:
        self._inflight = inflight
        self._publisher = publisher
        self._seal = ChannelSeal(keys, "cancellation", MAX_MESSAGE_BYTES)

    async def cancel(self, namespace: str, request_id: RequestId) -> None:
        if self._inflight.cancel(namespace, request_id):
            return
        message = orjson.dumps({"ns": self._inflight.digest(namespace), "id": request_id})
        try:
            await self._publisher.publish(CANCEL_CHANNEL, self._seal.seal(CANCEL_CHANNEL, message))
        except UNAVAILABLE as exc:
            logger.info("a cancellation could not be broadcast (%s)", type(exc).__name__)

    def on_message(self, data: bytes) -> None:
        try:
            message = orjson.loads(self._seal.open(CANCEL_CHANNEL, data))
            digest, request_id = message["ns"], message["id"]
        except (RefusedMessage, orjson.JSONDecodeError, KeyError, TypeError):
            return
        if isinstance(digest, str) and isinstance(request_id, str | int) and not isinstance(request_id, bool):
            self._inflight.cancel_digest(digest, request_id)
