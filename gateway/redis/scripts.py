"""The Lua scripts, loaded once per process; redis-py reloads one after `NOSCRIPT` (a restarted
or failed-over Redis forgets its script cache), so callers never see that.

Each script is atomic on the server, which is what makes "exactly one redemption wins" hold across
machines. The wrappers give the untyped replies types, and the key names live here only.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final, TypeAlias

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from oauth.store import RefreshOutcome, Rotation

Arg: TypeAlias = str | int
REVOCATIONS_CHANNEL: Final = "oauth:revocations"
REVOCATION_INDEX: Final = "oauth:rv:index"
CONNECTIONS_PREFIX: Final = "conn:key:"
CONNECTED_KEYS: Final = "conn:keys"


def _family_keys(family: str) -> tuple[str, str, str]:
    """The code marker, rotation state and ban of one sign-in; the braces keep them in one slot."""
    return f"oauth:{{{family}}}:code", f"oauth:{{{family}}}:rt", f"oauth:{{{family}}}:rv"


def _source(name: str) -> str:
    folder = files("gateway.redis") / "scripts"
    return (folder / "prelude.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()


class Scripts:
    """The gateway's scripts, registered on one client."""

    def __init__(self, client: Redis) -> None:
        self._redeem: AsyncScript = client.register_script(_source("redeem_code"))
        self._rotate: AsyncScript = client.register_script(_source("rotate_refresh"))
        self._revoke: AsyncScript = client.register_script(_source("revoke"))
        self._pace: AsyncScript = client.register_script(_source("pace"))
        self._spend: AsyncScript = client.register_script(_source("spend_once"))
        self._connect: AsyncScript = client.register_script(_source("connection_add"))
        self._touch: AsyncScript = client.register_script(_source("connection_touch"))

    async def redeem_code(self, family: str, nonce: str, code_ttl_ms: int, family_ttl_ms: int) -> bool:
        """True when this redemption (or a retry of it with the same `nonce`) may mint tokens."""
        code, state, ban = _family_keys(family)
        keys = [code, state, ban, REVOCATION_INDEX]
        args: list[Arg] = [nonce, code_ttl_ms, family_ttl_ms, family, REVOCATIONS_CHANNEL]
        return int(await self._redeem(keys=keys, args=args)) == 1

    async def rotate_refresh(
        self, family: str, generation: int, grace_ms: int, family_ttl_ms: int
    ) -> Rotation:
        _, state, ban = _family_keys(family)
        keys = [state, ban, REVOCATION_INDEX]
        args: list[Arg] = [generation, grace_ms, family_ttl_ms, family, REVOCATIONS_CHANNEL]
        outcome, minted = await self._rotate(keys=keys, args=args)
        return Rotation(
            RefreshOutcome(outcome.decode() if isinstance(outcome, bytes) else outcome), int(minted)
        )

    async def revoke_family(self, family: str, ttl_ms: int) -> None:
        _, state, ban = _family_keys(family)
        await self._revoke(keys=[REVOCATION_INDEX, ban, state], args=[family, ttl_ms, REVOCATIONS_CHANNEL])

    async def revoke_token(self, jti: str, ttl_ms: int) -> None:
        await self._revoke(keys=[REVOCATION_INDEX], args=[jti, ttl_ms, REVOCATIONS_CHANNEL])

    async def spend_once(self, name: str, nonce: str, ttl_ms: int) -> bool:
        """True when `name` was not spent before, or was spent by this very call (same `nonce`)."""
        return int(await self._spend(keys=[f"once:{{{name}}}"], args=[nonce, ttl_ms])) == 1

    async def pace(self, key_id: str, interval_ms: int, max_wait_ms: int) -> int:
        """Milliseconds to wait for the reserved slot, or -1 when the wait would exceed `max_wait_ms`."""
        return int(await self._pace(keys=[f"pace:{key_id}"], args=[interval_ms, max_wait_ms]))

    async def add_connection(
        self, digest: str, family: str, facts: str, expires_ms: int, per_key: int, keys: int
    ) -> None:
        """Index a sign-in's `facts` (JSON) under `digest`; see connection_add.lua for the bounds."""
        await self._connect(
            keys=[connections_key(digest), CONNECTED_KEYS],
            args=[family, facts, expires_ms, per_key, keys, digest, CONNECTIONS_PREFIX],
        )

    async def touch_connection(self, digest: str, family: str, at_seconds: int) -> None:
        await self._touch(keys=[connections_key(digest)], args=[family, at_seconds])


def connections_key(digest: str) -> str:
    """The hash of one key's sign-ins."""
    return f"{CONNECTIONS_PREFIX}{digest}"
