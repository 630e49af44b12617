"""`oauth.connections.ConnectionIndex` on Redis: every machine lists and disconnects the same sign-ins.

One hash per key digest (`e:<family>` the facts as JSON, `u:<family>` when last used), living as long
as its latest family; adding is one Lua script, so the bounds hold whichever machine adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import cast

from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from gateway.redis.scripts import Scripts, connections_key
from oauth.connections import MAX_CONNECTIONS_PER_KEY, MAX_INDEXED_KEYS, Connection, Use, newest_first
from oauth.store import StoreUnavailable


class RedisConnections:
    """The shared connection index."""

    def __init__(
        self,
        client: Redis,
        scripts: Scripts,
        clock: Callable[[], float] = time.time,
        per_key: int = MAX_CONNECTIONS_PER_KEY,
        keys: int = MAX_INDEXED_KEYS,
    ) -> None:
        self._client = client
        self._scripts = scripts
        self._clock = clock
        self._per_key = per_key
        self._keys = keys

    async def add(self, digest: str, connection: Connection) -> None:
        facts = connection.model_dump_json(exclude={"last_used"})
        expires_ms = int(connection.expires_at * 1000)
        try:
            await self._scripts.add_connection(
                digest, connection.family, facts, expires_ms, self._per_key, self._keys
            )
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc

    async def list(self, digest: str) -> list[Connection]:
        try:
            replied = await self._client.hgetall(connections_key(digest))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        # RESP2 without decode_responses: every field and value is bytes.
        fields = cast(dict[bytes, bytes], replied)
        held = []
        for name, value in fields.items():
            if name.startswith(b"e:"):
                used = fields.get(b"u:" + name[2:])
                connection = Connection.model_validate_json(value)
                if used is not None:
                    connection = connection.model_copy(update={"last_used": float(used)})
                held.append(connection)
        return newest_first(held, self._clock())

    async def remove(self, digest: str, family: str) -> None:
        try:
            await self._client.hdel(connections_key(digest), f"e:{family}", f"u:{family}")
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc

    async def touch(self, uses: Sequence[Use]) -> None:
        try:
            for use in uses:
                await self._scripts.touch_connection(use.digest, use.family, int(use.at))
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
