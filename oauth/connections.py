"""The sign-ins made with each API key: what the "Connected apps" page lists (issue 25).

A sealed token names its key, but nothing names a key's tokens: a person who connected two
assistants could not see them or take one back. The index maps a server-keyed digest of the key
(never the key, never a token) to the key's live families with their public facts only. An entry
lives as long as its family can, and the index is bounded per key (the oldest sign-in gives way)
and overall (the key written longest ago gives way), so it never grows with traffic.

`MemoryConnections` keeps it in this process; `gateway.redis.connections.RedisConnections` shares it
between machines. Every method may raise `StoreUnavailable`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict

from gateway.keys import ServerKeys
from tools.grant import Grant

MAX_CONNECTIONS_PER_KEY: Final = 50
MAX_INDEXED_KEYS: Final = 10_000
_DIGEST_PURPOSE: Final = "connections-index"


class Connection(BaseModel):
    """One sign-in's public facts. Times are epoch seconds; `last_used` is None until first noted.
    `grant` is what the person chose at consent (issue 23); None in entries indexed before it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    client_name: str
    redirect_host: str
    scopes: tuple[str, ...]
    granted_at: float
    expires_at: float
    last_used: float | None = None
    grant: Grant | None = None


class Use(NamedTuple):
    """A family seen in use at `at` (epoch seconds), under the key digest `digest`."""

    digest: str
    family: str
    at: float


def key_digest(keys: ServerKeys, api_key: str) -> str:
    """The index's name for a key: HMAC-SHA256 under a subkey of its own, so it matches no other digest."""
    subkey = keys.derive(_DIGEST_PURPOSE)[0]
    return hmac.new(subkey, api_key.encode(), hashlib.sha256).hexdigest()


class ConnectionIndex(Protocol):
    """The key digest → live sign-ins map. Every method raises `StoreUnavailable` when unreachable."""

    async def add(self, digest: str, connection: Connection) -> None:
        """Remember a new sign-in until its `expires_at`, evicting the key's oldest beyond the bound."""
        ...

    async def list(self, digest: str) -> list[Connection]:
        """The key's live sign-ins, newest first."""
        ...

    async def remove(self, digest: str, family: str) -> None:
        """Forget a sign-in; forgetting one already gone does nothing."""
        ...

    async def touch(self, uses: Sequence[Use]) -> None:
        """Note when each listed sign-in was last used; one no longer indexed is not added back."""
        ...


def newest_first(connections: Sequence[Connection], now: float) -> list[Connection]:
    """The live ones among `connections`, newest grant first."""
    live = [connection for connection in connections if connection.expires_at > now]
    return sorted(live, key=lambda connection: connection.granted_at, reverse=True)


class MemoryConnections:
    """`ConnectionIndex` in this process's memory, for one machine."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        per_key: int = MAX_CONNECTIONS_PER_KEY,
        keys: int = MAX_INDEXED_KEYS,
    ) -> None:
        self._clock = clock
        self._per_key = per_key
        self._max_keys = keys
        # digest -> family -> connection; the digest written longest ago comes first.
        self._index: dict[str, dict[str, Connection]] = {}

    def __len__(self) -> int:
        """How many sign-ins are held, expired or not (for the soak scenario)."""
        return sum(len(families) for families in self._index.values())

    async def add(self, digest: str, connection: Connection) -> None:
        now = self._clock()
        families = {
            family: held
            for family, held in self._index.pop(digest, {}).items()
            if held.expires_at > now and family != connection.family
        }
        for oldest in sorted(families.values(), key=lambda held: held.granted_at)[
            : max(0, len(families) - self._per_key + 1)
        ]:
            del families[oldest.family]
        families[connection.family] = connection
        self._index[digest] = families
        while len(self._index) > self._max_keys:
            del self._index[next(iter(self._index))]

    async def list(self, digest: str) -> list[Connection]:
        return newest_first(list(self._index.get(digest, {}).values()), self._clock())

    async def remove(self, digest: str, family: str) -> None:
        families = self._index.get(digest)
        if families is not None:
            families.pop(family, None)
            if not families:
                del self._index[digest]

    async def touch(self, uses: Sequence[Use]) -> None:
        for use in uses:
            held = self._index.get(use.digest, {}).get(use.family)
            if held is not None:
                self._index[use.digest][use.family] = held.model_copy(
                    update={"last_used": float(int(use.at))}
                )
