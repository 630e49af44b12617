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

from gateway.redis.seals import RevocationTags
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
    """The gateway's scripts, registered on one client; revocation members carry `tags`' MAC."""

    def __init__(self, client: Redis, tags: RevocationTags) -> None:
        self._tags = tags
        self._redeem: AsyncScript = client.register_script(_source("redeem_code"))
        self._rotate: AsyncScript = client.register_script(_source("rotate_refresh"))
        self._revoke: AsyncScript = client.register_script(_source("revoke"))
        self._pace: AsyncScript = client.register_script(_source("pace"))
        self._spend: AsyncScript = client.register_script(_source("spend_once"))
        self._settle: AsyncScript = client.register_script(_source("settle_pending"))
        self._delete_if: AsyncScript = client.register_script(_source("delete_if"))
        self._reserve: AsyncScript = client.register_script(_source("reserve_allowance"))
        self._count: AsyncScript = client.register_script(_source("count_allowance"))
        self._client = client
        self._connect: AsyncScript = client.register_script(_source("connection_add"))
        self._touch: AsyncScript = client.register_script(_source("connection_touch"))

    async def redeem_code(self, family: str, nonce: str, code_ttl_ms: int, family_ttl_ms: int) -> bool:
        """True when this redemption (or a retry of it with the same `nonce`) may mint tokens."""
        code, state, ban = _family_keys(family)
        keys = [code, state, ban, REVOCATION_INDEX]
        member = self._tags.tag(f"f:{family}")
        args: list[Arg] = [nonce, code_ttl_ms, family_ttl_ms, member, REVOCATIONS_CHANNEL]
        return int(await self._redeem(keys=keys, args=args)) == 1

    async def rotate_refresh(
        self, family: str, generation: int, grace_ms: int, family_ttl_ms: int
    ) -> Rotation:
        _, state, ban = _family_keys(family)
        keys = [state, ban, REVOCATION_INDEX]
        member = self._tags.tag(f"f:{family}")
        args: list[Arg] = [generation, grace_ms, family_ttl_ms, member, REVOCATIONS_CHANNEL]
        outcome, minted = await self._rotate(keys=keys, args=args)
        return Rotation(
            RefreshOutcome(outcome.decode() if isinstance(outcome, bytes) else outcome), int(minted)
        )

    async def revoke_family(self, family: str, ttl_ms: int) -> None:
        _, state, ban = _family_keys(family)
        member = self._tags.tag(f"f:{family}")
        await self._revoke(keys=[REVOCATION_INDEX, ban, state], args=[member, ttl_ms, REVOCATIONS_CHANNEL])

    async def revoke_token(self, jti: str, ttl_ms: int) -> None:
        member = self._tags.tag(f"t:{jti}")
        await self._revoke(keys=[REVOCATION_INDEX], args=[member, ttl_ms, REVOCATIONS_CHANNEL])

    async def spend_once(self, name: str, nonce: str, ttl_ms: int) -> bool:
        """True when `name` was not spent before, or was spent by this very call (same `nonce`)."""
        return int(await self._spend(keys=[f"once:{{{name}}}"], args=[nonce, ttl_ms])) == 1

    async def settle_pending(self, record_key: str, grant_id: str, status: str) -> tuple[str, bytes | None]:
        """("ok", the sealed record) when this call settled the pending send, else (the reason, None)."""
        reply = await self._settle(keys=[record_key], args=[grant_id, status])
        reason = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        return reason, reply[1] if len(reply) > 1 else None

    async def delete_if(self, key: str, value: str) -> None:
        """Delete `key` only while it holds `value`."""
        await self._delete_if(keys=[key], args=[value])

    async def pace(self, key_id: str, interval_ms: int, max_wait_ms: int) -> int:
        """Milliseconds to wait for the reserved slot, or -1 when the wait would exceed `max_wait_ms`."""
        return int(await self._pace(keys=[f"pace:{key_id}"], args=[interval_ms, max_wait_ms]))

    async def reserve_allowance(
        self, grant_key: str, reservation_id: str, count: int, limit: int, window_ms: int
    ) -> tuple[bool, int, int]:
        """(granted, remaining, ms): see `scripts/reserve_allowance.lua`."""
        granted, remaining, when = await self._reserve(
            keys=[_allowance_key(grant_key)], args=[reservation_id, count, limit, window_ms]
        )
        return int(granted) == 1, int(remaining), int(when)

    async def count_allowance(self, grant_key: str, window_ms: int) -> int:
        """The entries of the grant's window on Redis's clock; see `scripts/count_allowance.lua`."""
        return int(await self._count(keys=[_allowance_key(grant_key)], args=[window_ms]))

    async def refund_allowance(self, grant_key: str, members: list[str]) -> None:
        """Drop reserved entries; one ZREM is atomic, and dropping one twice drops nothing more."""
        await self._client.zrem(_allowance_key(grant_key), *members)

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


def _allowance_key(grant_key: str) -> str:
    return f"allow:{{{grant_key}}}"


class SessionScripts:
    """The legacy-SSE delivery scripts, on the publisher: never retried, as a repeated PUBLISH would
    run a tool call twice (a `NOSCRIPT` reply ran nothing, so redis-py's reload is safe)."""

    def __init__(self, publisher: Redis) -> None:
        self._deliver: AsyncScript = publisher.register_script(_source("deliver"))
        self._settle: AsyncScript = publisher.register_script(_source("settle"))
        self._publisher = publisher

    async def deliver(self, held: str, channel: str, message: bytes, limit: int, ttl_ms: int) -> int:
        """The receivers of `message` on `channel`, or -1 (nothing published) when `held` is at `limit`."""
        return int(await self._deliver(keys=[held], args=[channel, message, limit, ttl_ms]))

    async def settle(self, held: str) -> None:
        await self._settle(keys=[held])

    async def forget(self, held: str) -> None:
        await self._publisher.delete(held)
