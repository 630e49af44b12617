"""`oauth.activity.ActivityLog` on Redis: one stream per key digest, capped and expiring.

`XADD … MAXLEN 100` keeps a key's last 100 writes, `XTRIM MINID` drops those older than 30 days,
and the stream itself expires 30 days after its last write, so an idle key leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final, cast

from redis.asyncio import Redis

from gateway.redis.connection import UNAVAILABLE
from oauth.activity import ENTRY_SECONDS, MAX_ENTRIES_PER_KEY, Entry
from oauth.store import StoreUnavailable

ACTIVITY_PREFIX: Final = "act:"
_FIELD: Final = b"e"


class RedisActivity:
    """The shared activity log."""

    def __init__(self, client: Redis, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock

    async def append(self, entries: Sequence[tuple[str, Entry]]) -> None:
        oldest_ms = int((self._clock() - ENTRY_SECONDS) * 1000)
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for digest, entry in entries:
                    key = f"{ACTIVITY_PREFIX}{digest}"
                    pipe.xadd(
                        key, {_FIELD: entry.model_dump_json()}, maxlen=MAX_ENTRIES_PER_KEY, approximate=False
                    )
                    pipe.xtrim(key, minid=oldest_ms, approximate=False)
                    pipe.expire(key, ENTRY_SECONDS)
                await pipe.execute()
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc

    async def recent(self, digest: str) -> list[Entry]:
        try:
            replied = await self._client.xrevrange(f"{ACTIVITY_PREFIX}{digest}", count=MAX_ENTRIES_PER_KEY)
        except UNAVAILABLE as exc:
            raise StoreUnavailable("Redis is unreachable") from exc
        oldest = self._clock() - ENTRY_SECONDS
        # RESP2 without decode_responses: (id, {field: value}) pairs of bytes.
        rows = cast(list[tuple[bytes, dict[bytes, bytes]]], replied)
        entries = [Entry.model_validate_json(fields[_FIELD]) for _, fields in rows if _FIELD in fields]
        return [entry for entry in entries if entry.at > oldest]
