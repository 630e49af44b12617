"""`notifications/cancelled` reaches the machine running the call.

On Streamable HTTP before 2026-07-28 a client may send the cancellation in a POST that lands on
another machine than the call's. A cancellation not found here is PUBLISHed on one channel every
machine subscribes to, carrying the namespace's digest and the request id; each machine cancels the
call if it runs it. Best effort, as the spec allows (a receiver MAY ignore a cancellation, and the
call may finish first): when Redis is unreachable the cancellation is dropped.
"""

from __future__ import annotations

import logging
from typing import Final

import orjson
from redis.asyncio import Redis

from gateway.protocol.inflight import InFlightCalls, namespace_digest
from gateway.protocol.jsonrpc import RequestId
from gateway.redis.connection import UNAVAILABLE

logger = logging.getLogger(__name__)

CANCEL_CHANNEL: Final = "gw:cancel"


class Cancellations:
    """The `Canceller` of several machines, and the handler of their broadcasts."""

    def __init__(self, inflight: InFlightCalls, publisher: Redis) -> None:
        self._inflight = inflight
        self._publisher = publisher

    async def cancel(self, namespace: str, request_id: RequestId) -> None:
        if self._inflight.cancel(namespace, request_id):
            return
        message = orjson.dumps({"ns": namespace_digest(namespace), "id": request_id})
        try:
            await self._publisher.publish(CANCEL_CHANNEL, message)
        except UNAVAILABLE as exc:
            logger.info("a cancellation could not be broadcast (%s)", type(exc).__name__)

    def on_message(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
            digest, request_id = message["ns"], message["id"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return
        if isinstance(digest, str) and isinstance(request_id, str | int) and not isinstance(request_id, bool):
            self._inflight.cancel_digest(digest, request_id)
